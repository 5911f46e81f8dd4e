//! `poke POOL [DATA]`: append one JSON value, or every record of a stream (stdin or `--file`).
//!
//! Streams are appended in batches: records accumulate while input is buffered, and the pending batch
//! is committed right before every read that could block, so a slow producer's records appear as
//! soon as they are written, and a fast one pays one lock per 64 KiB of input. A bad record leaves
//! every earlier record committed.

use super::open_handle;
use crate::api::{Durability, JsonText, PoolHandle, Receipt, Record, Retry};
use crate::cli::app::{CmdResult, Ctx, Failure, Outcome};
use crate::cli::args::{self, ErrorPolicy, PokeArgs, PokeInput};
use crate::cli::output::{Diag, Out};
use crate::error::{Error, ErrorKind};
use crate::ingest::{IngestError, Mode, Reader};
use std::cell::RefCell;
use std::io::{IsTerminal, Read};
use std::rc::Rc;

pub fn run(ctx: &Ctx, a: PokeArgs) -> CmdResult {
    // `--retry N --retry-delay D` retries opening a pool that is missing (another process may be
    // about to create it), busy or failing with I/O errors, and appends failing in a way that
    // committed nothing (see `api::Retry`), so a retry never duplicates.
    let retry = Retry {
        times: a.retry,
        delay: a.retry_delay,
    };
    let pool = retry.run_open(|| {
        let pool = open_handle(ctx, &a.pool, a.create, a.create_size, &a.remote)?;
        if pool.is_remote() && retry.times > 0 {
            // A remote handle opens without a request: ask once, so that a missing pool is
            // waited for as locally.
            pool.info()?;
        }
        Ok(pool)
    })?;
    let durability = match a.durability {
        args::Durability::Fast => Durability::Fast,
        args::Durability::Flush => Durability::Flush,
    };
    // One compact line per committed message, on a terminal as on a pipe.
    let mut out = ctx.out(Some(args::OutputFormat::Jsonl), false);
    let input: Box<dyn Read> = match &a.input {
        PokeInput::Arg(text) => {
            let data = JsonText::parse(text.as_bytes())?;
            let m = pool.append_retrying(&data, &a.tags, durability, retry)?;
            out.message(m.seq, m.time_ns, m.tags.iter().map(String::as_str), &m.data)?;
            out.flush()?;
            return Ok(Outcome::Ok);
        }
        PokeInput::File(path) => Box::new(
            std::fs::File::open(path)
                .map_err(|e| Error::io("cannot open the input file", e).with_path(path))?,
        ),
        PokeInput::Stdin => {
            if std::io::stdin().is_terminal() && !a.stdin_named {
                return Err(Failure::Error(
                    Error::usage("no DATA given and stdin is a terminal").with_hint(
                        "pass a JSON value, e.g. plasmite poke chat '{\"msg\":\"hi\"}', pipe records in, or pass --file - to type them (end with Ctrl-D)",
                    ),
                ));
            }
            Box::new(std::io::stdin())
        }
    };
    stream(ctx, &a, pool, durability, retry, out, input)
}

/// Records read but not yet committed, and where committed envelopes go.
struct Batch<'a> {
    pool: PoolHandle,
    tags: Vec<String>,
    durability: Durability,
    retry: Retry,
    errors: ErrorPolicy,
    diag: &'a Diag,
    out: Out,
    buf: Vec<u8>,
    ends: Vec<usize>,
    /// `(record index, line)` of each pending record, for the errors of records the pool refuses.
    origins: Vec<(u64, u64)>,
    receipts: Vec<Receipt>,
    skipped: u64,
    failed: Option<Failure>,
}

impl Batch<'_> {
    fn push(&mut self, record: &[u8], index: u64, line: u64) {
        self.buf.extend_from_slice(record);
        self.ends.push(self.buf.len());
        self.origins.push((index, line));
    }

    fn full(&self) -> bool {
        self.ends.len() >= crate::limits::BATCH_MESSAGES_MAX
            || self.buf.len() >= crate::limits::BATCH_BYTES_MAX
    }

    /// Commits the pending records and prints their envelopes. A record the pool refuses (`Usage`:
    /// too large, bad tags; known only when a server answers) is a bad record, under `--errors`.
    fn commit(&mut self) -> std::result::Result<(), Failure> {
        let mut from = 0;
        let r = loop {
            if from >= self.ends.len() {
                break Ok(());
            }
            let mut start = if from == 0 { 0 } else { self.ends[from - 1] };
            let items: Vec<Record<'_, String>> = self.ends[from..]
                .iter()
                .map(|&end| {
                    let it = Record {
                        data: &self.buf[start..end],
                        tags: &self.tags[..],
                    };
                    start = end;
                    it
                })
                .collect();
            self.receipts.clear();
            let r =
                self.pool
                    .append_records(&items, self.durability, self.retry, &mut self.receipts);
            drop(items);
            self.print(from)?;
            let bad = from + self.receipts.len();
            match r {
                Ok(()) => break Ok(()),
                Err(e) if e.kind() == ErrorKind::Usage && bad < self.ends.len() => {
                    let (index, line) = self.origins[bad];
                    let e = record_error(index, line, e.message());
                    if self.errors == ErrorPolicy::Stop {
                        break Err(Failure::Error(e));
                    }
                    skip_notice(self.diag, &e, index, line);
                    self.skipped += 1;
                    from = bad + 1;
                }
                Err(e) => break Err(Failure::Error(e)),
            }
        };
        self.buf.clear();
        self.ends.clear();
        self.origins.clear();
        self.out.flush()?;
        r
    }

    /// Prints the receipts of the records committed from pending record `from` on.
    fn print(&mut self, from: usize) -> std::result::Result<(), Failure> {
        let mut start = if from == 0 { 0 } else { self.ends[from - 1] };
        for (rc, &end) in self.receipts.iter().zip(&self.ends[from..]) {
            let data = std::str::from_utf8(&self.buf[start..end]).unwrap_or("null");
            self.out.message(
                rc.seq,
                rc.time_ns,
                self.tags.iter().map(String::as_str),
                data,
            )?;
            start = end;
        }
        Ok(())
    }
}

/// Input that commits the pending batch before each read that could block.
struct FlushBeforeRead<'a, R> {
    inner: R,
    batch: Rc<RefCell<Batch<'a>>>,
}

impl<R: Read> Read for FlushBeforeRead<'_, R> {
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

fn stream(
    ctx: &Ctx,
    a: &PokeArgs,
    pool: PoolHandle,
    durability: Durability,
    retry: Retry,
    out: Out,
    input: Box<dyn Read>,
) -> CmdResult {
    let interrupted = crate::sys::signal::install_interrupt_flag();
    let mode = Mode::parse(a.input_format.name()).unwrap_or(Mode::Auto);
    let batch = Rc::new(RefCell::new(Batch {
        pool: pool.clone(),
        tags: a.tags.clone(),
        durability,
        retry,
        errors: a.errors,
        diag: &ctx.diag,
        out,
        buf: Vec::with_capacity(1 << 16),
        ends: Vec::with_capacity(1024),
        origins: Vec::with_capacity(1024),
        receipts: Vec::with_capacity(1024),
        skipped: 0,
        failed: None,
    }));
    let src = FlushBeforeRead {
        inner: input,
        batch: Rc::clone(&batch),
    };
    let mut reader = Reader::new(src, mode);
    let mut record = Vec::with_capacity(4096);
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
                let check = pool.check_record(&Record {
                    data: &record,
                    tags: &a.tags[..],
                });
                if let Err(e) = check {
                    let e = record_error(info.index, info.line, e.message());
                    if a.errors == ErrorPolicy::Stop {
                        batch.borrow_mut().commit()?;
                        return Err(Failure::Error(e));
                    }
                    skip_notice(&ctx.diag, &e, info.index, info.line);
                    batch.borrow_mut().skipped += 1;
                    continue;
                }
                let mut b = batch.borrow_mut();
                b.push(&record, info.index, info.line);
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
                skip_notice(&ctx.diag, &err, e.index, e.line);
                batch.borrow_mut().skipped += 1;
            }
        }
    }
    let mut b = batch.borrow_mut();
    b.commit()?;
    Ok(if b.skipped > 0 {
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

fn skip_notice(diag: &Diag, e: &Error, index: u64, line: u64) {
    diag.notice(
        "skipped",
        &format!("skipped {}", e.message()),
        &[("record", index.into()), ("line", line.into())],
    );
}
