//! Recursive-descent parser from tokens to the syntax tree.
//!
//! Owns operator precedence (lowest to highest: `|`, `,`, `//`, `or`,
//! `and`, comparisons, `+ -`, `* / %`, unary minus, postfix) and the builtin
//! name/arity table. Invariants: recursion depth is bounded by
//! `FILTER_DEPTH_MAX` through `enter`/`leave`, every built node's height is
//! checked against the same limit, and no input makes the parser panic.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use serde_json::Value;

use super::ast::{BinOp, Kind, Node, ObjKey, Step};
use super::builtins::resolve_builtin;
use super::lexer::{lex, Tok, Token};
use super::ParseError;
use crate::limits::{FILTER_DEPTH_MAX, FILTER_SOURCE_BYTES_MAX};

type PResult<T> = Result<T, ParseError>;

struct Parser {
    toks: Vec<Token>,
    i: usize,
    nest: usize,
}

/// Parses a complete filter expression.
pub(crate) fn parse(src: &str) -> PResult<Node> {
    if src.len() > FILTER_SOURCE_BYTES_MAX {
        let pos = src
            .char_indices()
            .take_while(|(b, c)| b + c.len_utf8() <= FILTER_SOURCE_BYTES_MAX)
            .count();
        return Err(ParseError {
            pos,
            message: format!(
                "filter is {} bytes; the limit is {FILTER_SOURCE_BYTES_MAX}",
                src.len()
            ),
        });
    }
    let mut p = Parser {
        toks: lex(src)?,
        i: 0,
        nest: 0,
    };
    let node = p.pipe()?;
    if *p.peek() != Tok::Eof {
        return Err(p.unexpected());
    }
    Ok(node)
}

fn describe(tok: &Tok) -> String {
    let s = match tok {
        Tok::Dot => ".",
        Tok::Field(f) => return format!("'.{f}'"),
        Tok::Ident(i) => return format!("'{i}'"),
        Tok::Num(_) => "number",
        Tok::Str(_) => "string",
        Tok::LParen => "(",
        Tok::RParen => ")",
        Tok::LBracket => "[",
        Tok::RBracket => "]",
        Tok::LBrace => "{",
        Tok::RBrace => "}",
        Tok::Pipe => "|",
        Tok::Comma => ",",
        Tok::Colon => ":",
        Tok::Semi => ";",
        Tok::Question => "?",
        Tok::Alt => "//",
        Tok::Eq => "==",
        Tok::Ne => "!=",
        Tok::Lt => "<",
        Tok::Le => "<=",
        Tok::Gt => ">",
        Tok::Ge => ">=",
        Tok::Plus => "+",
        Tok::Minus => "-",
        Tok::Star => "*",
        Tok::Slash => "/",
        Tok::Percent => "%",
        Tok::Eof => return "end of input".to_string(),
    };
    format!("'{s}'")
}

fn cmp_op(tok: &Tok) -> Option<BinOp> {
    Some(match tok {
        Tok::Eq => BinOp::Eq,
        Tok::Ne => BinOp::Ne,
        Tok::Lt => BinOp::Lt,
        Tok::Le => BinOp::Le,
        Tok::Gt => BinOp::Gt,
        Tok::Ge => BinOp::Ge,
        _ => return None,
    })
}

/// Binary operator precedence, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Pipe,
    Comma,
    Alt,
    Or,
    And,
    Cmp,
    Add,
    Mul,
    Unary,
}

impl Prec {
    fn next(self) -> Prec {
        match self {
            Prec::Pipe => Prec::Comma,
            Prec::Comma => Prec::Alt,
            Prec::Alt => Prec::Or,
            Prec::Or => Prec::And,
            Prec::And => Prec::Cmp,
            Prec::Cmp => Prec::Add,
            Prec::Add => Prec::Mul,
            Prec::Mul | Prec::Unary => Prec::Unary,
        }
    }
}

fn prec_of(tok: &Tok) -> Option<Prec> {
    Some(match tok {
        Tok::Pipe => Prec::Pipe,
        Tok::Comma => Prec::Comma,
        Tok::Alt => Prec::Alt,
        Tok::Ident(k) if k == "or" => Prec::Or,
        Tok::Ident(k) if k == "and" => Prec::And,
        Tok::Plus | Tok::Minus => Prec::Add,
        Tok::Star | Tok::Slash | Tok::Percent => Prec::Mul,
        t if cmp_op(t).is_some() => Prec::Cmp,
        _ => return None,
    })
}

/// The value of a literal node (used for constant folding).
fn literal_of(node: &Node) -> Option<Value> {
    match node.kind.as_ref() {
        Kind::Literal(v) => Some(v.clone()),
        _ => None,
    }
}

/// Number literal as a JSON value (integral values become integers).
pub(crate) fn num_literal(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
        Value::from(v as i64)
    } else {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.i).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        self.toks.get(self.i + ahead).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn pos(&self) -> usize {
        self.toks
            .get(self.i)
            .or(self.toks.last())
            .map_or(0, |t| t.pos)
    }

    fn bump(&mut self) {
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
    }

    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            pos: self.pos(),
            message: message.into(),
        }
    }

    fn unexpected(&self) -> ParseError {
        self.err(format!("unexpected {}", describe(self.peek())))
    }

    fn expect(&mut self, tok: &Tok) -> PResult<()> {
        if self.peek() == tok {
            self.bump();
            Ok(())
        } else {
            Err(self.err(format!("expected {}", describe(tok))))
        }
    }

    fn expect_kw(&mut self, kw: &str) -> PResult<()> {
        if matches!(self.peek(), Tok::Ident(i) if i == kw) {
            self.bump();
            Ok(())
        } else {
            Err(self.err(format!("expected '{kw}'")))
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.nest += 1;
        if self.nest > FILTER_DEPTH_MAX {
            return Err(self.too_deep());
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nest = self.nest.saturating_sub(1);
    }

    fn too_deep(&self) -> ParseError {
        self.err(format!(
            "expression nested too deeply (limit {FILTER_DEPTH_MAX})"
        ))
    }

    fn mk(&self, kind: Kind) -> PResult<Node> {
        let node = Node::new(kind);
        if node.height > FILTER_DEPTH_MAX {
            return Err(self.too_deep());
        }
        Ok(node)
    }

    /// Builds a balanced tree for an associative operator (keeps order).
    fn balanced(&self, mut items: Vec<Node>, f: fn(Box<Node>, Box<Node>) -> Kind) -> PResult<Node> {
        if items.len() <= 1 {
            return items
                .pop()
                .ok_or_else(|| self.err("expected an expression"));
        }
        let right = items.split_off(items.len() / 2);
        let l = self.balanced(items, f)?;
        let r = self.balanced(right, f)?;
        self.mk(f(Box::new(l), Box::new(r)))
    }

    fn pipe(&mut self) -> PResult<Node> {
        self.expr(Prec::Pipe)
    }

    /// Object values: a pipe whose segments contain no top-level `,`.
    fn pipe_no_comma(&mut self) -> PResult<Node> {
        let mut segs = vec![self.expr(Prec::Alt)?];
        while *self.peek() == Tok::Pipe {
            self.bump();
            segs.push(self.expr(Prec::Alt)?);
        }
        self.balanced(segs, Kind::Pipe)
    }

    /// Precedence climbing over all binary operators. Each operator's whole
    /// chain is collected in a loop, so recursion only deepens for operands
    /// of strictly higher precedence.
    fn expr(&mut self, min: Prec) -> PResult<Node> {
        let mut lhs = self.unary()?;
        while let Some(prec) = prec_of(self.peek()) {
            if prec < min {
                break;
            }
            lhs = match prec {
                Prec::Cmp => self.comparison(lhs)?,
                Prec::Add | Prec::Mul => self.left_assoc(prec, lhs)?,
                _ => self.chain(prec, lhs)?,
            };
        }
        Ok(lhs)
    }

    /// Collects `lhs op x op y ...` for an associative/flattened operator.
    fn chain(&mut self, prec: Prec, lhs: Node) -> PResult<Node> {
        let mut items = vec![lhs];
        while prec_of(self.peek()) == Some(prec) {
            self.bump();
            items.push(self.expr(prec.next())?);
        }
        match prec {
            Prec::Pipe => self.balanced(items, Kind::Pipe),
            Prec::Or => self.balanced(items, Kind::Or),
            Prec::And => self.balanced(items, Kind::And),
            Prec::Comma => self.mk(Kind::Comma(items)),
            _ => self.mk(Kind::Alt(items)),
        }
    }

    fn comparison(&mut self, lhs: Node) -> PResult<Node> {
        let op = cmp_op(self.peek()).ok_or_else(|| self.unexpected())?;
        self.bump();
        let rhs = self.expr(Prec::Add)?;
        if cmp_op(self.peek()).is_some() {
            return Err(self.err("comparison operators cannot be chained; use parentheses"));
        }
        self.mk(Kind::Binary(op, Box::new(lhs), Box::new(rhs)))
    }

    fn left_assoc(&mut self, prec: Prec, mut lhs: Node) -> PResult<Node> {
        while prec_of(self.peek()) == Some(prec) {
            let op = match self.peek() {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                _ => BinOp::Mod,
            };
            self.bump();
            let rhs = self.expr(prec.next())?;
            lhs = self.mk(Kind::Binary(op, Box::new(lhs), Box::new(rhs)))?;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult<Node> {
        if *self.peek() != Tok::Minus {
            return self.postfix();
        }
        self.bump();
        self.enter()?;
        let operand = self.unary()?;
        self.leave();
        if let Kind::Literal(Value::Number(n)) = operand.kind.as_ref() {
            if let Some(v) = n.as_f64() {
                return Ok(Node::leaf(Kind::Literal(num_literal(-v))));
            }
        }
        self.mk(Kind::Neg(Box::new(operand)))
    }

    fn postfix(&mut self) -> PResult<Node> {
        let mut base = self.primary()?;
        let mut steps = Vec::new();
        loop {
            match (self.peek().clone(), self.peek_at(1).clone()) {
                (Tok::Field(name), _) | (Tok::Dot, Tok::Str(name)) => {
                    if *self.peek() == Tok::Dot {
                        self.bump();
                    }
                    self.bump();
                    steps.push(Step::Field(name));
                }
                (Tok::Dot, Tok::LBracket) => self.bump(),
                (Tok::LBracket, _) => steps.push(self.bracket_step()?),
                (Tok::Question, _) => {
                    self.bump();
                    while *self.peek() == Tok::Question {
                        self.bump();
                    }
                    let inner = self.finish_path(base, std::mem::take(&mut steps))?;
                    base = self.mk(Kind::Try(Box::new(inner)))?;
                }
                _ => return self.finish_path(base, steps),
            }
        }
    }

    fn finish_path(&self, base: Node, steps: Vec<Step>) -> PResult<Node> {
        if steps.is_empty() {
            return Ok(base);
        }
        self.mk(Kind::Path(Box::new(base), steps))
    }

    fn bracket_step(&mut self) -> PResult<Step> {
        self.bump();
        if *self.peek() == Tok::RBracket {
            self.bump();
            return Ok(Step::Iterate);
        }
        self.enter()?;
        let e = self.pipe()?;
        if *self.peek() == Tok::Colon {
            return Err(self.err("array/string slices ('.[a:b]') are not supported"));
        }
        self.expect(&Tok::RBracket)?;
        self.leave();
        Ok(match *e.kind {
            Kind::Literal(Value::String(s)) => Step::Field(s),
            Kind::Literal(Value::Number(n)) => Step::Nth(n.as_f64().unwrap_or(0.0)),
            _ => Step::Index(e),
        })
    }

    fn primary(&mut self) -> PResult<Node> {
        match self.peek().clone() {
            // `.name`, `.[` and `."name"` are consumed as postfix steps.
            Tok::Field(_) => Ok(Node::leaf(Kind::Identity)),
            Tok::Dot => {
                if !matches!(self.peek_at(1), Tok::Str(_) | Tok::LBracket) {
                    self.bump();
                }
                Ok(Node::leaf(Kind::Identity))
            }
            Tok::Num(n) => {
                self.bump();
                Ok(Node::leaf(Kind::Literal(num_literal(n))))
            }
            Tok::Str(s) => {
                self.bump();
                Ok(Node::leaf(Kind::Literal(Value::String(s))))
            }
            Tok::LParen => self.bracketed(Tok::RParen, |p| p.pipe()),
            Tok::LBracket => self.array(),
            Tok::LBrace => self.bracketed(Tok::RBrace, Self::object_entries),
            Tok::Ident(name) => self.ident(&name),
            Tok::Eof => Err(self.err("expected an expression")),
            _ => Err(self.unexpected()),
        }
    }

    /// Consumes an opening token, parses `inner` one nesting level deeper,
    /// and expects `close`.
    fn bracketed(&mut self, close: Tok, inner: fn(&mut Self) -> PResult<Node>) -> PResult<Node> {
        self.bump();
        self.enter()?;
        let node = inner(self)?;
        self.expect(&close)?;
        self.leave();
        Ok(node)
    }

    fn array(&mut self) -> PResult<Node> {
        if *self.peek_at(1) == Tok::RBracket {
            self.bump();
            self.bump();
            return self.mk(Kind::Array(None));
        }
        let inner = self.bracketed(Tok::RBracket, |p| p.pipe())?;
        let literals = match inner.kind.as_ref() {
            Kind::Literal(v) => Some(vec![v.clone()]),
            Kind::Comma(items) => items.iter().map(literal_of).collect(),
            _ => None,
        };
        match literals {
            Some(vs) => Ok(Node::leaf(Kind::Literal(Value::Array(vs)))),
            None => self.mk(Kind::Array(Some(Box::new(inner)))),
        }
    }

    fn object_entries(&mut self) -> PResult<Node> {
        let mut entries = Vec::new();
        if *self.peek() != Tok::RBrace {
            loop {
                entries.push(self.object_entry()?);
                if *self.peek() != Tok::Comma {
                    break;
                }
                self.bump();
            }
        }
        if *self.peek() != Tok::RBrace {
            return Err(self.err("expected ',' or '}'"));
        }
        let literal: Option<serde_json::Map<String, Value>> = entries
            .iter()
            .map(|(k, v)| match k {
                ObjKey::Name(name) => literal_of(v).map(|v| (name.clone(), v)),
                ObjKey::Expr(_) => None,
            })
            .collect();
        match literal {
            Some(m) => Ok(Node::leaf(Kind::Literal(Value::Object(m)))),
            None => self.mk(Kind::Object(entries)),
        }
    }

    fn object_entry(&mut self) -> PResult<(ObjKey, Node)> {
        let key = match self.peek().clone() {
            Tok::Ident(name) | Tok::Str(name) => {
                self.bump();
                ObjKey::Name(name)
            }
            Tok::LParen => ObjKey::Expr(self.bracketed(Tok::RParen, |p| p.pipe())?),
            _ => {
                return Err(self
                    .err("expected object key (identifier, string or parenthesised expression)"))
            }
        };
        if *self.peek() == Tok::Colon {
            self.bump();
            return Ok((key, self.pipe_no_comma()?));
        }
        match key {
            ObjKey::Name(name) => {
                let value = self.mk(Kind::Path(
                    Box::new(Node::leaf(Kind::Identity)),
                    vec![Step::Field(name.clone())],
                ))?;
                Ok((ObjKey::Name(name), value))
            }
            ObjKey::Expr(_) => Err(self.err("expected ':'")),
        }
    }

    fn ident(&mut self, name: &str) -> PResult<Node> {
        let literal = |v: Value| Ok(Node::leaf(Kind::Literal(v)));
        match name {
            "true" | "false" | "null" => {
                self.bump();
                match name {
                    "true" => literal(Value::Bool(true)),
                    "false" => literal(Value::Bool(false)),
                    _ => literal(Value::Null),
                }
            }
            "if" => self.if_expr(),
            "then" | "elif" | "else" | "end" | "and" | "or" => {
                Err(self.err(format!("unexpected keyword '{name}'")))
            }
            _ => self.call(name),
        }
    }

    fn if_expr(&mut self) -> PResult<Node> {
        self.bump();
        self.enter()?;
        let mut branches = Vec::new();
        let otherwise = loop {
            let cond = self.pipe()?;
            self.expect_kw("then")?;
            branches.push((cond, self.pipe()?));
            match self.peek() {
                Tok::Ident(k) if k == "elif" => self.bump(),
                Tok::Ident(k) if k == "else" => {
                    self.bump();
                    let e = self.pipe()?;
                    self.expect_kw("end")?;
                    break Some(Box::new(e));
                }
                Tok::Ident(k) if k == "end" => {
                    self.bump();
                    break None;
                }
                _ => return Err(self.err("expected 'elif', 'else' or 'end'")),
            }
        };
        self.leave();
        self.mk(Kind::If(branches, otherwise))
    }

    fn call(&mut self, name: &str) -> PResult<Node> {
        let name_pos = self.pos();
        self.bump();
        let mut args = Vec::new();
        if *self.peek() == Tok::LParen {
            self.bump();
            self.enter()?;
            loop {
                let pos = self.pos();
                args.push((pos, self.pipe()?));
                if *self.peek() != Tok::Semi {
                    break;
                }
                self.bump();
            }
            self.expect(&Tok::RParen)?;
            self.leave();
        }
        let call = resolve_builtin(name, args).map_err(|(pos, message)| ParseError {
            pos: pos.unwrap_or(name_pos),
            message,
        })?;
        self.mk(Kind::Call(call))
    }
}
