//! Building answers: the status of each error kind, the JSON error envelope, and the headers every
//! answer carries (`plasmite-version: 0`, a JSON content type).

use crate::error::{Error, ErrorKind};
use std::io::Write;

pub use crate::proto::VERSION_HEADER;

/// The status of an error kind (where the request itself does not call for a more precise one).
pub fn status_of(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::Usage => 400,
        ErrorKind::Permission => 403,
        ErrorKind::NotFound => 404,
        ErrorKind::AlreadyExists => 409,
        ErrorKind::Busy => 423,
        ErrorKind::RetentionGap => 410,
        ErrorKind::Corrupt | ErrorKind::Io | ErrorKind::Internal => 500,
    }
}

/// The reason phrase of the statuses we send.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        423 => "Locked",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Internal Server Error",
    }
}

/// An error with the status and extra headers of its answer.
#[derive(Debug)]
pub struct HttpError {
    pub status: u16,
    pub error: Box<Error>,
    pub headers: Vec<(&'static str, String)>,
}

impl HttpError {
    pub fn new(status: u16, error: Error) -> HttpError {
        HttpError {
            status,
            error: Box::new(error),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> HttpError {
        self.headers.push((name, value.into()));
        self
    }
}

impl From<Error> for HttpError {
    fn from(error: Error) -> HttpError {
        HttpError::new(status_of(error.kind()), error)
    }
}

/// The envelope body of an error.
pub fn envelope(e: &Error) -> Vec<u8> {
    serde_json::to_vec(&e.to_json()).unwrap_or_else(|_| {
        b"{\"error\":{\"kind\":\"Internal\",\"message\":\"cannot encode the error\"}}".to_vec()
    })
}

/// A complete HTTP/1.1 error answer that closes the connection (for refusals and rejected requests).
pub fn raw_error(status: u16, e: &Error) -> Vec<u8> {
    raw_error_with(status, e, &[])
}

/// [`raw_error`] with extra headers.
pub fn raw_error_with(status: u16, e: &Error, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut all = headers.to_vec();
    all.push(("Connection", "close"));
    raw(status, &all, &envelope(e), false)
}

/// A complete HTTP/1.1 answer with a JSON body: status line, `Content-Type`, `Content-Length`,
/// `plasmite-version`, `Cache-Control`, then `headers`. `head_only` (a HEAD request) leaves the body
/// out.
pub fn raw(status: u16, headers: &[(&str, &str)], body: &[u8], head_only: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 160);
    let _ = write!(
        out,
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{}: {}\r\nCache-Control: no-store\r\n",
        reason(status),
        body.len(),
        VERSION_HEADER.0,
        VERSION_HEADER.1
    );
    for (k, v) in headers {
        let _ = write!(out, "{k}: {v}\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !head_only {
        out.extend_from_slice(body);
    }
    out
}

/// `204 No Content` with `headers` (a CORS preflight's answer).
pub fn no_content(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let _ = write!(
        out,
        "HTTP/1.1 204 No Content\r\n{}: {}\r\nCache-Control: no-store\r\n",
        VERSION_HEADER.0, VERSION_HEADER.1
    );
    for (k, v) in headers {
        let _ = write!(out, "{k}: {v}\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_errors_are_complete_answers_with_the_envelope() {
        let raw = raw_error(431, &Error::usage("too big"));
        let text = String::from_utf8(raw).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains("\r\nplasmite-version: 0"));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["kind"], "Usage");
        assert_eq!(v["error"]["message"], "too big");
    }

    #[test]
    fn every_kind_has_an_error_status() {
        for k in ErrorKind::ALL {
            assert!((400..600).contains(&status_of(k)));
        }
    }
}
