//! The binding's numeric limits (the core's are in `plasmite::limits`).

/// Most messages one tail batch carries to JavaScript (one hand-off to the event loop per batch).
pub const TAIL_BATCH_MESSAGES_MAX: u32 = 4096;

/// A batch stops growing once its JSON text reaches this many bytes (a message is never split).
pub const TAIL_BATCH_BYTES_MAX: usize = 1024 * 1024;

/// Largest seq, size or count accepted from JavaScript: numbers above 2^53 are not exact there.
pub const JS_INTEGER_MAX: f64 = 9_007_199_254_740_991.0;
