//! Who may do what: bearer tokens (read from a file, compared in constant time) and access modes.

use super::respond::HttpError;
use crate::error::{Error, ErrorKind, Result};

/// Which operations clients may perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// Open, info, list, get, tail.
    ReadOnly,
    /// Create, append, delete.
    WriteOnly,
    /// Everything.
    #[default]
    ReadWrite,
}

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Nothing,
    Read,
    Write,
}

impl Access {
    /// The name used by `--access`.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::ReadOnly => "read-only",
            Access::WriteOnly => "write-only",
            Access::ReadWrite => "read-write",
        }
    }

    /// Whether writes are allowed.
    pub fn writes(self) -> bool {
        self != Access::ReadOnly
    }

    /// `Permission` (403) when the mode forbids the operation.
    pub fn check(self, need: Need) -> Result<(), HttpError> {
        let refused = match (self, need) {
            (Access::ReadOnly, Need::Write) => "this server is read-only",
            (Access::WriteOnly, Need::Read) => "this server is write-only",
            _ => return Ok(()),
        };
        Err(HttpError::new(
            403,
            Error::new(ErrorKind::Permission, refused)
                .with_hint(format!("the server runs with --access {}", self.as_str())),
        ))
    }
}

pub use crate::proto::read_token_file;

/// Equality whose time depends only on the lengths, not on where the bytes differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= u64::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

/// Checks an `Authorization` header against the expected token (401 with `WWW-Authenticate`).
pub fn check_bearer(expected: Option<&str>, header: Option<&str>) -> Result<(), HttpError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let unauthorized = |msg: &str| {
        HttpError::new(
            401,
            Error::new(ErrorKind::Permission, msg)
                .with_hint("pass the server's token with --token-file FILE or PLASMITE_TOKEN"),
        )
        .with_header("WWW-Authenticate", "Bearer realm=\"plasmite\"")
    };
    let Some(value) = header else {
        return Err(unauthorized("missing bearer token"));
    };
    let given = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => {
            return Err(unauthorized(
                "the Authorization header is not a bearer token",
            ))
        }
    };
    if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(unauthorized("invalid bearer token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"abcd", b"abc"));
    }

    #[test]
    fn bearer_checks() {
        assert!(check_bearer(None, None).is_ok());
        assert!(check_bearer(Some("t"), Some("Bearer t")).is_ok());
        assert!(check_bearer(Some("t"), Some("bearer  t ")).is_ok());
        for bad in [
            None,
            Some("Bearer x"),
            Some("Basic t"),
            Some("t"),
            Some("Bearer"),
        ] {
            let e = check_bearer(Some("t"), bad).unwrap_err();
            assert_eq!(e.status, 401, "{bad:?}");
            assert_eq!(e.error.kind(), ErrorKind::Permission);
        }
    }

    #[test]
    fn access_modes() {
        assert!(Access::ReadOnly.check(Need::Read).is_ok());
        assert_eq!(Access::ReadOnly.check(Need::Write).unwrap_err().status, 403);
        assert_eq!(Access::WriteOnly.check(Need::Read).unwrap_err().status, 403);
        assert!(Access::WriteOnly.check(Need::Nothing).is_ok());
        assert!(Access::ReadWrite.check(Need::Write).is_ok());
    }
}
