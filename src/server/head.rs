//! Request heads: a strict HTTP/1.x parser of the request line and headers (ASCII only, CRLF line
//! ends, one space between the parts of the request line, no folded headers, one consistent
//! `Content-Length`, no `Transfer-Encoding`), so no two readers of a request could frame it
//! differently; every malformed request is answered with the error envelope. Only the headers that
//! decide framing and connection reuse are interpreted by [`parse`]; [`parts`] then splits the same
//! bytes into the request line and fields the handlers read.
//!
//! Invariants: pure (no I/O), never panics on any input, never reads past the slice it is given.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

/// What the connection needs to know about one request to frame it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Bytes of the head, the blank line included.
    pub len: usize,
    /// `Content-Length` (0 when absent).
    pub content_length: u64,
    /// The client asked for the connection to end after this request (`Connection: close`, or HTTP/1.0
    /// without `keep-alive`).
    pub close: bool,
    /// The minor HTTP version: 0 or 1.
    pub minor: u8,
    /// `Expect: 100-continue` was sent.
    pub expect_continue: bool,
}

/// Why a head was refused; [`HeadError::status`] gives the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// Longer than the head limit, or too many header lines.
    TooLarge,
    /// Not HTTP/1.0 or HTTP/1.1.
    Version,
    /// A `Transfer-Encoding` header: request bodies need a `Content-Length`.
    TransferEncoding,
    /// An `Expect` other than `100-continue`.
    Expectation,
    /// Anything else malformed; the text says what.
    Malformed(&'static str),
}

impl HeadError {
    /// The status code of the answer.
    pub fn status(self) -> u16 {
        match self {
            HeadError::TooLarge => 431,
            HeadError::Version => 505,
            HeadError::TransferEncoding => 411,
            HeadError::Expectation => 417,
            HeadError::Malformed(_) => 400,
        }
    }

    /// The message of the error envelope.
    pub fn message(self) -> String {
        match self {
            HeadError::TooLarge => "request head too large".to_owned(),
            HeadError::Version => "only HTTP/1.0 and HTTP/1.1 are supported".to_owned(),
            HeadError::TransferEncoding => {
                "request bodies must have a Content-Length (Transfer-Encoding is not supported)"
                    .to_owned()
            }
            HeadError::Expectation => "the only Expect value supported is 100-continue".to_owned(),
            HeadError::Malformed(why) => format!("malformed request: {why}"),
        }
    }
}

/// Where the head starting at `buf[0]` ends (just past its blank line), if `buf` holds all of it.
/// `from` is where the previous search stopped, so repeated calls on a growing buffer stay linear.
/// Both `\r\n\r\n` and a bare `\n\n` end a head (the parser then refuses the bare one).
pub fn find_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3);
    let tail = buf.get(start..)?;
    let mut i = 0;
    while let Some(p) = tail
        .get(i..)
        .and_then(|t| t.iter().position(|&b| b == b'\n'))
    {
        let at = i + p;
        match (tail.get(at + 1), tail.get(at + 2)) {
            (Some(b'\n'), _) => return Some(start + at + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(start + at + 3),
            _ => i = at + 1,
        }
    }
    None
}

/// Parses a complete head (`head` ends with its blank line), refusing anything two parsers could
/// read differently. `headers_max` bounds the number of header lines.
pub fn parse(head: &[u8], headers_max: usize) -> Result<Head, HeadError> {
    let mut lines = Lines { rest: head };
    let request_line = lines
        .next_line()?
        .ok_or(HeadError::Malformed("empty request"))?;
    let minor = request_line_version(request_line)?;
    let mut out = Head {
        len: head.len(),
        content_length: 0,
        close: false,
        minor,
        expect_continue: false,
    };
    let mut keep_alive = false;
    let mut length: Option<u64> = None;
    let mut count = 0usize;
    loop {
        let line = lines
            .next_line()?
            .ok_or(HeadError::Malformed("head ends without a blank line"))?;
        if line.is_empty() {
            break;
        }
        count += 1;
        if count > headers_max {
            return Err(HeadError::TooLarge);
        }
        let (name, value) = header(line)?;
        if name.eq_ignore_ascii_case(b"content-length") {
            let n = content_length(value)?;
            if length.is_some_and(|l| l != n) {
                return Err(HeadError::Malformed("conflicting Content-Length headers"));
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Err(HeadError::TransferEncoding);
        } else if name.eq_ignore_ascii_case(b"expect") {
            if !value.eq_ignore_ascii_case(b"100-continue") {
                return Err(HeadError::Expectation);
            }
            out.expect_continue = true;
        } else if name.eq_ignore_ascii_case(b"connection") {
            for token in value.split(|&b| b == b',').map(trim) {
                if token.eq_ignore_ascii_case(b"close") {
                    out.close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    keep_alive = true;
                } else if token.eq_ignore_ascii_case(b"upgrade") {
                    return Err(HeadError::Malformed(
                        "connection upgrades are not supported",
                    ));
                }
            }
        }
    }
    if !lines.rest.is_empty() {
        return Err(HeadError::Malformed("bytes after the blank line"));
    }
    out.content_length = length.unwrap_or(0);
    if minor == 0 && !keep_alive {
        out.close = true;
    }
    Ok(out)
}

/// The request line and header fields of a head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts<'a> {
    pub method: &'a str,
    /// The request target as sent (path and query).
    pub target: &'a str,
    /// `(name, value)` pairs in order, values without surrounding blanks.
    pub headers: Vec<(&'a str, &'a str)>,
}

impl Parts<'_> {
    /// The value of the first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// Splits a head that [`parse`] accepted into its request line and header fields (for the requests
/// the handlers). `None` when it is not such a head.
pub fn parts(head: &[u8]) -> Option<Parts<'_>> {
    fn text(b: &[u8]) -> Option<&str> {
        std::str::from_utf8(b).ok()
    }
    let mut lines = Lines { rest: head };
    let line = lines.next_line().ok()??;
    let mut words = line.split(|&b| b == b' ');
    let method = text(words.next()?)?;
    let target = text(words.next()?)?;
    let mut headers = Vec::new();
    while let Some(line) = lines.next_line().ok()? {
        if line.is_empty() {
            break;
        }
        let (name, value) = header(line).ok()?;
        headers.push((text(name)?, text(value)?));
    }
    Some(Parts {
        method,
        target,
        headers,
    })
}

/// Splits CRLF-terminated lines, refusing bare CR or LF.
struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> Result<Option<&'a [u8]>, HeadError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let lf = self
            .rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(HeadError::Malformed("line without an end"))?;
        let (line, rest) = self.rest.split_at(lf);
        self.rest = rest.get(1..).unwrap_or_default();
        let line = line
            .strip_suffix(b"\r")
            .ok_or(HeadError::Malformed("line ends with a bare LF"))?;
        if line.contains(&b'\r') {
            return Err(HeadError::Malformed("bare CR in a line"));
        }
        Ok(Some(line))
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `METHOD SP TARGET SP HTTP/1.x`, returning x.
fn request_line_version(line: &[u8]) -> Result<u8, HeadError> {
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed(
            "request line is not METHOD TARGET VERSION",
        ));
    };
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(HeadError::Malformed("invalid method"));
    }
    if target.first() != Some(&b'/') || !target.iter().all(|&b| (0x21..=0x7e).contains(&b)) {
        return Err(HeadError::Malformed(
            "the request target must be a path starting with '/'",
        ));
    }
    match version {
        b"HTTP/1.1" => Ok(1),
        b"HTTP/1.0" => Ok(0),
        v if v.starts_with(b"HTTP/") => Err(HeadError::Version),
        _ => Err(HeadError::Malformed("invalid HTTP version")),
    }
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|&b| b != b' ' && b != b'\t');
    let end = v.iter().rposition(|&b| b != b' ' && b != b'\t');
    match (start, end) {
        (Some(s), Some(e)) => v.get(s..=e).unwrap_or_default(),
        _ => &[],
    }
}

/// `NAME ":" OWS VALUE OWS` with a token name and a visible-ASCII value.
fn header(line: &[u8]) -> Result<(&[u8], &[u8]), HeadError> {
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(HeadError::Malformed("header line without ':'"))?;
    let (name, value) = line.split_at(colon);
    let value = value.get(1..).unwrap_or_default();
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(HeadError::Malformed("invalid header name"));
    }
    if !value
        .iter()
        .all(|&b| b == b'\t' || (0x20..=0x7e).contains(&b))
    {
        return Err(HeadError::Malformed(
            "header values must be printable ASCII",
        ));
    }
    Ok((name, trim(value)))
}

fn content_length(v: &[u8]) -> Result<u64, HeadError> {
    const BAD: HeadError = HeadError::Malformed("invalid Content-Length");
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return Err(BAD);
    }
    std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(BAD)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)] // tests may panic
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Head, HeadError> {
        parse(s.as_bytes(), 64)
    }

    #[test]
    fn find_end_handles_split_input_and_bare_lf() {
        let h = b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest";
        assert_eq!(find_end(h, 0), Some(24));
        for cut in 0..24 {
            assert_eq!(find_end(&h[..cut], 0), None, "{cut}");
            assert_eq!(find_end(h, cut), Some(24), "resume at {cut}");
        }
        assert_eq!(find_end(b"GET / HTTP/1.1\n\n", 0), Some(16));
        assert_eq!(find_end(b"", 0), None);
        assert_eq!(find_end(b"x", 5), None);
    }

    #[test]
    fn parts_splits_an_accepted_head() {
        let h =
            b"POST /v0/pools/a/append?x=1 HTTP/1.1\r\nHost: h\r\nAuthorization:  Bearer t \r\n\r\n";
        assert!(parse(h, 64).is_ok());
        let p = parts(h).unwrap();
        assert_eq!((p.method, p.target), ("POST", "/v0/pools/a/append?x=1"));
        assert_eq!(
            p.headers,
            vec![("Host", "h"), ("Authorization", "Bearer t")]
        );
        assert_eq!(p.header("authorization"), Some("Bearer t"));
        assert_eq!(p.header("Cookie"), None);
        assert_eq!(parts(b"GET / HTTP/1.1\r\nno colon\r\n\r\n"), None);
    }

    #[test]
    fn accepts_ordinary_requests() {
        let h = p("POST /v0/pools/a/append HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nExpect: 100-Continue\r\n\r\n")
            .unwrap();
        assert_eq!((h.content_length, h.close, h.minor), (12, false, 1));
        assert!(h.expect_continue);
        let h = p("GET /healthz HTTP/1.0\r\n\r\n").unwrap();
        assert!(h.close);
        let h = p("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap();
        assert!(!h.close);
        let h = p("GET / HTTP/1.1\r\nconnection: foo, close\r\n\r\n").unwrap();
        assert!(h.close);
        let h = p("GET / HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n").unwrap();
        assert_eq!(h.content_length, 3);
    }

    #[test]
    fn refuses_what_another_parser_could_misread() {
        let bad = [
            "GET  / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1 x\r\n\r\n",
            "GET http://h/ HTTP/1.1\r\n\r\n",
            "GET /é HTTP/1.1\r\n\r\n",
            "G(T / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHo st: x\r\n\r\n",
            "GET / HTTP/1.1\r\n folded\r\n\r\n",
            "GET / HTTP/1.1\r\nA: \u{e9}\r\n\r\n",
            "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
            "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "GET / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n",
            "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "GET / HTTP/1.1\r\nConnection: Upgrade\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\nx",
            "\r\n",
        ];
        for b in bad {
            assert!(
                matches!(p(b), Err(HeadError::Malformed(_))),
                "{b:?}: {:?}",
                p(b)
            );
        }
        assert_eq!(p("GET / HTTP/2.0\r\n\r\n"), Err(HeadError::Version));
        assert_eq!(
            p("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(HeadError::TransferEncoding)
        );
        assert_eq!(
            p("POST / HTTP/1.1\r\nExpect: teapot\r\n\r\n"),
            Err(HeadError::Expectation)
        );
        let many: String = (0..65).map(|i| format!("H{i}: v\r\n")).collect();
        assert_eq!(
            p(&format!("GET / HTTP/1.1\r\n{many}\r\n")),
            Err(HeadError::TooLarge)
        );
    }

    #[test]
    fn never_panics_on_any_short_input() {
        // Every byte string of length <= 3 over an alphabet of the interesting bytes, each followed by a
        // blank line.
        let alphabet = b"G /:\r\n\t\x80aH1.";
        let mut buf = Vec::new();
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    buf.clear();
                    buf.extend_from_slice(&[*a, *b, *c]);
                    buf.extend_from_slice(b"\r\n\r\n");
                    let _ = parse(&buf, 4);
                    let _ = find_end(&buf, 2);
                }
            }
        }
    }
}
