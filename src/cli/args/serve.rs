//! `serve`, `serve check` and `serve init`: parsers for the HTTP server commands.
//!
//! Invariants: `init`/`check` are recognised only as the first word after `serve`;
//! `--tls-cert` and `--tls-key` come together or not at all; `--tls-self-signed`
//! excludes them; `--insecure-no-tls` excludes every TLS flag; `--bind` has the shape
//! `HOST:PORT` or `[IPV6]:PORT` (not resolved here); limits are at least 1.

use super::lex::{conflict, Item, Lex, Positionals};
use super::types::{Access, Command, ServeArgs, ServeInitArgs, ServeTls, SERVE_BIND_DEFAULT};
use super::{UsageError, UsageErrorKind};
use crate::cli::commands::CommandId;
use crate::cli::flags::FlagId;
use std::path::PathBuf;

/// Parses the arguments after `serve`.
pub(super) fn parse(lex: &mut Lex) -> Result<Command, UsageError> {
    match lex.peek_word().as_deref() {
        Some("init") => {
            lex.skip_word();
            parse_init(lex)
        }
        Some("check") => {
            lex.skip_word();
            parse_serve(lex, CommandId::ServeCheck)
        }
        _ => parse_serve(lex, CommandId::Serve),
    }
}

/// Checks the `HOST:PORT` / `[IPV6]:PORT` shape; returns why not.
fn check_bind(text: &str) -> Result<(), &'static str> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (inside, port) = rest
            .split_once("]:")
            .ok_or("expected [IPV6]:PORT, e.g. [::1]:9700")?;
        (inside, port)
    } else {
        let (host, port) = text
            .rsplit_once(':')
            .ok_or("expected HOST:PORT, e.g. 127.0.0.1:9700")?;
        if host.contains(':') {
            return Err("put an IPv6 address in brackets, e.g. [::1]:9700");
        }
        (host, port)
    };
    if host.is_empty()
        || host
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == '[' || c == ']')
    {
        return Err("the host part is empty or malformed");
    }
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err()
    {
        return Err("the port must be a number from 0 to 65535");
    }
    Ok(())
}

/// Checks the shape of a web origin: `http(s)://HOST[:PORT]`, nothing after.
fn check_origin(text: &str) -> Result<(), &'static str> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or("expected an origin such as https://app.example")?;
    if rest.is_empty()
        || rest.contains(['/', '?', '#', '@'])
        || !rest.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err("an origin is scheme://host[:port], without a path");
    }
    Ok(())
}

struct TlsFlags {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    self_signed: bool,
}

/// Combines the TLS flags, enforcing "both or neither" and the exclusions.
fn resolve_tls(tls: TlsFlags, insecure: bool, cmd: CommandId) -> Result<ServeTls, UsageError> {
    let mode = match (tls.cert, tls.key, tls.self_signed) {
        (None, None, false) => ServeTls::None,
        (None, None, true) => ServeTls::SelfSigned,
        (Some(_), _, true) => return Err(conflict("--tls-self-signed", "--tls-cert", cmd)),
        (_, Some(_), true) => return Err(conflict("--tls-self-signed", "--tls-key", cmd)),
        (Some(cert), Some(key), false) => ServeTls::Files { cert, key },
        (Some(_), None, false) => return Err(needs("--tls-cert", "--tls-key")),
        (None, Some(_), false) => return Err(needs("--tls-key", "--tls-cert")),
    };
    if insecure && mode != ServeTls::None {
        let flag = if mode == ServeTls::SelfSigned {
            "--tls-self-signed"
        } else {
            "--tls-cert"
        };
        return Err(conflict("--insecure-no-tls", flag, cmd));
    }
    Ok(mode)
}

fn needs(flag: &str, other: &str) -> UsageError {
    UsageError::new(UsageErrorKind::Conflict, format!("{flag} requires {other}"))
        .with_hint("give both --tls-cert and --tls-key, or use --tls-self-signed")
}

/// Parses `serve` or `serve check` flags (`cmd` says which).
fn parse_serve(lex: &mut Lex, cmd: CommandId) -> Result<Command, UsageError> {
    lex.enter(cmd);
    let mut out = ServeArgs {
        bind: SERVE_BIND_DEFAULT.to_owned(),
        allow_non_loopback: false,
        insecure_no_tls: false,
        token_file: None,
        access: Access::ReadWrite,
        tls: ServeTls::None,
        max_body: None,
        max_connections: None,
        max_tails: None,
        max_connections_per_ip: None,
        max_pool_size: None,
        max_pools: None,
        allow_hosts: Vec::new(),
        cors_origins: Vec::new(),
    };
    let mut tls = TlsFlags {
        cert: None,
        key: None,
        self_signed: false,
    };
    let mut values = Vec::new();
    while let Some(item) = lex.next()? {
        let flag = match item {
            Item::Help => return Ok(super::misc::help_for(cmd)),
            Item::Value(v) => {
                values.push(v);
                continue;
            }
            Item::Flag(flag) => flag,
        };
        match flag.id {
            FlagId::Bind => {
                let text = lex.string(flag)?;
                check_bind(&text).map_err(|why| lex.bad_value(&text, why))?;
                out.bind = text;
            }
            FlagId::AllowNonLoopback => out.allow_non_loopback = true,
            FlagId::InsecureNoTls => out.insecure_no_tls = true,
            FlagId::TokenFile => out.token_file = Some(lex.path(flag)?),
            FlagId::Access => out.access = lex.choice(flag, Access::from_name)?,
            FlagId::TlsCert => tls.cert = Some(lex.path(flag)?),
            FlagId::TlsKey => tls.key = Some(lex.path(flag)?),
            FlagId::TlsSelfSigned => tls.self_signed = true,
            FlagId::MaxBody => out.max_body = Some(lex.size(flag, 1)?),
            FlagId::MaxConnections => out.max_connections = Some(lex.number(flag, 1u32)?),
            FlagId::MaxTails => out.max_tails = Some(lex.number(flag, 1u32)?),
            FlagId::MaxConnectionsPerIp => {
                out.max_connections_per_ip = Some(lex.number(flag, 1u32)?)
            }
            FlagId::MaxPoolSize => out.max_pool_size = Some(lex.size(flag, 1)?),
            FlagId::MaxPools => out.max_pools = Some(lex.number(flag, 1u32)?),
            FlagId::AllowHost => {
                let text = lex.string(flag)?;
                if text.is_empty()
                    || !text.bytes().all(|b| b.is_ascii_graphic())
                    || text.contains(['/', '@'])
                {
                    return Err(lex.bad_value(&text, "expected a host name, e.g. plasmite.lan"));
                }
                out.allow_hosts.push(text);
            }
            FlagId::CorsOrigin => {
                let text = lex.string(flag)?;
                check_origin(&text).map_err(|why| lex.bad_value(&text, why))?;
                out.cors_origins.push(text);
            }
            _ => return Err(lex.unhandled(flag)),
        }
    }
    Positionals::new(cmd, values)
        .finish()
        .map_err(|e| e.with_hint("serve takes no arguments; its subcommands are init and check"))?;
    out.tls = resolve_tls(tls, out.insecure_no_tls, cmd)?;
    Ok(if cmd == CommandId::ServeCheck {
        Command::ServeCheck(out)
    } else {
        Command::Serve(out)
    })
}

fn parse_init(lex: &mut Lex) -> Result<Command, UsageError> {
    lex.enter(CommandId::ServeInit);
    let mut out = ServeInitArgs::default();
    let mut values = Vec::new();
    while let Some(item) = lex.next()? {
        match item {
            Item::Help => return Ok(super::misc::help_for(CommandId::ServeInit)),
            Item::Value(v) => values.push(v),
            Item::Flag(flag) => match flag.id {
                FlagId::OutputDir => out.output_dir = Some(lex.path(flag)?),
                FlagId::Force => out.force = true,
                _ => return Err(lex.unhandled(flag)),
            },
        }
    }
    Positionals::new(CommandId::ServeInit, values).finish()?;
    Ok(Command::ServeInit(out))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{kind, run};
    use super::*;

    fn serve(args: &[&str]) -> Option<ServeArgs> {
        let mut full = vec!["serve"];
        full.extend_from_slice(args);
        match run(&full).ok()?.command {
            Command::Serve(s) | Command::ServeCheck(s) => Some(s),
            _ => None,
        }
    }

    fn serve_kind(args: &[&str]) -> Option<UsageErrorKind> {
        let mut full = vec!["serve"];
        full.extend_from_slice(args);
        kind(&full)
    }

    #[test]
    fn defaults_without_flags() {
        assert_eq!(
            serve(&[]),
            Some(ServeArgs {
                bind: "127.0.0.1:9700".into(),
                allow_non_loopback: false,
                insecure_no_tls: false,
                token_file: None,
                access: Access::ReadWrite,
                tls: ServeTls::None,
                max_body: None,
                max_connections: None,
                max_tails: None,
                max_connections_per_ip: None,
                max_pool_size: None,
                max_pools: None,
                allow_hosts: Vec::new(),
                cors_origins: Vec::new(),
            })
        );
    }

    #[test]
    fn every_flag_with_a_valid_value() {
        let s = serve(&[
            "--bind",
            "0.0.0.0:8443",
            "--allow-non-loopback",
            "--token-file",
            "tok",
            "--access",
            "read-only",
            "--tls-cert",
            "c.pem",
            "--tls-key",
            "k.pem",
            "--max-body",
            "1M",
            "--max-connections",
            "64",
            "--max-tails",
            "8",
            "--max-connections-per-ip",
            "4",
            "--max-pool-size",
            "2M",
            "--max-pools",
            "9",
            "--allow-host",
            "a.lan",
            "--allow-host",
            "b.lan",
            "--cors-origin",
            "https://app.example:8080",
        ]);
        let s = s.unwrap_or_else(|| panic!("serve failed"));
        assert_eq!(
            (s.max_connections_per_ip, s.max_pool_size, s.max_pools),
            (Some(4), Some(2 << 20), Some(9))
        );
        assert_eq!(s.allow_hosts, vec!["a.lan".to_owned(), "b.lan".to_owned()]);
        assert_eq!(s.cors_origins, vec!["https://app.example:8080".to_owned()]);
        for bad in [
            "app.example",
            "https://",
            "https://a.example/",
            "ftp://a.example",
            "https://u@a.example",
        ] {
            assert!(serve(&["--cors-origin", bad]).is_none(), "{bad}");
        }
        assert!(serve(&["--allow-host", "a/b"]).is_none());
        assert!(serve(&["--max-connections-per-ip", "0"]).is_none());
        assert!(serve(&["--max-pools", "0"]).is_none());
        assert_eq!(s.bind, "0.0.0.0:8443");
        assert!(s.allow_non_loopback && !s.insecure_no_tls);
        assert_eq!(s.token_file, Some(PathBuf::from("tok")));
        assert_eq!(s.access, Access::ReadOnly);
        assert_eq!(
            s.tls,
            ServeTls::Files {
                cert: "c.pem".into(),
                key: "k.pem".into()
            }
        );
        assert_eq!(
            (s.max_body, s.max_connections, s.max_tails),
            (Some(1 << 20), Some(64), Some(8))
        );
        assert_eq!(
            serve(&["--tls-self-signed"]).map(|s| s.tls),
            Some(ServeTls::SelfSigned)
        );
        assert_eq!(
            serve(&["--insecure-no-tls"]).map(|s| s.insecure_no_tls),
            Some(true)
        );
        assert_eq!(
            serve(&["--access", "write-only"]).map(|s| s.access),
            Some(Access::WriteOnly)
        );
    }

    #[test]
    fn bind_shapes() {
        for ok in [
            "127.0.0.1:9700",
            "localhost:80",
            "[::1]:9700",
            "[::]:0",
            "example.com:65535",
        ] {
            assert_eq!(
                serve(&["--bind", ok]).map(|s| s.bind),
                Some(ok.to_owned()),
                "{ok}"
            );
        }
        for bad in [
            "9700",
            ":9700",
            "host:",
            "host:65536",
            "host:x",
            "::1:9700",
            "[::1]9700",
            "[]:1",
            "a b:1",
            "h:+1",
        ] {
            assert_eq!(
                serve_kind(&["--bind", bad]),
                Some(UsageErrorKind::InvalidValue),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_flag_with_an_invalid_value_names_the_flag() {
        let cases: &[(&[&str], &str)] = &[
            (&["--bind", "nope"], "--bind"),
            (&["--token-file", ""], "--token-file"),
            (&["--access", "admin"], "--access"),
            (&["--tls-cert", "", "--tls-key", "k"], "--tls-cert"),
            (&["--tls-key", ""], "--tls-key"),
            (&["--max-body", "0"], "--max-body"),
            (&["--max-body", "1Q"], "--max-body"),
            (&["--max-connections", "0"], "--max-connections"),
            (&["--max-tails", "x"], "--max-tails"),
            (&["--allow-non-loopback=1"], "--allow-non-loopback"),
            (&["--insecure-no-tls=1"], "--insecure-no-tls"),
            (&["--tls-self-signed=1"], "--tls-self-signed"),
        ];
        for (args, flag) in cases {
            let mut full = vec!["serve"];
            full.extend_from_slice(args);
            let msg = run(&full).err().map(|e| e.message).unwrap_or_default();
            assert!(msg.contains(flag), "{args:?}: {msg}");
        }
    }

    #[test]
    fn tls_flag_combinations() {
        let c = Some(UsageErrorKind::Conflict);
        assert_eq!(serve_kind(&["--tls-cert", "c"]), c);
        assert_eq!(serve_kind(&["--tls-key", "k"]), c);
        assert_eq!(
            serve_kind(&["--tls-self-signed", "--tls-cert", "c", "--tls-key", "k"]),
            c
        );
        assert_eq!(serve_kind(&["--tls-self-signed", "--tls-key", "k"]), c);
        assert_eq!(serve_kind(&["--insecure-no-tls", "--tls-self-signed"]), c);
        assert_eq!(
            serve_kind(&["--insecure-no-tls", "--tls-cert", "c", "--tls-key", "k"]),
            c
        );
    }

    #[test]
    fn check_takes_the_same_flags_as_serve() {
        let inv = run(&["serve", "check", "--bind", "[::1]:1", "--tls-self-signed"]).ok();
        assert!(matches!(
            inv.map(|i| i.command),
            Some(Command::ServeCheck(ServeArgs {
                tls: ServeTls::SelfSigned,
                ..
            }))
        ));
        assert_eq!(
            kind(&["serve", "check", "--tls-cert", "c"]),
            Some(UsageErrorKind::Conflict)
        );
        assert_eq!(
            kind(&["serve", "check", "--force"]),
            Some(UsageErrorKind::UnknownFlag)
        );
    }

    #[test]
    fn init_flags() {
        let cmd = |args: &[&str]| run(args).ok().map(|i| i.command);
        assert_eq!(
            cmd(&["serve", "init"]),
            Some(Command::ServeInit(ServeInitArgs::default()))
        );
        assert_eq!(
            cmd(&["serve", "init", "--output-dir", "conf", "--force"]),
            Some(Command::ServeInit(ServeInitArgs {
                output_dir: Some("conf".into()),
                force: true
            }))
        );
        assert_eq!(
            kind(&["serve", "init", "--output-dir", ""]),
            Some(UsageErrorKind::InvalidValue)
        );
        assert_eq!(
            kind(&["serve", "init", "--force=1"]),
            Some(UsageErrorKind::UnexpectedValue)
        );
        assert_eq!(
            kind(&["serve", "init", "--bind", "a:1"]),
            Some(UsageErrorKind::UnknownFlag)
        );
        assert_eq!(
            kind(&["serve", "init", "x"]),
            Some(UsageErrorKind::UnexpectedArgument)
        );
    }

    #[test]
    fn subcommand_only_in_first_position() {
        assert_eq!(
            serve_kind(&["--bind", "a:1", "init"]),
            Some(UsageErrorKind::UnexpectedArgument)
        );
        assert_eq!(
            serve_kind(&["start"]),
            Some(UsageErrorKind::UnexpectedArgument)
        );
        assert_eq!(
            serve_kind(&["--", "init"]),
            Some(UsageErrorKind::UnexpectedArgument)
        );
    }

    #[test]
    fn help_for_serve_and_subcommands() {
        let cmd = |args: &[&str]| run(args).ok().map(|i| i.command);
        let help = |t: &str| {
            Some(Command::Help {
                topic: Some(t.to_owned()),
            })
        };
        assert_eq!(cmd(&["serve", "--help"]), help("serve"));
        assert_eq!(cmd(&["serve", "init", "-h"]), help("serve init"));
        assert_eq!(cmd(&["serve", "check", "--help"]), help("serve check"));
    }
}
