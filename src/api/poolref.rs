//! Pool references: a name inside the client's directory, a direct path, or a URI (remote; refused by
//! the local client with `Usage`). Names are checked here so that no name can escape its directory.

use crate::error::{Error, Result};
use crate::limits;
use std::path::{Path, PathBuf};

/// File extension of pool files.
pub const POOL_EXTENSION: &str = "plasmite";

/// How a caller names a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolRef {
    /// A name resolved inside the client's pool directory (`DIR/NAME.plasmite`).
    Name(String),
    /// A direct path to a pool file.
    Path(PathBuf),
    /// A URI such as `http://host:9700/chat`; not served by the local client.
    Uri(String),
}

impl PoolRef {
    /// A name ref.
    pub fn name(n: impl Into<String>) -> PoolRef {
        PoolRef::Name(n.into())
    }
    /// A path ref.
    pub fn path(p: impl Into<PathBuf>) -> PoolRef {
        PoolRef::Path(p.into())
    }
    /// A URI ref.
    pub fn uri(u: impl Into<String>) -> PoolRef {
        PoolRef::Uri(u.into())
    }

    /// The CLI rule: `scheme://…` is a URI, anything containing `/` is a path, `NAME.plasmite` is the
    /// name `NAME`, anything else is a name.
    pub fn parse(s: &str) -> PoolRef {
        if s.contains("://") {
            PoolRef::Uri(s.to_owned())
        } else if s.contains('/') {
            PoolRef::Path(PathBuf::from(s))
        } else if let Some(stem) = s.strip_suffix(".plasmite") {
            PoolRef::Name(stem.to_owned())
        } else {
            PoolRef::Name(s.to_owned())
        }
    }

    /// The file this ref designates, relative to `dir` for names.
    pub fn resolve(&self, dir: &Path) -> Result<PathBuf> {
        match self {
            PoolRef::Name(n) => {
                check_name(n)?;
                Ok(dir.join(format!("{n}.{POOL_EXTENSION}")))
            }
            PoolRef::Path(p) => Ok(p.clone()),
            PoolRef::Uri(u) => Err(Error::usage(format!(
                "remote pool refs are not supported by the local client: {u}"
            ))
            .with_hint("use a pool name or path, or the plasmite CLI for http(s) URLs")),
        }
    }
}

/// Checks a pool name: 1 to `POOL_NAME_BYTES_MAX` bytes of `A-Z a-z 0-9 . _ -`, starting with a letter
/// or digit. So no name contains a path separator or is `.`/`..`.
pub fn check_name(n: &str) -> Result<()> {
    let ok_len = !n.is_empty() && n.len() <= limits::POOL_NAME_BYTES_MAX;
    let ok_first = n.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    let ok_chars = n
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok_len && ok_first && ok_chars {
        Ok(())
    } else {
        Err(Error::usage(format!("invalid pool name {n:?}")).with_hint(format!(
            "names are 1 to {} characters of letters, digits, '.', '_' and '-', starting with a letter or digit",
            limits::POOL_NAME_BYTES_MAX
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_strings_parse_to_the_right_kind_of_ref() {
        assert_eq!(PoolRef::parse("chat"), PoolRef::name("chat"));
        assert_eq!(PoolRef::parse("chat.plasmite"), PoolRef::name("chat"));
        assert_eq!(
            PoolRef::parse("./x.plasmite"),
            PoolRef::path("./x.plasmite")
        );
        assert_eq!(PoolRef::parse("http://h:1/p"), PoolRef::uri("http://h:1/p"));
    }

    #[test]
    fn names_cannot_escape_the_directory() {
        for bad in ["", "..", ".hidden", "a/b", "a\\b", "-x", "a b", "é"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "chat", "x.y_z-1", "9"] {
            assert!(check_name(good).is_ok(), "{good:?}");
        }
        let max = "a".repeat(limits::POOL_NAME_BYTES_MAX);
        assert!(check_name(&max).is_ok());
        assert!(check_name(&format!("{max}a")).is_err());
    }

    #[test]
    fn uri_refs_are_a_usage_error_locally() {
        let e = PoolRef::uri("tcp://h:1/pool/x")
            .resolve(Path::new("/d"))
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Usage);
    }
}
