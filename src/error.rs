//! The one error type of the crate: a stable [`ErrorKind`] plus context.
//!
//! Every fallible public function returns [`Error`]. The kind is part of the v0 contract (the CLI maps it
//! to an exit code, the HTTP server to a status code), so kinds are never renamed or repurposed. The
//! message is for humans; the optional `hint` says what to do about it; `path`, `seq` and `offset` locate
//! the problem.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The stable v0 error kinds. New kinds may be added (a match needs a `_` arm); existing ones are
/// never renamed or repurposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad input from the caller: arguments, JSON, names, sizes, unsupported refs.
    Usage,
    /// The pool, the message or the file does not exist.
    NotFound,
    /// The pool already exists.
    AlreadyExists,
    /// The resource is in use or a limit on concurrency was reached.
    Busy,
    /// The operating system refused access.
    Permission,
    /// Bytes on disk do not match the format.
    Corrupt,
    /// Any other operating-system error.
    Io,
    /// A bug in plasmite.
    Internal,
    /// A reader that asked to refuse gaps was lapped: messages it had not read were evicted by the
    /// ring. The error's `seq` is the first missing seq and `lost` how many were missing.
    RetentionGap,
}

impl ErrorKind {
    /// Every kind, in the order of the contract.
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::Usage,
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::Busy,
        ErrorKind::Permission,
        ErrorKind::Corrupt,
        ErrorKind::Io,
        ErrorKind::Internal,
        ErrorKind::RetentionGap,
    ];

    /// The stable name used in JSON error envelopes.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Usage => "Usage",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::AlreadyExists => "AlreadyExists",
            ErrorKind::Busy => "Busy",
            ErrorKind::Permission => "Permission",
            ErrorKind::Corrupt => "Corrupt",
            ErrorKind::Io => "Io",
            ErrorKind::Internal => "Internal",
            ErrorKind::RetentionGap => "RetentionGap",
        }
    }

    /// The process exit code the CLI uses for this kind.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Internal => 1,
            ErrorKind::Usage => 2,
            ErrorKind::NotFound => 3,
            ErrorKind::AlreadyExists => 4,
            ErrorKind::Busy => 5,
            ErrorKind::Permission => 6,
            ErrorKind::Corrupt => 7,
            ErrorKind::Io => 8,
            ErrorKind::RetentionGap => 9,
        }
    }

    /// Parses the stable name back (used by the remote client).
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error with a stable kind and structured context.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    /// Boxed (not a `String`): 8 bytes fewer keep `Result<T, Error>` small.
    message: Box<str>,
    hint: Option<String>,
    path: Option<PathBuf>,
    seq: Option<u64>,
    offset: Option<u64>,
    /// How many messages a `RetentionGap` lost; 0 = none (a gap loses at least one).
    lost: u64,
    source: Option<io::Error>,
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a human message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into().into_boxed_str(),
            hint: None,
            path: None,
            seq: None,
            offset: None,
            lost: 0,
            source: None,
        }
    }

    /// A `RetentionGap`: `lost` messages from `first_missing` on were evicted before they were read.
    pub fn retention_gap(first_missing: u64, lost: u64) -> Error {
        Error::new(
            ErrorKind::RetentionGap,
            format!("{lost} messages were evicted before they were read, from seq {first_missing}"),
        )
        .with_seq(first_missing)
        .with_lost(lost)
        .with_hint(
            "read faster, give the pool more room (pool create --size), or resume from the oldest",
        )
    }

    /// Shorthand for a `Usage` error.
    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage, message)
    }

    /// Shorthand for a `Corrupt` error at a byte offset of a file.
    pub fn corrupt(message: impl Into<String>, offset: u64) -> Error {
        Error::new(ErrorKind::Corrupt, message).with_offset(offset)
    }

    /// Maps an OS error to a kind (`NotFound`, `Permission`, `AlreadyExists`, else `Io`), keeping it as source.
    pub fn io(what: impl Into<String>, err: io::Error) -> Error {
        let kind = match err.kind() {
            io::ErrorKind::NotFound => ErrorKind::NotFound,
            io::ErrorKind::PermissionDenied => ErrorKind::Permission,
            io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
            _ if err.raw_os_error() == Some(libc::EROFS) => ErrorKind::Permission,
            _ => ErrorKind::Io,
        };
        let mut e = Error::new(kind, format!("{}: {}", what.into(), err));
        e.source = Some(err);
        e
    }

    /// Adds a hint: what the user can do about it.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    /// Adds the path of the file concerned (kept if already set).
    pub fn with_path(mut self, path: impl AsRef<Path>) -> Error {
        if self.path.is_none() {
            self.path = Some(path.as_ref().to_path_buf());
        }
        self
    }

    /// Adds the sequence number concerned.
    pub fn with_seq(mut self, seq: u64) -> Error {
        self.seq = Some(seq);
        self
    }

    /// Adds the byte offset (from the start of the pool file) concerned.
    pub fn with_offset(mut self, offset: u64) -> Error {
        self.offset = Some(offset);
        self
    }

    /// Adds how many messages were lost (a `RetentionGap`).
    pub fn with_lost(mut self, lost: u64) -> Error {
        self.lost = lost;
        self
    }

    /// The stable kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The human message.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// What the user can do about it, if known.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
    /// The file concerned, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
    /// The sequence number concerned, if any.
    pub fn seq(&self) -> Option<u64> {
        self.seq
    }
    /// The byte offset concerned, if any.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }
    /// How many messages were lost, if known (a `RetentionGap`).
    pub fn lost(&self) -> Option<u64> {
        (self.lost > 0).then_some(self.lost)
    }

    /// The error envelope body shared by the CLI and the HTTP server:
    /// `{"error":{"kind","message","hint"?,"path"?,"seq"?,"offset"?,"lost"?}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut inner = serde_json::Map::new();
        inner.insert("kind".into(), self.kind.as_str().into());
        inner.insert("message".into(), (*self.message).into());
        if let Some(h) = &self.hint {
            inner.insert("hint".into(), h.clone().into());
        }
        if let Some(p) = &self.path {
            inner.insert("path".into(), p.display().to_string().into());
        }
        if let Some(s) = self.seq {
            inner.insert("seq".into(), s.into());
        }
        if let Some(o) = self.offset {
            inner.insert("offset".into(), o.into());
        }
        if let Some(n) = self.lost() {
            inner.insert("lost".into(), n.into());
        }
        let mut outer = serde_json::Map::new();
        outer.insert("error".into(), serde_json::Value::Object(inner));
        serde_json::Value::Object(outer)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(p) = &self.path {
            write!(f, " (path {})", p.display())?;
        }
        if let Some(s) = self.seq {
            write!(f, " (seq {s})")?;
        }
        if let Some(o) = self.offset {
            write!(f, " (offset {o})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names_and_have_distinct_exit_codes() {
        let mut codes = std::collections::HashSet::new();
        for k in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(k.as_str()), Some(k));
            assert!(codes.insert(k.exit_code()));
        }
        assert_eq!(ErrorKind::from_name("Nope"), None);
    }

    #[test]
    fn io_errors_map_to_stable_kinds() {
        let nf = Error::io("open", io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(nf.kind(), ErrorKind::NotFound);
        let perm = Error::io("open", io::Error::from(io::ErrorKind::PermissionDenied));
        assert_eq!(perm.kind(), ErrorKind::Permission);
        let rofs = Error::io("open", io::Error::from_raw_os_error(libc::EROFS));
        assert_eq!(rofs.kind(), ErrorKind::Permission);
    }

    #[test]
    fn envelope_carries_context_only_when_present() {
        let e = Error::corrupt("bad frame", 4096)
            .with_seq(7)
            .with_path("/p");
        let v = e.to_json();
        assert_eq!(v["error"]["kind"], "Corrupt");
        assert_eq!(v["error"]["offset"], 4096);
        assert_eq!(v["error"]["seq"], 7);
        assert_eq!(v["error"]["path"], "/p");
        let gap = Error::retention_gap(5, 3).to_json();
        assert_eq!(gap["error"]["kind"], "RetentionGap");
        assert_eq!(
            (gap["error"]["seq"].as_u64(), gap["error"]["lost"].as_u64()),
            (Some(5), Some(3))
        );
        assert_eq!(ErrorKind::RetentionGap.exit_code(), 9);
        let plain = Error::usage("x").to_json();
        assert!(plain["error"].get("hint").is_none());
    }
}
