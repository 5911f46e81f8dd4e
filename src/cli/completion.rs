//! Shell completion scripts for `plasmite` and `pls`, generated from the command table
//! and THE flag table.
//!
//! Every script works the same way: it walks the words before the cursor to find the
//! *context key* — `""` (top level), a command (`"peek"`), or a command and its
//! subcommand (`"pool create"`) — skipping the values of value-taking flags, then
//! offers (1) the allowed values / files / directories when the previous word is a
//! value-taking flag of that context, (2) the context's flags when the current word
//! starts with `-`, (3) otherwise the context's words (commands, subcommands, shells)
//! before any positional, or file names where the command takes a POOL/NAME.
//! Invariants: scripts only contain table text, shell-quoted; subcommands are only
//! recognised directly after `pool`/`serve`, matching the parser.

mod fish;
mod zsh;

/// For the tests that run a script in its shell: a missing shell skips the check, unless
/// `PLASMITE_REQUIRE_SHELLS` is set (CI installs bash, zsh and fish and sets it), where it fails.
#[cfg(test)]
fn shell_missing(shell: &str) {
    assert!(
        std::env::var_os("PLASMITE_REQUIRE_SHELLS").is_none(),
        "{shell} is not installed, and PLASMITE_REQUIRE_SHELLS asks for it"
    );
    eprintln!("{shell} not installed; skipping");
}

use crate::cli::args::types::Shell;
use crate::cli::commands::{self, CommandId, COMMANDS};
use crate::cli::flags::{self, FlagSpec, ValueKind};
use std::fmt::Write as _;

/// Renders the completion script for `shell`.
pub fn render(shell: Shell) -> String {
    match shell {
        Shell::Bash => bash(),
        Shell::Zsh => zsh::render(),
        Shell::Fish => fish::render(),
    }
}

/// One completion context.
struct Context {
    /// `""`, `"peek"`, `"pool create"`, ...
    key: &'static str,
    /// Table id of the context.
    id: CommandId,
    /// Non-flag words offered before any positional: (word, description).
    words: Vec<(&'static str, &'static str)>,
    /// Whether positionals are file-like (POOL or NAME arguments).
    files: bool,
    /// Whether `words` are subcommands, offered only directly after the command.
    subcommands: bool,
}

/// All contexts: the top level, then every command in table order.
fn contexts() -> Vec<Context> {
    let top: Vec<_> = commands::top_level()
        .map(|c| (c.path, c.summary))
        .chain(
            commands::ALIASES
                .iter()
                .filter_map(|a| commands::spec(a.id).map(|c| (a.name, c.summary))),
        )
        .collect();
    let mut out = vec![Context {
        key: "",
        id: CommandId::Root,
        words: top.clone(),
        files: false,
        subcommands: false,
    }];
    let aliased = commands::ALIASES
        .iter()
        .filter_map(|a| commands::spec(a.id).map(|c| (a.name, c)));
    for (key, spec) in COMMANDS.iter().map(|c| (c.path, c)).chain(aliased) {
        let words = match spec.id {
            CommandId::Pool | CommandId::Serve => commands::subcommands(spec.path)
                .map(|c| (c.path.rsplit(' ').next().unwrap_or(c.path), c.summary))
                .collect(),
            CommandId::Completion => crate::cli::args::types::Shell::NAMES
                .iter()
                .map(|&s| (s, "shell"))
                .collect(),
            CommandId::Help => top
                .iter()
                .copied()
                .chain([(crate::cli::help::WHERE_TOPIC, "The --where filter language")])
                .collect(),
            _ => Vec::new(),
        };
        let files = spec
            .args
            .iter()
            .any(|a| a.name.starts_with("POOL") || a.name.starts_with("NAME"));
        out.push(Context {
            key,
            id: spec.id,
            words,
            files,
            subcommands: matches!(spec.id, CommandId::Pool | CommandId::Serve),
        });
    }
    out
}

/// Spellings of a flag: `--long` and, if present, `-s`.
fn spellings(flag: &FlagSpec) -> Vec<String> {
    let mut out = vec![format!("--{}", flag.long)];
    if let Some(s) = flag.short {
        out.push(format!("-{s}"));
    }
    out
}

/// Single-quotes `text` for POSIX shells and fish (`'` becomes `'\''` / `\'`).
fn sq(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Double-quoted case pattern `"key|--flag"`.
fn pattern(key: &str, spelling: &str) -> String {
    format!("\"{key}|{spelling}\"")
}

/// Case patterns of every value-taking flag spelling, over all contexts.
fn value_flag_patterns(contexts: &[Context]) -> Vec<String> {
    let mut out = Vec::new();
    for ctx in contexts {
        for flag in flags::for_command(ctx.id).filter(|f| f.value.is_some()) {
            out.extend(spellings(flag).iter().map(|s| pattern(ctx.key, s)));
        }
    }
    out
}

const BASH_WALK: &str = r#"    local cur prev cmd="" sub="" w i=1 cmdi=0 npos=0
    COMPREPLY=()
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    if [[ "$cur" == "=" ]]; then cur=""; fi
    if [[ "$prev" == "=" && $COMP_CWORD -ge 2 ]]; then prev="${COMP_WORDS[COMP_CWORD-2]}"; fi
    while [[ $i -lt $COMP_CWORD ]]; do
        w="${COMP_WORDS[i]}"
        if [[ "$w" == -* && "$w" != -[0-9]* ]]; then
            if _plasmite_takes_value "$cmd${sub:+ $sub}" "$w"; then
                if [[ "${COMP_WORDS[i+1]}" == "=" ]]; then i=$((i+2)); else i=$((i+1)); fi
            fi
        elif [[ -z "$cmd" ]]; then
            cmd="$w"; cmdi=$i
        elif [[ -z "$sub" && $i -eq $((cmdi+1)) && ( "$cmd" == pool || "$cmd" == serve ) ]]; then
            sub="$w"
        else
            npos=$((npos+1))
        fi
        i=$((i+1))
    done
    local key="$cmd${sub:+ $sub}"
"#;

fn bash_values(s: &mut String, contexts: &[Context]) {
    s.push_str("    case \"$key|$prev\" in\n");
    for ctx in contexts {
        for flag in flags::for_command(ctx.id).filter(|f| f.value.is_some()) {
            let pats: Vec<String> = spellings(flag)
                .iter()
                .map(|p| pattern(ctx.key, p))
                .collect();
            let action = if !flag.choices.is_empty() {
                format!("_plasmite_words {}", sq(&flag.choices.join(" ")))
            } else {
                match flag.kind {
                    ValueKind::File => "_plasmite_files -f".to_owned(),
                    ValueKind::Dir => "_plasmite_files -d".to_owned(),
                    ValueKind::Text => ":".to_owned(),
                }
            };
            let _ = writeln!(s, "        {}) {action}; return 0;;", pats.join("|"));
        }
    }
    s.push_str("    esac\n");
}

fn bash_flags_and_words(s: &mut String, contexts: &[Context]) {
    s.push_str("    if [[ \"$cur\" == -* ]]; then\n        case \"$key\" in\n");
    for ctx in contexts {
        let all: Vec<String> = flags::for_command(ctx.id).flat_map(spellings).collect();
        let _ = writeln!(
            s,
            "            \"{}\") _plasmite_words {};;",
            ctx.key,
            sq(&all.join(" "))
        );
    }
    s.push_str("        esac\n        return 0\n    fi\n");
    s.push_str("    case \"$key\" in\n");
    for ctx in contexts {
        let words: Vec<&str> = ctx.words.iter().map(|(w, _)| *w).collect();
        let when = if ctx.subcommands {
            "$COMP_CWORD -eq $((cmdi+1))"
        } else {
            "$npos -eq 0"
        };
        let action = match (words.is_empty(), ctx.files) {
            (false, _) => format!("[[ {when} ]] && _plasmite_words {}", sq(&words.join(" "))),
            (true, true) => "_plasmite_files -f".to_owned(),
            (true, false) => ":".to_owned(),
        };
        let _ = writeln!(s, "        \"{}\") {action};;", ctx.key);
    }
    s.push_str("    esac\n    return 0\n");
}

/// The bash script (bash 4+; works with or without the bash-completion package).
fn bash() -> String {
    let contexts = contexts();
    let mut s = String::from(
        "# bash completion for plasmite and pls (generated by 'plasmite completion bash')\n\n",
    );
    s.push_str("_plasmite_takes_value() {\n    case \"$1|$2\" in\n");
    for p in value_flag_patterns(&contexts) {
        let _ = writeln!(s, "        {p}) return 0;;");
    }
    s.push_str("    esac\n    return 1\n}\n\n");
    s.push_str("_plasmite_words() {\n    local IFS=$' \\t\\n'\n    COMPREPLY=($(compgen -W \"$1\" -- \"$cur\"))\n}\n\n");
    s.push_str("_plasmite_files() {\n    local IFS=$'\\n'\n    compopt -o filenames 2>/dev/null\n    COMPREPLY=($(compgen \"$1\" -- \"$cur\"))\n}\n\n");
    s.push_str("_plasmite() {\n");
    s.push_str(BASH_WALK);
    bash_values(&mut s, &contexts);
    bash_flags_and_words(&mut s, &contexts);
    s.push_str("}\n\ncomplete -F _plasmite plasmite pls\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    /// Runs `bash -c PROGRAM` with `stdin` as standard input; `None` if bash is missing.
    fn bash_run(program: &str, stdin: &str) -> Option<(bool, String, String)> {
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(program)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(stdin.as_bytes()).ok()?;
        let out = child.wait_with_output().ok()?;
        Some((
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    /// Completes `line` (words; the last one is being completed) and returns COMPREPLY.
    fn complete(words: &[&str]) -> Option<Vec<String>> {
        let quoted: Vec<String> = words.iter().map(|w| sq(w)).collect();
        let program = format!(
            "source /dev/stdin; COMP_WORDS=({}); COMP_CWORD={}; _plasmite; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            quoted.join(" "),
            words.len().saturating_sub(1)
        );
        let (ok, out, err) = bash_run(&program, &bash())?;
        assert!(ok, "{err}");
        Some(
            out.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    #[test]
    fn bash_script_is_valid_and_registers_both_names() {
        let Some((ok, _, err)) = bash_run("bash -n /dev/stdin", &bash()) else {
            super::shell_missing("bash");
            return;
        };
        assert!(ok, "bash -n failed: {err}");
        let Some((ok, out, err)) = bash_run("source /dev/stdin; complete -p plasmite pls", &bash())
        else {
            return;
        };
        assert!(ok, "{err}");
        assert!(out.contains("-F _plasmite plasmite"), "{out}");
        assert!(out.contains("-F _plasmite pls"), "{out}");
    }

    #[test]
    fn bash_completes_commands_subcommands_flags_and_values() {
        let cases: &[(&[&str], &[&str])] = &[
            (&["pls", "pe"], &["peek"]),
            (&["plasmite", "p"], &["poke", "peek", "pool"]),
            (
                &["pls", "pool", ""],
                &[
                    "create",
                    "list",
                    "info",
                    "delete",
                    "cursors",
                    "cursor-delete",
                ],
            ),
            (&["pls", "serve", "i"], &["init"]),
            (&["pls", "serve", "--bind", "x", ""], &[]),
            (&["pls", "pool", "create", "a", "Cargo.t"], &["Cargo.toml"]),
            (&["pls", "completion", ""], &["bash", "zsh", "fish"]),
            (&["pls", "help", "w"], &["where"]),
            (&["pls", "pool", "list", "--j"], &["--json"]),
            (&["pls", "peek", "--for"], &["--format"]),
            (&["pls", "peek", "--format", ""], &["jsonl", "pretty"]),
            (&["pls", "peek", "--format", "=", ""], &["jsonl", "pretty"]),
            (&["pls", "poke", "--in", "e"], &["event-stream"]),
            (&["pls", "poke", "--errors", ""], &["stop", "skip"]),
            (&["pls", "poke", "--durability", "f"], &["fast", "flush"]),
            (&["pls", "--color", ""], &["auto", "always", "never"]),
            (
                &["pls", "serve", "--access", "read-"],
                &["read-only", "read-write"],
            ),
            (
                &["pls", "serve", "check", "--tls-s"],
                &["--tls-self-signed"],
            ),
            (&["pls", "pool", "create", "--s"], &["--size"]),
            (&["pls", "--dir", "/tmp", "pool", "l"], &["list"]),
            (
                &["pls", "peek", "--tag", "x", "--on"],
                &["--on-gap", "--one"],
            ),
            (&["pls", "peek", "--tail", ""], &[]),
            (
                &["pls", "-"],
                &["--dir", "--color", "--version", "-V", "--help", "-h"],
            ),
        ];
        for (words, want) in cases {
            let Some(got) = complete(words) else {
                super::shell_missing("bash");
                return;
            };
            let mut got = got;
            let mut want: Vec<String> = want.iter().map(|w| (*w).to_owned()).collect();
            got.sort();
            want.sort();
            assert_eq!(got, want, "{words:?}");
        }
    }

    #[test]
    fn every_flag_and_enum_value_appears_in_every_script() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = render(shell);
            for flag in flags::FLAGS {
                assert!(
                    script.contains(flag.long),
                    "{shell:?} lacks --{}",
                    flag.long
                );
                for choice in flag.choices {
                    assert!(script.contains(choice), "{shell:?} lacks {choice}");
                }
            }
            for spec in COMMANDS {
                let last = spec.path.rsplit(' ').next().unwrap_or(spec.path);
                assert!(script.contains(last), "{shell:?} lacks {}", spec.path);
            }
            assert!(
                script.contains("plasmite") && script.contains("pls"),
                "{shell:?}"
            );
        }
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(sq("it's"), "'it'\\''s'");
        assert_eq!(sq("a b"), "'a b'");
    }
}
