//! Bounded input buffer over any `std::io::Read`, with line tracking.
//!
//! Invariants:
//! - Unconsumed bytes are `buf[start..end]`; `line` is the 1-based line number
//!   of `buf[start]` (every consumed byte has had its LFs counted).
//! - The buffer is `INGEST_READ_BUFFER_BYTES_MAX` bytes and only grows (by
//!   doubling) while a caller holds a pending record, never past
//!   `record_bytes_max + INGEST_READ_BUFFER_BYTES_MAX`; it shrinks back once
//!   drained. Framers keep at most one record pending, so memory stays at one
//!   record plus the fixed read buffer.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{self, Read};

use crate::limits::INGEST_READ_BUFFER_BYTES_MAX;

/// Smallest free tail worth issuing a `read` into before compacting/growing.
const READ_SPACE_MIN: usize = 4096;

/// Outcome of [`InputBuf::fill`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fill {
    /// This many new bytes were appended.
    Read(usize),
    /// The reader is exhausted (no new bytes, now or later).
    Eof,
    /// The pending bytes already occupy the whole maximum capacity.
    Full,
}

/// Buffered reader state; see the module invariants.
pub(crate) struct InputBuf<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    line: u64,
    capacity_max: usize,
}

/// Number of LF bytes in `bytes`.
#[inline]
pub(crate) fn count_lf(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Position of the first `needle` byte in `bytes` (8 bytes per step).
#[inline]
pub(crate) fn find_byte(bytes: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(needle);
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        // Zero-byte test: exact for the lowest matching byte, which is the
        // first one in memory order for a little-endian load.
        let x = u64::from_le_bytes(word) ^ pattern;
        let hits = x.wrapping_sub(LO) & !x & HI;
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let rest = bytes.get(i..)?;
    rest.iter().position(|&b| b == needle).map(|p| i + p)
}

/// Length of `bytes` without trailing JSON whitespace.
#[inline]
pub(crate) fn trim_end_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .rposition(|&b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .map_or(0, |i| i + 1)
}

impl<R: Read> InputBuf<R> {
    /// Wraps `inner`; the buffer may grow to hold one record of
    /// `record_bytes_max` bytes plus one read buffer.
    pub(crate) fn new(inner: R, record_bytes_max: usize) -> Self {
        Self {
            inner,
            buf: vec![0; INGEST_READ_BUFFER_BYTES_MAX],
            start: 0,
            end: 0,
            eof: false,
            line: 1,
            capacity_max: record_bytes_max.saturating_add(INGEST_READ_BUFFER_BYTES_MAX),
        }
    }

    /// The unconsumed bytes.
    #[inline]
    pub(crate) fn data(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Whether the reader has reported end of input.
    #[inline]
    pub(crate) fn eof(&self) -> bool {
        self.eof
    }

    /// 1-based line number of the first unconsumed byte.
    #[inline]
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// Consumes `n` bytes, counting the LFs among them.
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        let lfs = count_lf(self.data().get(..n).unwrap_or_default());
        self.advance(n, lfs);
    }

    /// Consumes `n` bytes known to contain exactly `lfs` LFs.
    #[inline]
    pub(crate) fn advance(&mut self, n: usize, lfs: u64) {
        self.start = (self.start + n).min(self.end);
        self.line += lfs;
    }

    /// Consumes leading JSON whitespace; returns true if bytes remain.
    #[inline]
    pub(crate) fn skip_ws(&mut self) -> bool {
        let data = self.data();
        let mut lfs = 0;
        let mut n = 0;
        for &b in data {
            match b {
                b'\n' => lfs += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => break,
            }
            n += 1;
        }
        let more = n < data.len();
        self.advance(n, lfs);
        more
    }

    /// Reads more bytes after the pending ones, compacting or growing the
    /// buffer as needed. Retries `Interrupted`; other errors are returned.
    pub(crate) fn fill(&mut self) -> io::Result<Fill> {
        if self.eof {
            return Ok(Fill::Eof);
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > INGEST_READ_BUFFER_BYTES_MAX {
                self.buf = vec![0; INGEST_READ_BUFFER_BYTES_MAX];
            }
        }
        if self.buf.len() - self.end < READ_SPACE_MIN && !self.make_room() {
            return Ok(Fill::Full);
        }
        let Some(space) = self.buf.get_mut(self.end..) else {
            return Ok(Fill::Full);
        };
        loop {
            match self.inner.read(space) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(Fill::Eof);
                }
                Ok(n) => {
                    self.end += n.min(space.len());
                    return Ok(Fill::Read(n));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Moves pending bytes to the front and, if that is not enough, grows
    /// the buffer. Returns false when no space can be made.
    fn make_room(&mut self) -> bool {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end >= READ_SPACE_MIN {
            return true;
        }
        if self.buf.len() >= self.capacity_max {
            return self.end < self.buf.len();
        }
        let grown = self.buf.len().saturating_mul(2).min(self.capacity_max);
        self.buf.resize(grown, 0);
        true
    }

    /// Current buffer allocation (for tests of the memory bound).
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may panic on bad indices
mod tests {
    use super::*;

    /// Reader handing out at most `chunk` bytes per call.
    struct Chunked<'a> {
        data: &'a [u8],
        chunk: usize,
    }

    impl Read for Chunked<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(out.len()).min(self.data.len());
            let (head, rest) = self.data.split_at(n);
            out[..n].copy_from_slice(head);
            self.data = rest;
            Ok(n)
        }
    }

    #[test]
    fn fill_accumulates_pending_bytes_and_reports_eof() {
        let mut input = InputBuf::new(
            Chunked {
                data: b"ab\ncd",
                chunk: 2,
            },
            100,
        );
        let mut reads = 0;
        while let Ok(Fill::Read(_)) = input.fill() {
            reads += 1;
        }
        assert_eq!(reads, 3);
        assert_eq!(input.data(), b"ab\ncd");
        assert!(input.eof());
        input.consume(4);
        assert_eq!((input.data(), input.line()), (&b"d"[..], 2));
    }

    #[test]
    fn buffer_grows_to_record_limit_plus_read_buffer_then_reports_full() {
        let data = vec![b'x'; 1 << 20];
        let limit = 200_000;
        let mut input = InputBuf::new(
            Chunked {
                data: &data,
                chunk: 1 << 20,
            },
            limit,
        );
        let mut result = input.fill();
        while let Ok(Fill::Read(_)) = result {
            result = input.fill();
        }
        assert_eq!(result.ok(), Some(Fill::Full));
        assert_eq!(input.allocated(), limit + INGEST_READ_BUFFER_BYTES_MAX);
        assert_eq!(input.data().len(), limit + INGEST_READ_BUFFER_BYTES_MAX);
        input.consume(usize::MAX);
        assert!(matches!(input.fill(), Ok(Fill::Read(_))));
        assert_eq!(input.allocated(), INGEST_READ_BUFFER_BYTES_MAX);
    }

    #[test]
    fn find_byte_returns_the_first_match_at_every_position() {
        for len in 0..40 {
            for at in 0..len {
                let mut bytes = vec![b'a'; len];
                bytes[at] = b'\n';
                if at + 3 < len {
                    bytes[at + 3] = b'\n';
                }
                bytes.iter_mut().take(at).for_each(|b| *b = 0x0b);
                assert_eq!(find_byte(&bytes, b'\n'), Some(at), "{len} {at}");
            }
            assert_eq!(find_byte(&vec![0x8a; len], b'\n'), None);
        }
    }

    #[test]
    fn helpers_count_find_and_trim() {
        assert_eq!(count_lf(b"a\nb\n\n"), 3);
        assert_eq!(find_byte(b"ab\x1ec", 0x1e), Some(2));
        assert_eq!(trim_end_len(b"{} \r\n\t"), 2);
        assert_eq!(trim_end_len(b" \n"), 0);
    }
}
