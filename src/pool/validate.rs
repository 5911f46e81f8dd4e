//! Whole-pool validation: walks the state, every frame from the tail to the head, and the index, and
//! reports every problem it finds (it does not stop at the first, and never repairs anything).

use super::format;
use super::reader::{self, Cursor, FrameBuf, ReadError, Step, View};
use super::region::{Region, StateError};

/// One problem found in a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// What is wrong, for humans.
    pub message: String,
    /// File offset of the damaged bytes, when known.
    pub offset: Option<u64>,
    /// Seq of the damaged message, when known.
    pub seq: Option<u64>,
}

/// The result of validating a pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every problem found; empty means the pool is healthy.
    pub issues: Vec<Issue>,
    /// Messages whose frames verified.
    pub messages_ok: u64,
    /// Messages that could not be read back.
    pub messages_lost: u64,
    /// Oldest seq per the state.
    pub oldest_seq: u64,
    /// Next seq per the state.
    pub next_seq: u64,
}

impl Report {
    /// True when no issue was found.
    pub fn ok(&self) -> bool {
        self.issues.is_empty()
    }

    fn issue(&mut self, message: impl Into<String>, offset: Option<u64>, seq: Option<u64>) {
        self.issues.push(Issue {
            message: message.into(),
            offset,
            seq,
        });
    }
}

/// Validates the region. A concurrent writer may make the report mention lapped messages; validate a
/// quiet pool for an exact answer.
pub fn validate(region: &Region) -> Report {
    let mut rep = Report::default();
    let mut view = match View::load(region) {
        Ok(v) => v,
        Err(StateError::Corrupt { offset, why }) => {
            rep.issue(format!("pool state unreadable: {why}"), Some(offset), None);
            return rep;
        }
        Err(StateError::Busy) => {
            rep.issue(
                "pool state kept changing; retry on a quiet pool",
                None,
                None,
            );
            return rep;
        }
    };
    rep.oldest_seq = view.state.oldest_seq;
    rep.next_seq = view.state.next_seq;
    let positions = walk_frames(region, &mut view, &mut rep);
    check_index(region, &view, &positions, &mut rep);
    rep
}

fn walk_frames(region: &Region, view: &mut View, rep: &mut Report) -> Vec<(u64, u64)> {
    let mut cur: Cursor = view.oldest();
    let mut buf = FrameBuf::default();
    let mut positions = Vec::new();
    let mut last_time = 0u64;
    let end = view.state.next_seq;
    while cur.seq < end {
        match reader::read_next(region, &mut cur, view, &mut buf) {
            Ok(Step::Frame) => {
                rep.messages_ok += 1;
                positions.push((buf.seq(), buf.pos()));
                if buf.time_ns() < last_time {
                    let off = Some(region.file_offset(positions.last().map_or(0, |p| p.1)));
                    rep.issue("message time goes backwards", off, Some(buf.seq()));
                }
                last_time = buf.time_ns();
            }
            Ok(Step::CaughtUp) => break,
            Ok(Step::Lapped { lost }) => {
                rep.issue(
                    format!("{lost} messages were overwritten by a writer during the check"),
                    None,
                    None,
                );
            }
            Err(ReadError::Corrupt { seq, offset, why }) => {
                rep.issue(format!("message {seq}: {why}"), Some(offset), Some(seq));
                match reader::skip_corrupt(region, &mut cur, view) {
                    Ok(skipped) => rep.messages_lost += skipped,
                    Err(_) => break,
                }
            }
            Err(ReadError::State(_)) => {
                rep.issue("pool state became unreadable during the check", None, None);
                break;
            }
        }
    }
    if cur.seq == view.state.next_seq && cur.pos != view.state.head_pos && rep.ok() {
        let mut c = cur;
        skip_wraps(region, &mut c, view.state.head_pos);
        if c.pos != view.state.head_pos {
            rep.issue(
                "the last frame does not end at the recorded head",
                Some(region.file_offset(view.state.head_pos)),
                None,
            );
        }
    }
    positions
}

fn skip_wraps(region: &Region, c: &mut Cursor, head: u64) {
    let ring = region.geometry().ring_size;
    while c.pos < head {
        let mut mark = [0u8; 4];
        region.ring_read(c.pos, &mut mark);
        if u32::from_le_bytes(mark) != format::MARK_WRAP {
            return;
        }
        c.pos = format::next_lap(c.pos, ring);
    }
}

/// Every message the index should still describe must be described correctly. A slot holding a seq
/// that an interrupted append could have written (its own slot, at most one batch past `next_seq`) is
/// that append's leftover: harmless (lookups verify entries), overwritten when that seq is really
/// written, and not reported. Any other seq there is damage.
fn check_index(region: &Region, view: &View, positions: &[(u64, u64)], rep: &mut Report) {
    let slots = region.geometry().index_slots;
    let next = view.state.next_seq;
    let first = next.saturating_sub(slots);
    for &(seq, pos) in positions.iter().filter(|p| p.0 >= first) {
        let (got_seq, got_pos) = region.index_get(seq);
        let leftover = got_seq >= next
            && got_seq - next < crate::limits::BATCH_MESSAGES_MAX as u64
            && got_seq % slots == seq % slots;
        if leftover || (got_seq == seq && got_pos == pos) {
            continue;
        }
        rep.issue(
            format!("index entry of message {seq} says seq {got_seq} at ring position {got_pos}; the frame is at {pos}"),
            Some(region.index_file_offset(seq)),
            Some(seq),
        );
    }
}
