//! The shared tokenizer over `lexopt`: resolves flags through the flag table, takes
//! and converts flag values, and turns every failure into a [`UsageError`] that names
//! the flag as the user typed it.
//!
//! Invariants: a flag is only ever returned if the table lists it for the current
//! command; a non-repeatable flag is returned at most once per command; `-<digit>...`
//! arguments are positional values; a flag value is never silently taken from
//! something that looks like another flag (`--tail --one` is "missing value").

use super::{help_hint, UsageError, UsageErrorKind};
use crate::cli::commands::{self, CommandId};
use crate::cli::flags::{self, FlagId, FlagSpec};
use crate::cli::units::{self, Since, UnitError};
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::time::Duration;

/// One token of the command line after table resolution.
pub(super) enum Item {
    /// A flag listed in the table for the current command (never `--help`).
    Flag(&'static FlagSpec),
    /// `-h` / `--help`.
    Help,
    /// A positional argument.
    Value(OsString),
}

/// Cursor over the arguments, scoped to one command at a time.
pub(super) struct Lex {
    parser: lexopt::Parser,
    cmd: CommandId,
    seen: Vec<FlagId>,
    /// The last flag as typed (`-n`, `--tail`), for messages.
    typed: String,
}

/// `-` followed by an ASCII digit: a negative number, never a flag.
fn is_dash_number(arg: &OsStr) -> bool {
    let b = arg.as_encoded_bytes();
    b.first() == Some(&b'-') && b.get(1).is_some_and(u8::is_ascii_digit)
}

/// Would `arg` be read as a flag (so it cannot silently be a flag's value)?
fn looks_like_flag(arg: &OsStr) -> bool {
    let b = arg.as_encoded_bytes();
    b.len() > 1 && b.first() == Some(&b'-') && !is_dash_number(arg)
}

/// Lossy, quoted-safe display of a raw argument.
pub(super) fn show(value: &OsStr) -> String {
    value.to_string_lossy().into_owned()
}

/// Converts a positional argument to text.
pub(super) fn utf8(value: OsString, what: &str) -> Result<String, UsageError> {
    value.into_string().map_err(|v| {
        UsageError::new(
            UsageErrorKind::NotUnicode,
            format!("{what} '{}' is not valid UTF-8", show(&v)),
        )
    })
}

/// Levenshtein distance, for "did you mean" hints (inputs are short).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(usize::MAX) + usize::from(ca != *cb);
            let del = prev
                .get(j + 1)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            let ins = cur.get(j).copied().unwrap_or(usize::MAX).saturating_add(1);
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(usize::MAX)
}

/// The candidate closest to `name` if it is within 2 edits.
pub(super) fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .map(|c| (distance(name, c), c))
        .filter(|&(d, _)| d <= 2)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

impl Lex {
    /// A cursor at the top level (global flags).
    pub(super) fn new(args: Vec<OsString>) -> Self {
        Lex {
            parser: lexopt::Parser::from_args(args),
            cmd: CommandId::Root,
            seen: Vec::new(),
            typed: String::new(),
        }
    }

    /// Switches to parsing `cmd`'s flags.
    pub(super) fn enter(&mut self, cmd: CommandId) {
        self.cmd = cmd;
        self.seen.clear();
    }

    /// The command currently being parsed.
    pub(super) fn cmd(&self) -> CommandId {
        self.cmd
    }

    /// Whether flag `id` was given for the current command.
    pub(super) fn given(&self, id: FlagId) -> bool {
        self.seen.contains(&id)
    }

    /// The next argument, peeked without consuming: only a plain word
    /// (used to detect `serve init`).
    pub(super) fn peek_word(&mut self) -> Option<String> {
        let raw = self.parser.try_raw_args()?;
        raw.peek().and_then(OsStr::to_str).map(str::to_owned)
    }

    /// Consumes the argument returned by [`Lex::peek_word`].
    pub(super) fn skip_word(&mut self) {
        if let Some(mut raw) = self.parser.try_raw_args() {
            raw.next();
        }
    }

    /// Every argument not yet consumed, untouched (flags included): the child argv of `tap`.
    pub(super) fn rest_raw(&mut self) -> Vec<OsString> {
        match self.parser.try_raw_args() {
            Some(raw) => raw.collect(),
            None => Vec::new(),
        }
    }

    /// The next token, or `None` at the end.
    pub(super) fn next(&mut self) -> Result<Option<Item>, UsageError> {
        if let Some(mut raw) = self.parser.try_raw_args() {
            if let Some(value) = raw.next_if(is_dash_number) {
                return Ok(Some(Item::Value(value)));
            }
        }
        let (typed, found) = match self.parser.next() {
            Ok(None) => return Ok(None),
            Ok(Some(lexopt::Arg::Value(v))) => return Ok(Some(Item::Value(v))),
            Ok(Some(lexopt::Arg::Long(l))) => (format!("--{l}"), flags::find_long(self.cmd, l)),
            Ok(Some(lexopt::Arg::Short(c))) => (format!("-{c}"), flags::find_short(self.cmd, c)),
            Err(e) => return Err(self.lexopt_error(e)),
        };
        self.typed = typed;
        let Some(flag) = found else {
            return Err(self.unknown_flag());
        };
        if flag.value.is_none() && self.typed.starts_with("--") {
            if let Some(value) = self.parser.optional_value() {
                return Err(UsageError::new(
                    UsageErrorKind::UnexpectedValue,
                    format!("{} takes no value (got '{}')", self.typed, show(&value)),
                )
                .with_hint(help_hint(self.cmd)));
            }
        }
        if flag.id == FlagId::Help {
            return Ok(Some(Item::Help));
        }
        if !flag.repeatable && self.given(flag.id) {
            return Err(UsageError::new(
                UsageErrorKind::Repeated,
                format!("{} was given more than once", self.typed),
            )
            .with_hint(help_hint(self.cmd)));
        }
        self.seen.push(flag.id);
        Ok(Some(Item::Flag(flag)))
    }

    fn unknown_flag(&self) -> UsageError {
        let typed = &self.typed;
        let here = commands::path_of(self.cmd);
        let long = typed.trim_start_matches('-');
        let is_global = flags::find_long(CommandId::Root, long).is_some()
            || long.chars().count() == 1
                && long
                    .chars()
                    .all(|c| flags::find_short(CommandId::Root, c).is_some());
        let message = if here.is_empty() {
            format!("unknown flag {typed}")
        } else {
            format!("unknown flag {typed} for '{here}'")
        };
        let hint = if is_global && !here.is_empty() {
            format!("{typed} is a global flag: put it before the command, e.g. 'plasmite {typed} ... {here} ...'")
        } else if let Some(best) = closest(long, flags::for_command(self.cmd).map(|f| f.long))
            .filter(|_| typed.starts_with("--"))
        {
            format!("did you mean '--{best}'?")
        } else {
            help_hint(self.cmd)
        };
        UsageError::new(UsageErrorKind::UnknownFlag, message).with_hint(hint)
    }

    fn lexopt_error(&self, e: lexopt::Error) -> UsageError {
        let (kind, message) = match e {
            lexopt::Error::UnexpectedValue { option, value } => (
                UsageErrorKind::UnexpectedValue,
                format!("{option} takes no value (got '{}')", show(&value)),
            ),
            lexopt::Error::MissingValue { option } => (
                UsageErrorKind::MissingValue,
                format!("missing value for {}", option.unwrap_or_default()),
            ),
            lexopt::Error::NonUnicodeValue(v) => (
                UsageErrorKind::NotUnicode,
                format!("argument '{}' is not valid UTF-8", show(&v)),
            ),
            other => (UsageErrorKind::InvalidValue, other.to_string()),
        };
        UsageError::new(kind, message).with_hint(help_hint(self.cmd))
    }

    /// Error for a table flag that the current command's parser has no arm for
    /// (a programming error, caught by the table tests).
    pub(super) fn unhandled(&self, flag: &FlagSpec) -> UsageError {
        UsageError::new(
            UsageErrorKind::UnknownFlag,
            format!("--{} is not supported here", flag.long),
        )
        .with_hint(help_hint(self.cmd))
    }

    /// An error about the current flag's value.
    pub(super) fn bad_value(&self, value: &str, why: &str) -> UsageError {
        UsageError::new(
            UsageErrorKind::InvalidValue,
            format!("invalid value '{value}' for {}: {why}", self.typed),
        )
        .with_hint(help_hint(self.cmd))
    }

    fn unit_error(&self, value: &str, e: UnitError) -> UsageError {
        let hint = e.hint.unwrap_or_else(|| help_hint(self.cmd));
        self.bad_value(value, &e.message).with_hint(hint)
    }

    /// The raw value of the flag just returned by [`Lex::next`].
    pub(super) fn raw_value(&mut self) -> Result<OsString, UsageError> {
        if let Some(v) = self.parser.optional_value() {
            return Ok(v);
        }
        let missing = || {
            UsageError::new(
                UsageErrorKind::MissingValue,
                format!("missing value for {}", self.typed),
            )
        };
        let Some(mut raw) = self.parser.try_raw_args() else {
            return Err(missing().with_hint(help_hint(self.cmd)));
        };
        match raw.peek() {
            None => Err(missing().with_hint(help_hint(self.cmd))),
            Some(next) if looks_like_flag(next) => Err(missing().with_hint(format!(
                "give {typed} a value before '{}' (write {typed}=VALUE if the value starts with '-')",
                show(next),
                typed = self.typed,
            ))),
            Some(_) => raw.next().ok_or_else(missing),
        }
    }

    /// The flag's value as non-empty UTF-8 text.
    pub(super) fn string(&mut self, _flag: &FlagSpec) -> Result<String, UsageError> {
        let raw = self.raw_value()?;
        let text = raw.into_string().map_err(|v| {
            UsageError::new(
                UsageErrorKind::NotUnicode,
                format!("value '{}' for {} is not valid UTF-8", show(&v), self.typed),
            )
        })?;
        if text.is_empty() {
            return Err(self.bad_value("", "must not be empty"));
        }
        Ok(text)
    }

    /// The flag's value as a non-empty path (any bytes allowed).
    pub(super) fn path(&mut self, _flag: &FlagSpec) -> Result<PathBuf, UsageError> {
        let raw = self.raw_value()?;
        if raw.is_empty() {
            return Err(self.bad_value("", "must not be empty"));
        }
        Ok(PathBuf::from(raw))
    }

    /// The flag's value as one of the table's `choices`.
    pub(super) fn choice<T>(
        &mut self,
        flag: &FlagSpec,
        lookup: fn(&str) -> Option<T>,
    ) -> Result<T, UsageError> {
        let text = self.string(flag)?;
        lookup(&text).ok_or_else(|| {
            self.bad_value(
                &text,
                &format!("expected one of: {}", flag.choices.join(", ")),
            )
        })
    }

    /// The flag's value as a whole number, with `min` as the smallest allowed.
    pub(super) fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
        &mut self,
        flag: &FlagSpec,
        min: T,
    ) -> Result<T, UsageError> {
        let text = self.string(flag)?;
        let why = format!("expected a whole number from {min} up");
        match text.parse::<T>() {
            Ok(n) if text.bytes().all(|b| b.is_ascii_digit()) && n >= min => Ok(n),
            _ => Err(self.bad_value(&text, &why)),
        }
    }

    /// The flag's value as a SIZE in bytes, with `min` as the smallest allowed.
    pub(super) fn size(&mut self, flag: &FlagSpec, min: u64) -> Result<u64, UsageError> {
        let text = self.string(flag)?;
        match units::parse_size(&text) {
            Ok(n) if n >= min => Ok(n),
            Ok(_) => Err(self.bad_value(&text, &format!("must be at least {min} bytes"))),
            Err(e) => Err(self.unit_error(&text, e)),
        }
    }

    /// The flag's value as a DURATION.
    pub(super) fn duration(&mut self, flag: &FlagSpec) -> Result<Duration, UsageError> {
        let text = self.string(flag)?;
        units::parse_duration(&text).map_err(|e| self.unit_error(&text, e))
    }

    /// The flag's value as a `--since` TIME.
    pub(super) fn since(&mut self, flag: &FlagSpec) -> Result<Since, UsageError> {
        let text = self.string(flag)?;
        units::parse_since(&text).map_err(|e| self.unit_error(&text, e))
    }

    /// The flag's value as a finite `f64` in `0..=max`.
    pub(super) fn ratio(&mut self, flag: &FlagSpec, max: f64) -> Result<f64, UsageError> {
        let text = self.string(flag)?;
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() && (0.0..=max).contains(&x) => Ok(x),
            _ => Err(self.bad_value(&text, &format!("expected a number from 0 to {max}"))),
        }
    }
}

/// Positional arguments collected by a command loop, consumed in order at the end.
pub(super) struct Positionals {
    cmd: CommandId,
    items: std::vec::IntoIter<OsString>,
}

impl Positionals {
    /// Wraps the collected values of `cmd`.
    pub(super) fn new(cmd: CommandId, items: Vec<OsString>) -> Self {
        Positionals {
            cmd,
            items: items.into_iter(),
        }
    }

    fn missing(&self, name: &str) -> UsageError {
        UsageError::new(
            UsageErrorKind::MissingArgument,
            format!("missing {name} for '{}'", commands::path_of(self.cmd)),
        )
        .with_hint(super::usage_hint(self.cmd))
    }

    /// The next value, required, as non-empty UTF-8.
    pub(super) fn required(&mut self, name: &str) -> Result<String, UsageError> {
        match self.optional(name)? {
            Some(v) => Ok(v),
            None => Err(self.missing(name)),
        }
    }

    /// The next value if present, as non-empty UTF-8.
    pub(super) fn optional(&mut self, name: &str) -> Result<Option<String>, UsageError> {
        let Some(raw) = self.items.next() else {
            return Ok(None);
        };
        let text = utf8(raw, name)?;
        if text.is_empty() {
            return Err(UsageError::new(
                UsageErrorKind::InvalidValue,
                format!("{name} must not be empty"),
            )
            .with_hint(super::usage_hint(self.cmd)));
        }
        Ok(Some(text))
    }

    /// All remaining values (at least one, at most `max`).
    pub(super) fn at_least_one(
        &mut self,
        name: &str,
        max: usize,
    ) -> Result<Vec<String>, UsageError> {
        let mut out = vec![self.required(name)?];
        while let Some(v) = self.optional(name)? {
            if out.len() == max {
                return Err(UsageError::new(
                    UsageErrorKind::UnexpectedArgument,
                    format!("too many {name} arguments (at most {max})"),
                ));
            }
            out.push(v);
        }
        Ok(out)
    }

    /// Errors if any value is left over.
    pub(super) fn finish(mut self) -> Result<(), UsageError> {
        match self.items.next() {
            None => Ok(()),
            Some(extra) => Err(UsageError::new(
                UsageErrorKind::UnexpectedArgument,
                format!(
                    "unexpected argument '{}' for '{}'",
                    show(&extra),
                    commands::path_of(self.cmd)
                ),
            )
            .with_hint(super::usage_hint(self.cmd))),
        }
    }
}

/// A conflict between two flags (or a flag and an argument).
/// Records the output format of a management command; `--json` and `--format pretty` conflict.
pub(super) fn set_report_format(
    slot: &mut Option<super::types::OutputFormat>,
    format: super::types::OutputFormat,
    json_switch: bool,
    cmd: CommandId,
) -> Result<(), UsageError> {
    match *slot {
        Some(previous) if previous != format => Err(if json_switch {
            conflict("--json", "--format pretty", cmd)
        } else {
            conflict("--format pretty", "--json", cmd)
        }),
        _ => {
            *slot = Some(format);
            Ok(())
        }
    }
}

pub(super) fn conflict(a: &str, b: &str, cmd: CommandId) -> UsageError {
    UsageError::new(
        UsageErrorKind::Conflict,
        format!("{a} cannot be used with {b}"),
    )
    .with_hint(help_hint(cmd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_numbers_and_flag_lookalikes() {
        for (arg, num, flag) in [
            ("-5", true, false),
            ("-1.5e3", true, false),
            ("-", false, false),
            ("-x", false, true),
            ("--x", false, true),
            ("--", false, true),
            ("5", false, false),
        ] {
            assert_eq!(is_dash_number(OsStr::new(arg)), num, "{arg}");
            assert_eq!(looks_like_flag(OsStr::new(arg)), flag, "{arg}");
        }
    }

    #[test]
    fn closest_suggests_within_two_edits() {
        let names = ["tail", "since", "where"];
        assert_eq!(closest("tial", names.iter().copied()), Some("tail"));
        assert_eq!(closest("wher", names.iter().copied()), Some("where"));
        assert_eq!(closest("zzzzzz", names.iter().copied()), None);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
