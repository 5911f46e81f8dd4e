//! Tokenizer for the `--where` filter language.
//!
//! Owns the mapping from source text to a flat token list. Invariants: every
//! token carries the 0-based *character* position of its first character;
//! the list always ends with exactly one `Tok::Eof` whose position is the
//! character length of the source; the lexer never panics on any input.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::ParseError;

/// One lexical token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// `.` not immediately followed by an identifier or digit.
    Dot,
    /// `.name` (field access shorthand).
    Field(String),
    /// Identifier or keyword (`and`, `if`, `length`, ...).
    Ident(String),
    /// Numeric literal.
    Num(f64),
    /// String literal with escapes already decoded.
    Str(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Pipe,
    Comma,
    Colon,
    Semi,
    Question,
    /// `//`
    Alt,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Eof,
}

/// A token plus its 0-based character position in the source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

struct Lexer {
    chars: Vec<char>,
    i: usize,
}

fn err(pos: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        pos,
        message: message.into(),
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits `src` into tokens, ending with `Tok::Eof`.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let mut lx = Lexer {
        chars: src.chars().collect(),
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        lx.skip_space_and_comments();
        let pos = lx.i;
        let Some(c) = lx.peek(0) else {
            out.push(Token { tok: Tok::Eof, pos });
            return Ok(out);
        };
        let tok = lx.token(c)?;
        out.push(Token { tok, pos });
    }
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn skip_space_and_comments(&mut self) {
        while let Some(c) = self.peek(0) {
            if c.is_whitespace() {
                self.i += 1;
            } else if c == '#' {
                while let Some(c) = self.peek(0) {
                    if c == '\n' {
                        break;
                    }
                    self.i += 1;
                }
            } else {
                break;
            }
        }
    }

    fn ident(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek(0).filter(|c| is_ident_char(*c)) {
            s.push(c);
            self.i += 1;
        }
        s
    }

    fn token(&mut self, c: char) -> Result<Tok, ParseError> {
        let pos = self.i;
        let next = self.peek(1);
        let two = |t: Tok, lx: &mut Lexer| {
            lx.i += 2;
            Ok(t)
        };
        match (c, next) {
            ('"', _) => self.string(),
            ('.', Some(n)) if is_ident_start(n) => {
                self.i += 1;
                Ok(Tok::Field(self.ident()))
            }
            ('.', Some(n)) if n.is_ascii_digit() => self.number(),
            ('.', Some('.')) => Err(err(pos, "'..' (recursive descent) is not supported")),
            (d, _) if d.is_ascii_digit() => self.number(),
            (s, _) if is_ident_start(s) => Ok(Tok::Ident(self.ident())),
            ('/', Some('/')) if self.peek(2) == Some('=') => Err(assign(pos)),
            ('/', Some('/')) => two(Tok::Alt, self),
            ('=', Some('=')) => two(Tok::Eq, self),
            ('!', Some('=')) => two(Tok::Ne, self),
            ('<', Some('=')) => two(Tok::Le, self),
            ('>', Some('=')) => two(Tok::Ge, self),
            ('|' | '+' | '-' | '*' | '/' | '%', Some('=')) | ('=', _) => Err(assign(pos)),
            ('$', _) => Err(err(pos, "variables ('$name') are not supported")),
            ('@', _) => Err(err(pos, "format strings ('@name') are not supported")),
            _ => self.single(c),
        }
    }

    fn single(&mut self, c: char) -> Result<Tok, ParseError> {
        let tok = match c {
            '.' => Tok::Dot,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            '{' => Tok::LBrace,
            '}' => Tok::RBrace,
            '|' => Tok::Pipe,
            ',' => Tok::Comma,
            ':' => Tok::Colon,
            ';' => Tok::Semi,
            '?' => Tok::Question,
            '<' => Tok::Lt,
            '>' => Tok::Gt,
            '+' => Tok::Plus,
            '-' => Tok::Minus,
            '*' => Tok::Star,
            '/' => Tok::Slash,
            '%' => Tok::Percent,
            other => return Err(err(self.i, format!("unexpected character '{other}'"))),
        };
        self.i += 1;
        Ok(tok)
    }

    fn digits(&mut self, s: &mut String) -> usize {
        let mut n = 0;
        while let Some(d) = self.peek(0).filter(char::is_ascii_digit) {
            s.push(d);
            self.i += 1;
            n += 1;
        }
        n
    }

    /// `[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?` or `\.[0-9]+(...)?`.
    fn number(&mut self) -> Result<Tok, ParseError> {
        let pos = self.i;
        let mut s = String::new();
        self.digits(&mut s);
        if self.peek(0) == Some('.') {
            s.push('.');
            self.i += 1;
            self.digits(&mut s);
        }
        if matches!(self.peek(0), Some('e' | 'E')) {
            let sign = matches!(self.peek(1), Some('+' | '-'));
            let first_digit = self.peek(if sign { 2 } else { 1 });
            if first_digit.is_some_and(|d| d.is_ascii_digit()) {
                s.push('e');
                if sign {
                    s.extend(self.peek(1));
                }
                self.i += if sign { 2 } else { 1 };
                self.digits(&mut s);
            }
        }
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Tok::Num(v)),
            _ => Err(err(pos, "number literal out of range")),
        }
    }

    fn string(&mut self) -> Result<Tok, ParseError> {
        let start = self.i;
        self.i += 1;
        let mut s = String::new();
        loop {
            let Some(c) = self.peek(0) else {
                return Err(err(start, "unterminated string literal"));
            };
            self.i += 1;
            match c {
                '"' => return Ok(Tok::Str(s)),
                '\\' => self.escape(&mut s)?,
                other => s.push(other),
            }
        }
    }

    fn escape(&mut self, s: &mut String) -> Result<(), ParseError> {
        let pos = self.i - 1;
        let Some(c) = self.peek(0) else {
            return Err(err(pos, "unterminated string literal"));
        };
        self.i += 1;
        let decoded = match c {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => return self.unicode_escape(pos, s),
            '(' => return Err(err(pos, "string interpolation '\\(...)' is not supported")),
            other => return Err(err(pos, format!("invalid escape '\\{other}' in string"))),
        };
        s.push(decoded);
        Ok(())
    }

    fn hex4(&mut self, pos: usize) -> Result<u32, ParseError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = self
                .peek(0)
                .and_then(|c| c.to_digit(16))
                .ok_or_else(|| err(pos, "invalid \\u escape: expected 4 hex digits"))?;
            v = v * 16 + d;
            self.i += 1;
        }
        Ok(v)
    }

    fn unicode_escape(&mut self, pos: usize, s: &mut String) -> Result<(), ParseError> {
        let hi = self.hex4(pos)?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if self.peek(0) != Some('\\') || self.peek(1) != Some('u') {
                return Err(err(pos, "unpaired surrogate in \\u escape"));
            }
            self.i += 2;
            let lo = self.hex4(pos)?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(err(pos, "unpaired surrogate in \\u escape"));
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        let ch =
            char::from_u32(code).ok_or_else(|| err(pos, "unpaired surrogate in \\u escape"))?;
        s.push(ch);
        Ok(())
    }
}

fn assign(pos: usize) -> ParseError {
    err(
        pos,
        "assignment operators are not supported (use '==' to compare)",
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        lex(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_paths_numbers_and_operators() {
        assert_eq!(
            toks(".a.b[0] // .5 >= 1e3"),
            vec![
                Tok::Field("a".into()),
                Tok::Field("b".into()),
                Tok::LBracket,
                Tok::Num(0.0),
                Tok::RBracket,
                Tok::Alt,
                Tok::Num(0.5),
                Tok::Ge,
                Tok::Num(1000.0),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn positions_are_character_offsets() {
        let t = lex("\"é\" == .x").unwrap();
        assert_eq!(t[1].pos, 4);
        assert_eq!(t[2].pos, 7);
        assert_eq!(t[3].pos, 9);
    }

    #[test]
    fn decodes_json_escapes_and_surrogate_pairs() {
        assert_eq!(
            toks(r#""a\n\"\\\/\u00e9\ud83d\ude00""#)[0],
            Tok::Str("a\n\"\\/é😀".into())
        );
    }

    #[test]
    fn comments_are_skipped() {
        assert_eq!(toks(". # hi\n| 1").len(), 4);
    }

    #[test]
    fn rejects_unsupported_syntax_with_positions() {
        let cases = [
            ("..", 0),
            (". = 1", 2),
            ("$x", 0),
            ("\"\\(1)\"", 1),
            ("\"abc", 0),
            ("\"\\q\"", 1),
            ("1 ! 2", 2),
            ("\"\\ud800\"", 1),
            ("1e999", 0),
            (". |= 1", 2),
        ];
        for (src, pos) in cases {
            let e = lex(src).unwrap_err();
            assert_eq!(e.pos, pos, "{src}: {e}");
        }
    }

    #[test]
    fn number_exponent_requires_digits() {
        assert_eq!(toks("1e")[..2], [Tok::Num(1.0), Tok::Ident("e".into())]);
    }
}
