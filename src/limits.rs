//! Every numeric limit of plasmite, as a named constant (unit last in the name).
//!
//! Each limit is enforced in one place and has a test at its edge. `spec/format.md`, `spec/cli.md` and
//! `spec/http.md` quote these values.

use std::time::Duration;

/// Smallest pool file accepted by `create_pool` (header + index + a usable ring).
pub const POOL_SIZE_BYTES_MIN: u64 = 64 * 1024;
/// Largest pool file accepted by `create_pool`.
pub const POOL_SIZE_BYTES_MAX: u64 = 64 * 1024 * 1024 * 1024;
/// Pool size used when none is given (the product README's "default 1MB").
pub const POOL_SIZE_BYTES_DEFAULT: u64 = 1024 * 1024;

/// Largest `data` JSON text of one message, whatever the pool size. A message must also fit in half of
/// its pool's ring (see `spec/format.md`).
pub const MESSAGE_DATA_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Most tags on one message.
pub const TAGS_PER_MESSAGE_MAX: usize = 64;
/// Longest tag, in bytes of UTF-8.
pub const TAG_BYTES_MAX: usize = 255;

/// Most messages committed under one lock hold by a batch append (longer batches take the lock again).
pub const BATCH_MESSAGES_MAX: usize = 4096;
/// Most frame bytes committed under one lock hold (also capped at half the ring).
pub const BATCH_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Longest pool name, in bytes.
pub const POOL_NAME_BYTES_MAX: usize = 128;

/// Longest single sleep of a waiting reader before it re-checks the pool and its cancel flag.
pub const WAIT_SLICE: Duration = Duration::from_millis(500);
/// How often a waiting tail checks that its pool file is still linked at its path (one `fstat` and
/// one `stat`): with [`WAIT_SLICE`] it notices a deleted or replaced pool within 750 ms.
pub const TAIL_FILE_CHECK_INTERVAL: Duration = Duration::from_millis(250);
/// How often an attached writer re-checks, before a `fast` append, that its file still has a link
/// (one `fstat`: a syscall, like each half of the `flock` pair every append pays, so not on every
/// one; `flush` appends, which sync anyway, check every time). Only a file removed behind
/// plasmite's back needs it: `delete` is Busy while a writer is attached.
pub const WRITER_LINK_CHECK_INTERVAL: Duration = Duration::from_millis(100);
/// How long `delete` keeps trying before it answers Busy. A writer that just closed can still be
/// "attached" for an instant: a child process another thread of its program is spawning holds a
/// copy of every descriptor between fork and exec. A writer that stays attached is still refused.
pub const DELETE_BUSY_GRACE: Duration = Duration::from_millis(250);
/// Pause between two of `delete`'s tries within [`DELETE_BUSY_GRACE`].
pub const DELETE_BUSY_RETRY: Duration = Duration::from_millis(5);
/// Poll interval of a reader that cannot register as a waiter (read-only mapping).
pub const WAIT_POLL_READ_ONLY: Duration = Duration::from_millis(1);
/// Poll interval off Linux, where there is no futex.
pub const WAIT_POLL_FALLBACK: Duration = Duration::from_millis(1);

/// How many times a reader retries a state snapshot torn by a concurrent writer before yielding.
pub const STATE_READ_SPINS_MAX: u32 = 64;
/// How many yields a reader makes before reporting the pool `Busy` (a writer died mid-publish can't
/// cause this: publishing is one store).
pub const STATE_READ_YIELDS_MAX: u32 = 100_000;

// ---- JSON text and stdin ingest ----

/// Deepest container nesting `json::compact` / `json::scan_value` accept.
///
/// serde_json's default recursion limit (128) rejects the 128th nested
/// array/object, so it accepts at most 127 levels; we accept exactly the same
/// so every document we emit parses again with serde_json.
pub const JSON_DEPTH_MAX: usize = 127;

/// Default largest record, in bytes of raw input text, that the ingest reader
/// accepts (per-reader override via `Reader::with_limits`).
pub const INGEST_RECORD_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Size of the ingest reader's fixed read buffer, in bytes; the buffer only
/// grows beyond this to hold a single record larger than it.
pub const INGEST_READ_BUFFER_BYTES_MAX: usize = 64 * 1024;

// ---- command line ----

/// Largest value accepted by any SIZE flag (`--create-size`, `--size`, `--max-body`):
/// 1 PiB. Command-specific policy (e.g. the largest pool the library can map) is
/// checked later; this bound only keeps suffix multiplication far from `u64` overflow.
pub const SIZE_BYTES_MAX: u64 = 1 << 50;

/// Largest value accepted by any DURATION flag (`--timeout`, `--retry-delay`, relative
/// `--since`): 100 years of 365 days, in seconds.
pub const DURATION_SECONDS_MAX: u64 = 100 * 365 * 86_400;

/// Most fraction-of-second digits accepted in an RFC 3339 timestamp (nanoseconds).
pub const RFC3339_FRACTION_DIGITS_MAX: usize = 9;

/// Largest accepted `--replay` speed factor. Larger factors are indistinguishable from
/// "no delay" in practice; the bound keeps delay arithmetic well away from infinity.
pub const REPLAY_SPEED_MAX: f64 = 1_000_000.0;

/// Most positional arguments accepted by commands that take a list (`pool create`,
/// `pool delete`). Guards against accidental glob explosions.
pub const POOL_NAMES_COUNT_MAX: usize = 1024;

// ---- durable named cursors ----

/// Longest cursor name, in bytes (a file name in the pool's cursor directory).
pub const CURSOR_NAME_BYTES_MAX: usize = 128;

/// Most bytes read of a cursor file (`{"seq":…,"pool_created_ns":…}` is under 64).
pub const CURSOR_FILE_BYTES_MAX: u64 = 4096;

/// A cursor consumer (`peek --cursor`) flushes its output and commits at least every this many
/// messages read (and whenever it catches up or ends): the most a restart can repeat.
pub const CURSOR_COMMIT_MESSAGES: u64 = 4096;

// ---- --where filter language ----

/// Maximum size of a filter expression's source text, in bytes (UTF-8).
pub const FILTER_SOURCE_BYTES_MAX: usize = 8 * 1024;

/// Maximum nesting depth of a filter expression.
///
/// Counts both bracket-like nesting (`(`, `[`, `{`, `if`, function
/// arguments, unary minus) and the height of the syntax tree (each path
/// step, operator or call adds one level). Deeper input is a parse error.
pub const FILTER_DEPTH_MAX: usize = 128;

/// Maximum number of values produced by generators (`,`, `.[]`, and the
/// implicit iteration inside `any`, `all` and `map`) while evaluating one
/// filter against one message. Exceeding it is a runtime error.
pub const FILTER_OUTPUTS_MAX: usize = 100_000;

/// Maximum total size of values copied or built while evaluating one filter
/// against one message, in units of one per JSON value node plus one per
/// byte of string content (object keys included).
pub const FILTER_ALLOC_UNITS_MAX: usize = 16 * 1024 * 1024;

/// Maximum nesting depth of JSON values that comparison, `contains` and
/// `tostring` will recurse into.
pub const FILTER_VALUE_DEPTH_MAX: usize = 512;

/// Maximum size of a regular expression pattern, in bytes (UTF-8).
pub const REGEX_PATTERN_BYTES_MAX: usize = 1024;

/// Maximum repetition count allowed in a `{m}`, `{m,}` or `{m,n}` quantifier.
pub const REGEX_REPEAT_MAX: u32 = 1000;

/// Maximum nesting depth of groups `( )` / `(?: )` in a regex pattern.
pub const REGEX_GROUP_DEPTH_MAX: usize = 32;

/// Maximum number of instructions in a compiled regex program (counted
/// repetitions are expanded, so `(a{100}){100}` needs about 10,000).
pub const REGEX_PROGRAM_INSTS_MAX: usize = 10_000;

// ---- HTTP server (`plasmite serve`) and remote client ----
//
// `spec/http.md` quotes every value below. The `*_DEFAULT` ones can be changed per server (flags or
// `server::Limits`); the others are fixed.

/// Default largest request body, in bytes (`serve --max-body`).
pub const HTTP_BODY_BYTES_MAX_DEFAULT: u64 = 1024 * 1024;
/// Largest request head (request line, headers and the blank line), in bytes; more is a 431.
pub const HTTP_HEAD_BYTES_MAX: usize = 16 * 1024;
/// Most header lines in one request; more is a 431.
pub const HTTP_HEADERS_COUNT_MAX: usize = 64;
/// Default most client connections open at once (`serve --max-connections`).
pub const HTTP_CONNECTIONS_MAX_DEFAULT: u32 = 512;
/// Default most tails streaming at once (`serve --max-tails`); more is a 423.
pub const HTTP_TAILS_MAX_DEFAULT: u32 = 64;
/// Time a client has to send a whole request head: the first from the accept (a TLS handshake
/// included), each later one from its first byte.
pub const HTTP_HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Time a client has to send a request body, from the end of its head.
pub const HTTP_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Time a connection may stay open with no request in progress.
pub const HTTP_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Time one answer or tail chunk may take to be accepted by the client, in total over its partial
/// writes (a client that stops reading is disconnected).
pub const HTTP_WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest tail stream, in milliseconds; also the length of a tail without `timeout_ms`.
pub const HTTP_TAIL_TIMEOUT_MS_MAX: u64 = 300_000;
/// Tail lines gathered before a chunk is sent (a chunk is also sent whenever the tail catches up).
pub const HTTP_TAIL_CHUNK_BYTES: usize = 64 * 1024;
/// Open pool handles the server keeps between requests.
pub const HTTP_POOL_HANDLES_MAX: usize = 64;
/// Threads answering connections refused beyond the connection limit (more are just closed).
pub const HTTP_REFUSERS_MAX: usize = 8;
/// How long a refused or rejected connection is drained before it is closed, so the client reads the
/// answer instead of a reset.
pub const HTTP_LINGER: Duration = Duration::from_secs(2);
/// Bytes drained at most from a rejected connection before it is closed.
pub const HTTP_LINGER_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Stack size of every server thread (pages are only touched as used).
pub const HTTP_THREAD_STACK_BYTES: usize = 256 * 1024;
/// Default most connections from one client address (`serve --max-connections-per-ip`, loopback
/// included); more are answered 503 `Busy`.
pub const HTTP_CONNECTIONS_PER_IP_MAX_DEFAULT: u32 = 64;
/// Descriptors kept aside from the connection budget (standard streams, the listener, pool files,
/// TLS and token files): `--max-connections` is clamped to `RLIMIT_NOFILE` minus this.
pub const HTTP_FDS_RESERVED: u64 = 64 + HTTP_POOL_HANDLES_MAX as u64;
/// Pause of the accept loop after `accept` or a thread start failed for want of resources.
pub const HTTP_ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Send buffer asked for a tail's socket (`SO_SNDBUF`), bounding the kernel memory a slow reader pins.
pub const HTTP_TAIL_SEND_BUFFER_BYTES: usize = 256 * 1024;
/// Default largest pool `POST /v0/pools` may create (`serve --max-pool-size`); more is a 403.
pub const HTTP_POOL_SIZE_BYTES_MAX_DEFAULT: u64 = 256 * 1024 * 1024;
/// Default most pools in the directory for `POST /v0/pools` to create one more (`serve --max-pools`).
pub const HTTP_POOLS_MAX_DEFAULT: u32 = 1024;
/// Longest bearer token read from a token file, in bytes.
pub const HTTP_TOKEN_BYTES_MAX: usize = 4096;
/// Largest token file, in bytes (a larger file, or one that is not a regular file, is refused unread).
pub const HTTP_TOKEN_FILE_BYTES_MAX: usize = 4096;
/// Random bytes in the token `serve init` writes (hex-encoded, so twice as many characters).
pub const SERVE_INIT_TOKEN_BYTES: usize = 32;

/// Remote client: time to open a connection (TCP and TLS).
pub const REMOTE_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Remote client: how long the server's resolved address is reused before it is looked up again.
pub const REMOTE_RESOLVE_CACHE: Duration = Duration::from_secs(30);
/// Remote client: time for a whole non-streaming request (send, answer, body).
pub const REMOTE_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Remote client: the `timeout_ms` asked for each tail stream; the client reconnects when it ends.
pub const REMOTE_TAIL_SEGMENT_MS: u64 = 60_000;
/// Remote client: how much longer than its `timeout_ms` a tail stream may take before the client gives up
/// on it and reconnects.
pub const REMOTE_TAIL_SLACK: Duration = Duration::from_secs(10);
/// Remote client: largest response body or tail line accepted, in bytes.
pub const REMOTE_RESPONSE_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// Remote client: largest response head accepted, in bytes.
pub const REMOTE_RESPONSE_HEAD_BYTES_MAX: usize = 64 * 1024;
/// Remote client: first delay before reconnecting a broken tail (doubles up to the max).
pub const REMOTE_RECONNECT_DELAY_MIN: Duration = Duration::from_millis(100);
/// Remote client: longest delay between reconnection attempts.
pub const REMOTE_RECONNECT_DELAY_MAX: Duration = Duration::from_secs(5);
/// Remote client: failed reconnection attempts in a row before a tail gives up.
pub const REMOTE_RECONNECTS_MAX: u32 = 8;

/// Tails of either door: a consumer waiting on a remote tail's event channel looks at its
/// cancellation and interrupt flags this often.
pub const TAIL_CANCEL_POLL: Duration = Duration::from_millis(25);
/// Remote tails: events the follower thread may queue ahead of a slow consumer.
pub const REMOTE_TAIL_QUEUE_EVENTS: usize = 1024;
/// `peek`: how often a follower checks whether its stdout was closed (a reader like `head` exited).
pub const STDOUT_WATCH_INTERVAL: Duration = Duration::from_millis(25);
/// `peek`: the promise spec/cli.md makes: a closed stdout ends a waiting `peek` within this long.
pub const STDOUT_CLOSED_NOTICE_MAX: Duration = Duration::from_millis(100);

// The watcher notices a closed stdout within one interval and a cancelled remote tail stops within
// one poll slice: together within the promise (checked when compiling).
const _: () = assert!(
    STDOUT_WATCH_INTERVAL.as_millis() + TAIL_CANCEL_POLL.as_millis()
        <= STDOUT_CLOSED_NOTICE_MAX.as_millis()
);
const _: () = assert!(REMOTE_TAIL_QUEUE_EVENTS >= 1);

// ---- MCP (`plasmite mcp`, `POST /mcp`) ----
//
// `spec/mcp.md` quotes every value below.

/// Largest JSON-RPC message accepted, in bytes (one stdio line or one HTTP body; the HTTP body limit
/// applies too). Room for a `MESSAGE_DATA_BYTES_MAX` message with escaping.
pub const MCP_MESSAGE_BYTES_MAX: usize = 40 * 1024 * 1024;
/// Most messages one `read` tool call returns.
pub const MCP_READ_MESSAGES_MAX: u64 = 1000;
/// Messages a `read` without `since_seq` or `last` starts with (the last N).
pub const MCP_READ_MESSAGES_DEFAULT: u64 = 20;
/// Most bytes of message data one `read` returns (it stops early with `more: true`; at least one
/// message is always returned).
pub const MCP_READ_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Longest `wait`, in milliseconds.
pub const MCP_WAIT_TIMEOUT_MS_MAX: u64 = 300_000;
/// `wait` without `timeout_ms`, in milliseconds.
pub const MCP_WAIT_TIMEOUT_MS_DEFAULT: u64 = 30_000;
/// Most `wait` calls blocked at once per stdio session (more are a `Busy` tool error).
pub const MCP_WAITS_MAX: usize = 16;
/// Newest messages shown by a pool resource (`plasmite://pool/NAME`).
pub const MCP_RESOURCE_MESSAGES: u64 = 20;

/// `tap`: bytes of one output line held before a piece of it is stored (`"partial":true`) without
/// waiting for its newline; bounds tap's memory per stream whatever the child prints. A pool whose
/// messages are smaller splits lines further.
pub const TAP_LINE_BYTES_MAX: usize = 1024 * 1024;
/// `tap`: bytes read from the child's stdout or stderr per read.
pub const TAP_READ_BYTES: usize = 64 * 1024;
