//! `poke POOL [DATA]`: append one JSON value, or every record of a stream (stdin or `--file`).
//!
//! Streams are appended in batches: records accumulate while input is buffered, and the pending batch
//! is committed right before every read that could block, so a slow producer's records appear as
//! soon as they are written, and a fast one pays one lock per 64 KiB of input. A bad record leaves
//! every earlier record committed.

use super::open;
use crate::api::{Durability, JsonText, Pool, Receipt};
use crate::cli::app::{CmdResult, Ctx, Failure, Outcome};
use crate::cli::args::{self, ErrorPolicy, PokeArgs, PokeInput};
use crate::cli::output::Out;
use crate::error::{Error, ErrorKind, Result};
use crate::ingest::{IngestError, Mode, Reader};
use crate::pool::writer::Item;
use std::cell::RefCell;
use std::io::{IsTerminal, Read};
use std::rc::Rc;
use std::time::Duration;

pub fn run(ctx: &Ctx, a: PokeArgs) -> CmdResult {
    if super::remote::is_remote(&a.pool) {
        return super::remote::poke(ctx, a);
    }
    let client = ctx.client()?;
    let retry = Retry {
        times: a.retry,
        delay: a.retry_delay,
    };
    let pool = retry.run_open(|| open(&client, &a.pool, a.create, a.create_size))?;
    let durability = match a.durability {
        args::Durability::Fast => Durability::Fast,
        args::Durability::Flush => Durability::Flush,
    };
    match &a.input {
        PokeInput::Arg(text) => {
            // One message: pretty on a terminal, like every single-value output.
            let out = ctx.out(None, false);
            let data = JsonText::parse(text.as_bytes())?;
            let m = retry.run(|| pool.append_text(&data, &a.tags, durability))?;
            let mut out = out;
            out.message(m.seq, m.time_ns, m.tags.iter().map(String::as_str), &m.data)?;
            out.flush()?;
            Ok(Outcome::Ok)
        }
        PokeInput::File(path) => {
            let f = std::fs::File::open(path)
                .map_err(|e| Error::io("cannot open the input file", e).with_path(path))?;
            stream(ctx, &a, pool, durability, retry, stream_out(ctx), f)
        }
        PokeInput::Stdin => {
            if std::io::stdin().is_terminal() {
                return Err(Failure::Error(
                    Error::usage("no DATA given and stdin is a terminal")
                        .with_hint("pass a JSON value, e.g. plasmite poke chat '{\"msg\":\"hi\"}', or pipe records in"),
                ));
            }
            stream(
                ctx,
                &a,
                pool,
                durability,
                retry,
                stream_out(ctx),
                std::io::stdin(),
            )
        }
    }
}

/// Streams print one compact line per committed message, terminal or not.
fn stream_out(ctx: &Ctx) -> Out {
    ctx.out(Some(args::OutputFormat::Jsonl), false)
}

/// `--retry N --retry-delay D`: retries transient failures: opening a pool that is missing (another
/// process may be about to create it), busy or failing with I/O errors, and appends failing with
/// `Busy` or `Io`. A failed lock hold commits nothing, so a retry never duplicates.
#[derive(Clone, Copy)]
struct Retry {
    times: u32,
    delay: Duration,
}

impl Retry {
    fn run<T>(&self, f: impl FnMut() -> Result<T>) -> Result<T> {
        self.run_on(f, &[ErrorKind::Busy, ErrorKind::Io])
    }

    fn run_open<T>(&self, f: impl FnMut() -> Result<T>) -> Result<T> {
        self.run_on(f, &[ErrorKind::NotFound, ErrorKind::Busy, ErrorKind::Io])
    }

    fn run_on<T>(&self, mut f: impl FnMut() -> Result<T>, kinds: &[ErrorKind]) -> Result<T> {
        let mut left = self.times;
        loop {
            match f() {
                Err(e) if left > 0 && kinds.contains(&e.kind()) => {
                    left -= 1;
                    std::thread::sleep(self.delay);
                }
                other => return other,
            }
        }
    }
}

/// Records read but not yet committed, and where committed envelopes go.
struct Batch {
    pool: Pool,
    tags: Vec<String>,
    durability: Durability,
    retry: Retry,
    out: Out,
    buf: Vec<u8>,
    ends: Vec<usize>,
    receipts: Vec<Receipt>,
    failed: Option<Failure>,
}

impl Batch {
    fn push(&mut self, record: &[u8]) {
        self.buf.extend_from_slice(record);
        self.ends.push(self.buf.len());
    }

    fn full(&self) -> bool {
        self.ends.len() >= crate::limits::BATCH_MESSAGES_MAX
            || self.buf.len() >= crate::limits::BATCH_BYTES_MAX
    }

    /// Commits the pending records and prints their envelopes.
    fn commit(&mut self) -> std::result::Result<(), Failure> {
        if self.ends.is_empty() {
            return Ok(());
        }
        let mut start = 0;
        let items: Vec<Item<'_, String>> = self
            .ends
            .iter()
            .map(|&end| {
                let it = Item {
                    data: &self.buf[start..end],
                    tags: &self.tags[..],
                };
                start = end;
                it
            })
            .collect();
        self.receipts.clear();
        let (pool, receipts, retry, d) =
            (&self.pool, &mut self.receipts, self.retry, self.durability);
        let r = retry.run(|| {
            let done = receipts.len();
            pool.append_items(&items[done..], d, receipts)
        });
        let mut start = 0;
        for (rc, &end) in self.receipts.iter().zip(&self.ends) {
            let data = std::str::from_utf8(&self.buf[start..end]).unwrap_or("null");
            self.out.message(
                rc.seq,
                rc.time_ns,
                self.tags.iter().map(String::as_str),
                data,
            )?;
            start = end;
        }
        self.buf.clear();
        self.ends.clear();
        self.out.flush()?;
        r.map_err(Failure::Error)
    }
}

/// Input that commits the pending batch before each read that could block.
struct FlushBeforeRead<R> {
    inner: R,
    batch: Rc<RefCell<Batch>>,
}

impl<R: Read> Read for FlushBeforeRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut b = self.batch.borrow_mut();
        if b.failed.is_none() {
            if let Err(f) = b.commit() {
                b.failed = Some(f);
            }
        }
        if b.failed.is_some() {
            return Err(std::io::Error::other("commit failed"));
        }
        drop(b);
        loop {
            match self.inner.read(buf) {
                Err(e)
                    if e.kind() == std::io::ErrorKind::Interrupted
                        && !crate::sys::signal::interrupted() => {}
                other => return other,
            }
        }
    }
}

fn stream<R: Read>(
    ctx: &Ctx,
    a: &PokeArgs,
    pool: Pool,
    durability: Durability,
    retry: Retry,
    out: Out,
    input: R,
) -> CmdResult {
    let interrupted = crate::sys::signal::install_interrupt_flag();
    let mode = Mode::parse(a.input_format.name()).unwrap_or(Mode::Auto);
    let batch = Rc::new(RefCell::new(Batch {
        pool: pool.clone(),
        tags: a.tags.clone(),
        durability,
        retry,
        out,
        buf: Vec::with_capacity(1 << 16),
        ends: Vec::with_capacity(1024),
        receipts: Vec::with_capacity(1024),
        failed: None,
    }));
    let src = FlushBeforeRead {
        inner: input,
        batch: Rc::clone(&batch),
    };
    let mut reader = Reader::new(src, mode);
    let mut record = Vec::with_capacity(4096);
    let mut skipped = 0u64;
    loop {
        let next = reader.next_into(&mut record);
        if let Some(f) = batch.borrow_mut().failed.take() {
            return Err(f);
        }
        if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
            batch.borrow_mut().commit()?;
            return Ok(Outcome::Interrupted);
        }
        match next {
            None => break,
            Some(Ok(info)) => {
                let check = pool.check_item(&Item {
                    data: &record,
                    tags: &a.tags[..],
                });
                if let Err(e) = check {
                    let e = record_error(info.index, info.line, e.message());
                    if a.errors == ErrorPolicy::Stop {
                        batch.borrow_mut().commit()?;
                        return Err(Failure::Error(e));
                    }
                    skip_notice(ctx, &e, info.index, info.line);
                    skipped += 1;
                    continue;
                }
                let mut b = batch.borrow_mut();
                b.push(&record);
                if b.full() {
                    b.commit()?;
                }
            }
            Some(Err(e)) => {
                let recoverable = e.is_recoverable();
                let err = ingest_error(&e);
                if a.errors == ErrorPolicy::Stop || !recoverable {
                    batch.borrow_mut().commit()?;
                    return Err(Failure::Error(err));
                }
                skip_notice(ctx, &err, e.index, e.line);
                skipped += 1;
            }
        }
    }
    batch.borrow_mut().commit()?;
    Ok(if skipped > 0 {
        Outcome::Skipped
    } else {
        Outcome::Ok
    })
}

fn record_error(index: u64, line: u64, why: &str) -> Error {
    Error::usage(format!("record {index} (line {line}): {why}"))
        .with_hint("records before it were committed; fix the input or pass --errors skip")
}

fn ingest_error(e: &IngestError) -> Error {
    match &e.kind {
        crate::ingest::IngestErrorKind::Io(io) => Error::io(
            "cannot read the input",
            std::io::Error::new(io.kind(), io.to_string()),
        ),
        _ => Error::usage(e.to_string())
            .with_hint("records before it were committed; fix the input or pass --errors skip"),
    }
}

fn skip_notice(ctx: &Ctx, e: &Error, index: u64, line: u64) {
    ctx.diag.notice(
        "skipped",
        &format!("skipped {}", e.message()),
        &[("record", index.into()), ("line", line.into())],
    );
}
