//! `serve init`: a random token (0600) and a self-signed certificate (0644) and key (0600) in a
//! directory. Files are written to a temporary name and renamed into place, so a reader never sees a
//! half-written key; existing files are replaced only when asked.

use crate::error::{Error, ErrorKind, Result};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// File name of the token.
pub const TOKEN_FILE: &str = "plasmite.token";
/// File name of the certificate.
pub const CERT_FILE: &str = "plasmite.crt";
/// File name of the private key.
pub const KEY_FILE: &str = "plasmite.key";

/// What `init` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub token: PathBuf,
    /// `None` when TLS is not compiled in.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// `n` random bytes from the kernel, hex-encoded.
pub fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| Error::io("cannot read /dev/urandom", e))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .and_then(|mut f| {
            f.set_permissions(std::fs::Permissions::from_mode(mode))?;
            f.write_all(contents)?;
            f.sync_all()
        })
        .and_then(|_| std::fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io("cannot write the file", e).with_path(path)
    })
}

/// Writes the token, certificate and key into `dir` (created if missing, mode 0700). Without `force`, refuses
/// (`AlreadyExists`) when any of the files exists, before writing anything.
pub fn init(dir: &Path, force: bool) -> Result<Written> {
    use std::os::unix::fs::DirBuilderExt;
    // Created private (0700) whatever the umask: it holds the token and the key.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io("cannot create the directory", e).with_path(dir))?;
    let tls = super::tls::COMPILED;
    let token = dir.join(TOKEN_FILE);
    let cert = dir.join(CERT_FILE);
    let key = dir.join(KEY_FILE);
    let targets: Vec<&PathBuf> = if tls {
        vec![&token, &cert, &key]
    } else {
        vec![&token]
    };
    if !force {
        if let Some(existing) = targets.iter().find(|p| p.exists()) {
            return Err(
                Error::new(ErrorKind::AlreadyExists, "the file already exists")
                    .with_path(existing)
                    .with_hint("pass --force to replace the files, or choose --output-dir"),
            );
        }
    }
    let secret = random_hex(crate::limits::SERVE_INIT_TOKEN_BYTES)?;
    write_file(&token, format!("{secret}\n").as_bytes(), 0o600)?;
    if !tls {
        return Ok(Written {
            token,
            cert: None,
            key: None,
        });
    }
    let s = super::tls::generate(&super::tls::default_names())?;
    write_file(&key, s.key_pem.as_bytes(), 0o600)?;
    write_file(&cert, s.cert_pem.as_bytes(), 0o644)?;
    Ok(Written {
        token,
        cert: Some(cert),
        key: Some(key),
    })
}
