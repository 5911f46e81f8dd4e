//! What the server (`crate::server`) and the remote client (`crate::remote`) both speak: the v0 wire
//! format (`wire.rs`: request bodies, envelopes, tail lines), the protocol's header names, and how a
//! bearer token is read from a file. Neither side imports the other; both import this.

pub mod wire;

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// The protocol version header, on every answer.
pub const VERSION_HEADER: (&str, &str) = ("plasmite-version", "0");

/// Header of a tail answer: the seq the stream starts at (a reconnecting client resumes from it).
pub const NEXT_SEQ_HEADER: &str = "plasmite-next-seq";

/// Whether this build has TLS (the `tls` cargo feature).
pub const TLS_COMPILED: bool = cfg!(feature = "tls");

/// `Usage` ("TLS is not compiled in") unless this build has TLS.
pub fn require_tls() -> Result<()> {
    if TLS_COMPILED {
        return Ok(());
    }
    Err(
        Error::usage("TLS is not compiled in (this plasmite was built without the `tls` feature)")
            .with_hint(
                "rebuild with the default features, or serve plain HTTP on a loopback address",
            ),
    )
}

/// Reads a bearer token from a file: a regular file of at most `HTTP_TOKEN_FILE_BYTES_MAX` bytes
/// (so `/dev/zero` or a FIFO is refused at once, never read or waited on); surrounding whitespace is
/// dropped and the rest must be 1 to `HTTP_TOKEN_BYTES_MAX` bytes of visible ASCII. Anything else is
/// `Usage`.
pub fn read_token_file(path: &Path) -> Result<String> {
    use std::os::unix::fs::OpenOptionsExt;
    let max = crate::limits::HTTP_TOKEN_BYTES_MAX;
    let file_max = crate::limits::HTTP_TOKEN_FILE_BYTES_MAX;
    let cannot = |e| Error::io("cannot read the token file", e).with_path(path);
    let not_regular = || {
        Error::usage("the token file is not a regular file")
            .with_path(path)
            .with_hint(
                "give the path of a file holding the token ('plasmite serve init' writes one)",
            )
    };
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    // O_NONBLOCK: should the path be swapped for a FIFO after the check, opening it does not wait.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(cannot)?;
    if !file.metadata().map_err(cannot)?.is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::new();
    file.take(file_max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > file_max {
        return Err(
            Error::usage(format!("the token file is larger than {file_max} bytes"))
                .with_path(path)
                .with_hint("the file holds one token; write one with 'plasmite serve init'"),
        );
    }
    let text = std::str::from_utf8(&bytes).unwrap_or("\u{0}").trim();
    if text.is_empty() || text.len() > max || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::usage(format!(
            "the token file must hold one token of 1 to {max} printable ASCII characters"
        ))
        .with_path(path)
        .with_hint("write one with 'plasmite serve init'"));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("plasmite-proto-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn token_files_are_small_regular_files() {
        let d = dir("token");
        let f = d.join("t");
        std::fs::write(&f, " abc\n").unwrap();
        assert_eq!(read_token_file(&f).unwrap(), "abc");
        let max = crate::limits::HTTP_TOKEN_FILE_BYTES_MAX;
        // At the edge: a file of exactly the limit (token plus padding) is read; one byte more is not.
        let tok = "x".repeat(crate::limits::HTTP_TOKEN_BYTES_MAX);
        let pad = " ".repeat(max - tok.len());
        std::fs::write(&f, format!("{tok}{pad}")).unwrap();
        assert_eq!(read_token_file(&f).unwrap(), tok);
        std::fs::write(&f, format!("{tok}{pad} ")).unwrap();
        assert_eq!(read_token_file(&f).unwrap_err().kind(), ErrorKind::Usage);
        for special in ["/dev/zero", "/dev/null", "/"] {
            let e = read_token_file(Path::new(special)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Usage, "{special}");
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}
