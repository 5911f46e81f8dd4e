//! `plsm_message_t`: the public fields (seq, time, data, tags) first, then the owned storage they
//! point into. Owned messages (append, get, clone) are one heap block each; a stream keeps one block
//! and refills it for every message, reusing its buffers.

use super::error::{c_string, guard, plsm_error_t};
use super::ffi::{check_out, plsm_buf_t, write_out};
use plasmite::api::{write_envelope, Message};
use std::ffi::{c_char, CStr, CString};
use std::ptr;

/// The public part of a message (layout of `struct plsm_message` in the header).
#[repr(C)]
#[derive(Debug)]
pub struct plsm_message_t {
    pub seq: u64,
    pub time_ns: u64,
    pub data: *const c_char,
    pub data_len: usize,
    pub tags: *const *const c_char,
    pub tag_count: usize,
}

/// The heap block behind a `plsm_message_t *`.
#[repr(C)]
#[derive(Debug)]
pub struct MessageBlock {
    public: plsm_message_t,
    /// The data text plus a NUL.
    data: Vec<u8>,
    tags: Vec<CString>,
    tag_ptrs: Vec<*const c_char>,
}

impl MessageBlock {
    /// An empty block (seq 0, data "", no tags).
    pub fn new() -> MessageBlock {
        let mut m = MessageBlock {
            public: plsm_message_t {
                seq: 0,
                time_ns: 0,
                data: ptr::null(),
                data_len: 0,
                tags: ptr::null(),
                tag_count: 0,
            },
            data: Vec::new(),
            tags: Vec::new(),
            tag_ptrs: Vec::new(),
        };
        m.fill(0, 0, std::iter::empty(), "");
        m
    }

    /// Replaces the content, reusing the buffers, and re-points the public fields.
    pub fn fill<'t>(
        &mut self,
        seq: u64,
        time_ns: u64,
        tags: impl Iterator<Item = &'t str>,
        data: &str,
    ) {
        self.data.clear();
        self.data.extend_from_slice(data.as_bytes());
        self.data.push(0);
        self.tags.clear();
        self.tags.extend(tags.map(c_string));
        self.tag_ptrs.clear();
        self.tag_ptrs.extend(self.tags.iter().map(|t| t.as_ptr()));
        self.public = plsm_message_t {
            seq,
            time_ns,
            data: self.data.as_ptr().cast(),
            data_len: data.len(),
            tags: if self.tag_ptrs.is_empty() {
                ptr::null()
            } else {
                self.tag_ptrs.as_ptr()
            },
            tag_count: self.tag_ptrs.len(),
        };
    }

    /// The public view, for handing to C.
    pub fn public(&self) -> *const plsm_message_t {
        &self.public
    }

    /// An owned message as a C pointer (freed by `plsm_message_free`).
    pub fn into_raw(self) -> *mut plsm_message_t {
        Box::into_raw(Box::new(self)).cast()
    }

    /// A block holding `m`.
    pub fn from_message(m: &Message) -> MessageBlock {
        let mut b = MessageBlock::new();
        b.fill(m.seq, m.time_ns, m.tags.iter().map(String::as_str), &m.data);
        b
    }
}

impl Default for MessageBlock {
    fn default() -> Self {
        MessageBlock::new()
    }
}

/// The fields of a message C gave back to us: (seq, time_ns, tags, data).
///
/// # Safety
/// `m` points to a live `plsm_message_t` this library handed out.
unsafe fn read_back<'a>(m: *const plsm_message_t) -> (u64, u64, Vec<&'a str>, &'a str) {
    // SAFETY: live message from this library (contract).
    let m = unsafe { &*m };
    let tags = if m.tag_count == 0 {
        &[][..]
    } else {
        // SAFETY: `tags` points to `tag_count` pointers the block owns (see `fill`).
        unsafe { std::slice::from_raw_parts(m.tags, m.tag_count) }
    };
    let tags = tags
        .iter()
        // SAFETY: each tag pointer is a CString the block owns.
        .map(|&t| unsafe { CStr::from_ptr(t) }.to_str().unwrap_or(""))
        .collect();
    // SAFETY: `data` points to `data_len` bytes of UTF-8 text the block owns (see `fill`).
    let data = unsafe { std::slice::from_raw_parts(m.data.cast::<u8>(), m.data_len) };
    (
        m.seq,
        m.time_ns,
        tags,
        std::str::from_utf8(data).unwrap_or("null"),
    )
}

/// Frees an owned message; NULL is fine.
///
/// # Safety
/// `msg` is NULL or an owned message from this library (append, get, clone) not freed yet.
#[no_mangle]
pub unsafe extern "C" fn plsm_message_free(msg: *mut plsm_message_t) {
    if msg.is_null() {
        return;
    }
    // SAFETY: owned messages are leaked Box<MessageBlock>s whose first field is the public struct.
    drop(unsafe { Box::from_raw(msg.cast::<MessageBlock>()) });
}

/// An owned copy of a message.
///
/// # Safety
/// `msg` is NULL or a live message from this library; `out` and `err` as the header says.
#[no_mangle]
pub unsafe extern "C" fn plsm_message_clone(
    msg: *const plsm_message_t,
    out: *mut *mut plsm_message_t,
    err: *mut *mut plsm_error_t,
) -> i32 {
    guard(err, || {
        check_out(msg.cast_mut(), "msg")?;
        check_out(out, "out")?;
        // SAFETY: non-null live message (contract).
        let (seq, time_ns, tags, data) = unsafe { read_back(msg) };
        let mut b = MessageBlock::new();
        b.fill(seq, time_ns, tags.into_iter(), data);
        // SAFETY: `out` checked non-null above.
        unsafe { write_out(out, b.into_raw()) };
        Ok(())
    })
}

/// The message's envelope as compact JSON.
///
/// # Safety
/// `msg` is NULL or a live message from this library; `out_json` and `err` as the header says.
#[no_mangle]
pub unsafe extern "C" fn plsm_message_envelope(
    msg: *const plsm_message_t,
    out_json: *mut plsm_buf_t,
    err: *mut *mut plsm_error_t,
) -> i32 {
    guard(err, || {
        check_out(msg.cast_mut(), "msg")?;
        check_out(out_json, "out_json")?;
        // SAFETY: non-null live message (contract).
        let (seq, time_ns, tags, data) = unsafe { read_back(msg) };
        let mut v = Vec::with_capacity(data.len() + 64);
        write_envelope(seq, time_ns, tags.into_iter(), data, &mut v);
        // SAFETY: `out_json` checked non-null above.
        unsafe { write_out(out_json, plsm_buf_t::from_vec(v)) };
        Ok(())
    })
}
