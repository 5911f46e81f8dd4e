//! jq-compatible predicate language for `pls peek POOL --where EXPR`.
//!
//! Owns the public API: `Filter` (parse once, evaluate many times against a
//! message envelope), `matches_all` (repeated `--where` flags AND together)
//! and the error types. Invariants: parsing and evaluation never panic on
//! any input; an ordinary runtime error (a type error, a division by zero)
//! makes `matches` answer `false`, but a limit that stops evaluation before
//! the answer is known is returned as an error, never read as `false`; all
//! resource use is bounded by the constants in `crate::limits`.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod ast;
mod builtins;
pub mod doc;
mod eval;
mod lexer;
pub mod needs;
mod ops;
mod parser;
mod path;
mod regex;
mod regex_parse;
mod regex_vm;
mod value;

#[cfg(test)]
mod regex_tests;
#[cfg(test)]
mod tests;

use std::fmt;

use serde_json::Value;

/// A filter expression that failed to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 0-based character (not byte) position in the source.
    pub pos: usize,
    /// Human-readable description, e.g. `expected ')'`.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "parse error at position {}: {}", self.pos, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Machine-readable category of a runtime error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalErrorKind {
    /// An operator or builtin got a value of the wrong type (includes
    /// indexing a non-object by key, iterating a scalar, ...).
    Type,
    /// `/` or `%` with a zero divisor.
    DivisionByZero,
    /// Arithmetic produced a non-finite number.
    NumberRange,
    /// A regex computed at runtime failed to compile.
    Regex,
    /// More than `FILTER_OUTPUTS_MAX` generator outputs (limit).
    OutputsLimit,
    /// More than `FILTER_ALLOC_UNITS_MAX` units copied/built (limit).
    AllocLimit,
    /// A value nested deeper than `FILTER_VALUE_DEPTH_MAX` (limit).
    ValueDepth,
}

/// A runtime error while evaluating a filter against one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    /// Stable category.
    pub kind: EvalErrorKind,
    /// Human-readable description.
    pub message: String,
}

impl EvalError {
    pub(crate) fn new(kind: EvalErrorKind, message: impl Into<String>) -> EvalError {
        EvalError {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn type_error(message: impl Into<String>) -> EvalError {
        EvalError::new(EvalErrorKind::Type, message)
    }

    /// Limit errors are never suppressed by `?` or `//`.
    pub fn is_limit(&self) -> bool {
        matches!(
            self.kind,
            EvalErrorKind::OutputsLimit | EvalErrorKind::AllocLimit | EvalErrorKind::ValueDepth
        )
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

/// A parsed `--where` expression.
#[derive(Debug, Clone)]
pub struct Filter {
    root: ast::Node,
    source: String,
}

impl Filter {
    /// Parses `src` (at most `FILTER_SOURCE_BYTES_MAX` bytes).
    pub fn parse(src: &str) -> Result<Filter, ParseError> {
        Ok(Filter {
            root: parser::parse(src)?,
            source: src.to_string(),
        })
    }

    /// Test helper: the same filter with the single-value fast path off.
    #[cfg(test)]
    pub(crate) fn without_fast_path(mut self) -> Filter {
        ast::clear_single(&mut self.root);
        self
    }

    /// The source text this filter was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// `Ok(true)` when evaluation yields at least one truthy output before
    /// any runtime error (an error ends the output stream; outputs produced
    /// before it still count). An ordinary runtime error before any truthy
    /// output gives `Ok(false)`; a limit error (see [`EvalError::is_limit`])
    /// before any truthy output is returned: the answer is unknown.
    pub fn matches(&self, input: &Value) -> Result<bool, EvalError> {
        let mut cx = eval::Ctx::new();
        if self.root.single {
            return match eval::eval_single(&mut cx, &self.root, input) {
                Ok(v) => Ok(value::truthy(&v)),
                Err(e) if e.is_limit() => Err(e),
                Err(_) => Ok(false),
            };
        }
        let mut outs = eval::Outs::new();
        // Outputs produced before an error are kept, so `(true, error)`
        // matches while `(error, true)` does not.
        let r = eval::eval(&mut cx, &self.root, input, &mut outs);
        if outs.iter().any(|v| value::truthy(v)) {
            return Ok(true);
        }
        match r {
            Err(e) if e.is_limit() => Err(e),
            _ => Ok(false),
        }
    }

    /// All outputs of the filter for `input`, or the first runtime error.
    pub fn eval(&self, input: &Value) -> Result<Vec<Value>, EvalError> {
        let mut cx = eval::Ctx::new();
        let mut outs = eval::Outs::new();
        eval::eval(&mut cx, &self.root, input, &mut outs)?;
        Ok(outs.into_iter().map(|v| v.into_owned()).collect())
    }
}

/// True when every filter matches `input` (repeated `--where` flags AND
/// together; an empty list matches everything). Any `false` decides; when
/// none is false but one could not be decided, its limit error is returned.
pub fn matches_all(filters: &[Filter], input: &Value) -> Result<bool, EvalError> {
    let mut undecided = None;
    for f in filters {
        match f.matches(input) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(e) => {
                undecided.get_or_insert(e);
            }
        }
    }
    undecided.map_or(Ok(true), Err)
}

#[cfg(test)]
mod limit_tests;
