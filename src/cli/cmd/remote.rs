//! What only URL pool refs need on the command line: the token and TLS options, and the refusal of
//! flags that need the pool's file. Everything else (`poke`, `peek`, `get`, `pool info|create|delete`)
//! is written once over [`crate::api::PoolHandle`].

use crate::api::RemoteOptions;
use crate::cli::app::Failure;
use crate::cli::args::RemoteOpts;
use crate::error::{Error, Result};

/// The environment variable holding a bearer token (`--token-file` wins).
pub const TOKEN_ENV: &str = "PLASMITE_TOKEN";

/// Whether a pool argument is a remote URL.
pub fn is_remote(pool: &str) -> bool {
    crate::api::is_url(pool)
}

/// A flag that cannot be used with a URL pool, and why.
pub fn refusal(flag: &str, why: &str) -> Error {
    Error::usage(format!("{flag} cannot be used with a remote pool: {why}"))
        .with_hint("run the command on the server's machine, or drop the flag")
}

/// [`refusal`] as a command failure.
pub fn refuse(flag: &str, why: &str) -> Failure {
    Failure::Error(refusal(flag, why))
}

/// The options of the remote client: `--token-file` (else `PLASMITE_TOKEN`) and `--tls-ca`.
pub fn options(o: &RemoteOpts) -> Result<RemoteOptions> {
    let opts = RemoteOptions {
        token: None,
        tls_ca: o.tls_ca.clone(),
    };
    match &o.token_file {
        Some(f) => opts.token_from_file(f),
        None => Ok(RemoteOptions {
            token: std::env::var(TOKEN_ENV)
                .ok()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
            ..opts
        }),
    }
}
