//! The conformance suite (tests/conformance/*.json) through the C ABI: a backend that calls only the
//! exported `extern "C"` functions, with C strings, out-parameters and `plsm_error_t`s, as a C
//! program would. The library source is compiled into this test (`#[path]`), so the functions called
//! are the ones `libplasmite.so` exports; `tests/test_abi.c` exercises the built library from C.

#[path = "../src/lib.rs"]
#[allow(dead_code)]
mod abi;
#[path = "../../../tests/conformance/driver.rs"]
mod driver;

use abi::client::*;
use abi::error::{plsm_error_free, plsm_error_t};
use abi::ffi::{plsm_buf_free, plsm_buf_t};
use abi::message::{plsm_message_envelope, plsm_message_free, plsm_message_t};
use abi::pool::*;
use abi::stream::*;
use driver::{Backend, Event, Fail, Out, Ref, StreamSpec};
use serde_json::Value;
use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};
use std::path::{Path, PathBuf};
use std::ptr;

/// Runs one ABI call with an error out-parameter and reads the error back.
fn call(f: impl FnOnce(*mut *mut plsm_error_t) -> i32) -> Out<()> {
    let mut err: *mut plsm_error_t = ptr::null_mut();
    let rc = f(&mut err);
    if rc == 0 {
        assert!(err.is_null(), "success with an error set");
        return Ok(());
    }
    assert!(!err.is_null(), "failure {rc} without an error");
    // SAFETY: a non-null error from the library, read before it is freed below.
    let e = unsafe { &*err };
    assert_eq!(e.kind, rc, "the status is the error's kind");
    // SAFETY: plsm_kind_name returns a static NUL-terminated string; message is never NULL.
    let (kind, message) = unsafe {
        (
            CStr::from_ptr(abi::plsm_kind_name(e.kind))
                .to_string_lossy()
                .into_owned(),
            CStr::from_ptr(e.message).to_string_lossy().into_owned(),
        )
    };
    assert_eq!(e.has_path, !e.path.is_null(), "has_path matches path");
    let fail = Fail {
        kind,
        message,
        has_path: e.has_path,
        has_seq: e.has_seq,
        has_offset: e.has_offset,
    };
    // SAFETY: freed once, not used after.
    unsafe { plsm_error_free(err) };
    Err(fail)
}

/// Takes the JSON out of a library-filled buffer and frees it.
fn take_json(mut b: plsm_buf_t) -> Value {
    assert!(!b.data.is_null());
    // SAFETY: the library filled `len` bytes (plus a NUL) at `data`.
    let bytes = unsafe { std::slice::from_raw_parts(b.data.cast::<u8>(), b.len) };
    // SAFETY: as above; the NUL follows the bytes.
    assert_eq!(unsafe { *b.data.add(b.len) }, 0, "NUL-terminated");
    let v = serde_json::from_slice(bytes).expect("the library hands out JSON");
    // SAFETY: a buffer the library filled, freed once.
    unsafe { plsm_buf_free(&mut b) };
    assert!(
        b.data.is_null() && b.len == 0,
        "plsm_buf_free resets the buffer"
    );
    v
}

/// The envelope of a message the library handed out.
fn envelope(m: *const plsm_message_t) -> Out<Value> {
    let mut b = plsm_buf_t {
        data: ptr::null_mut(),
        len: 0,
    };
    // SAFETY: `m` is a live message of the library; `b` is writable.
    call(|e| unsafe { plsm_message_envelope(m, &mut b, e) })?;
    let v = take_json(b);
    // SAFETY: `m` is live; its public fields must agree with the envelope.
    let (seq, data) = unsafe {
        let m = &*m;
        let d = std::slice::from_raw_parts(m.data.cast::<u8>(), m.data_len);
        (
            m.seq,
            serde_json::from_slice::<Value>(d).expect("data is JSON"),
        )
    };
    assert_eq!(v["seq"], seq);
    assert_eq!(v["data"], data);
    Ok(v)
}

fn c_ref(r: &Ref) -> (i32, CString) {
    let (kind, text) = match r {
        Ref::Name(n) => (1, n.clone()),
        Ref::Path(p) => (2, p.display().to_string()),
        Ref::Uri(u) => (3, u.clone()),
        Ref::Auto(t) => (0, t.clone()),
    };
    (kind, CString::new(text).expect("no NUL in refs"))
}

struct CAbi {
    client: *mut plsm_client_t,
    pools: HashMap<String, *mut plsm_pool_t>,
    streams: HashMap<String, *mut plsm_stream_t>,
}

impl CAbi {
    fn new(dir: &Path) -> CAbi {
        let d = CString::new(dir.display().to_string()).unwrap();
        let mut client = ptr::null_mut();
        // SAFETY: valid C string and out-parameter.
        call(|e| unsafe { plsm_client_new(d.as_ptr(), &mut client, e) }).expect("client");
        CAbi {
            client,
            pools: HashMap::new(),
            streams: HashMap::new(),
        }
    }

    fn open_raw(&self, r: &Ref, flags: u32) -> Out<*mut plsm_pool_t> {
        let (kind, text) = c_ref(r);
        let mut p = ptr::null_mut();
        // SAFETY: live client, valid C string, writable out-parameter.
        call(|e| unsafe {
            plsm_client_open_pool(self.client, kind, text.as_ptr(), flags, &mut p, e)
        })?;
        Ok(p)
    }

    /// Runs `f` with the kept handle of `r`, or with a fresh one freed after.
    fn with_pool<T>(&self, r: &Ref, f: impl FnOnce(*mut plsm_pool_t) -> Out<T>) -> Out<T> {
        if let Some(&p) = self.pools.get(&r.key()) {
            return f(p);
        }
        let p = self.open_raw(r, 0)?;
        let out = f(p);
        // SAFETY: our own handle, freed once.
        unsafe { plsm_pool_free(p) };
        out
    }

    fn keep(&mut self, r: &Ref, p: *mut plsm_pool_t) {
        if let Some(old) = self.pools.insert(r.key(), p) {
            // SAFETY: the replaced handle is ours and no longer referenced.
            unsafe { plsm_pool_free(old) };
        }
    }
}

impl Drop for CAbi {
    fn drop(&mut self) {
        // SAFETY: every pointer here is ours and freed once.
        unsafe {
            for (_, s) in self.streams.drain() {
                plsm_stream_free(s);
            }
            for (_, p) in self.pools.drain() {
                plsm_pool_free(p);
            }
            plsm_client_free(self.client);
        }
    }
}

fn empty_buf() -> plsm_buf_t {
    plsm_buf_t {
        data: ptr::null_mut(),
        len: 0,
    }
}

fn c_tags(tags: &[String]) -> (Vec<CString>, Vec<*const c_char>) {
    let owned: Vec<CString> = tags
        .iter()
        .map(|t| CString::new(t.as_str()).unwrap())
        .collect();
    let ptrs = owned.iter().map(|t| t.as_ptr()).collect();
    (owned, ptrs)
}

impl Backend for CAbi {
    fn create(&mut self, r: &Ref, size_bytes: u64) -> Out<Value> {
        let (kind, text) = c_ref(r);
        let mut p = ptr::null_mut();
        // SAFETY: live client, valid C string, writable out-parameter.
        call(|e| unsafe {
            plsm_client_create_pool(self.client, kind, text.as_ptr(), size_bytes, &mut p, e)
        })?;
        self.keep(r, p);
        let mut b = empty_buf();
        // SAFETY: live pool, writable buffer.
        call(|e| unsafe { plsm_pool_info(p, &mut b, e) })?;
        Ok(take_json(b))
    }

    fn open(&mut self, r: &Ref, read_only: bool) -> Out<()> {
        let p = self.open_raw(r, u32::from(read_only))?;
        self.keep(r, p);
        Ok(())
    }

    fn info(&mut self, r: &Ref) -> Out<Value> {
        if !self.pools.contains_key(&r.key()) {
            // Through the client when no handle is kept (the same object either way).
            let (kind, text) = c_ref(r);
            let mut b = empty_buf();
            // SAFETY: live client, valid C string, writable buffer.
            call(|e| unsafe {
                plsm_client_pool_info(self.client, kind, text.as_ptr(), &mut b, e)
            })?;
            return Ok(take_json(b));
        }
        self.with_pool(r, |p| {
            let mut b = empty_buf();
            // SAFETY: live pool, writable buffer.
            call(|e| unsafe { plsm_pool_info(p, &mut b, e) })?;
            Ok(take_json(b))
        })
    }

    fn list(&mut self) -> Out<Vec<String>> {
        let mut b = empty_buf();
        // SAFETY: live client, writable buffer.
        call(|e| unsafe { plsm_client_list_pools(self.client, &mut b, e) })?;
        let v = take_json(b);
        let items = v.as_array().expect("list is an array");
        Ok(items
            .iter()
            .map(|i| i["name"].as_str().expect("name").to_owned())
            .collect())
    }

    fn delete(&mut self, r: &Ref) -> Out<()> {
        let (kind, text) = c_ref(r);
        // SAFETY: live client, valid C string.
        call(|e| unsafe { plsm_client_delete_pool(self.client, kind, text.as_ptr(), e) })
    }

    fn append(&mut self, r: &Ref, json: &[u8], tags: &[String], flush: bool) -> Out<Value> {
        let (_owned, ptrs) = c_tags(tags);
        self.with_pool(r, |p| {
            let mut m: *mut plsm_message_t = ptr::null_mut();
            // SAFETY: live pool; `json` and the tag pointers outlive the call.
            call(|e| unsafe {
                plsm_pool_append_json(
                    p,
                    json.as_ptr().cast(),
                    json.len(),
                    ptrs.as_ptr(),
                    ptrs.len(),
                    i32::from(flush),
                    &mut m,
                    e,
                )
            })?;
            let v = envelope(m);
            // SAFETY: an owned message, freed once.
            unsafe { plsm_message_free(m) };
            v
        })
    }

    fn get(&mut self, r: &Ref, seq: u64) -> Out<Value> {
        self.with_pool(r, |p| {
            let mut m: *mut plsm_message_t = ptr::null_mut();
            // SAFETY: live pool, writable out-parameter.
            call(|e| unsafe { plsm_pool_get(p, seq, &mut m, e) })?;
            let v = envelope(m);
            // SAFETY: an owned message, freed once.
            unsafe { plsm_message_free(m) };
            v
        })
    }

    fn close(&mut self, r: &Ref) {
        if let Some(p) = self.pools.remove(&r.key()) {
            // SAFETY: our handle, freed once.
            unsafe { plsm_pool_free(p) };
        }
    }

    fn stream_open(&mut self, id: &str, r: &Ref, spec: &StreamSpec) -> Out<()> {
        let (_owned, ptrs) = c_tags(&spec.tags);
        let opts = plsm_tail_options_t {
            struct_size: std::mem::size_of::<plsm_tail_options_t>() as u32,
            flags: 0,
            since_seq: spec.since_seq.unwrap_or(0),
            max: spec.max.unwrap_or(0),
            timeout_ms: spec.timeout_ms.unwrap_or(0),
            tags: if ptrs.is_empty() {
                ptr::null()
            } else {
                ptrs.as_ptr()
            },
            tag_count: ptrs.len(),
        };
        let s = self.with_pool(r, |p| {
            let mut s = ptr::null_mut();
            // SAFETY: live pool, options valid for the call, writable out-parameter.
            call(|e| unsafe { plsm_pool_tail(p, &opts, &mut s, e) })?;
            Ok(s)
        })?;
        if let Some(old) = self.streams.insert(id.to_owned(), s) {
            // SAFETY: the replaced stream is ours.
            unsafe { plsm_stream_free(old) };
        }
        Ok(())
    }

    fn stream_next(&mut self, id: &str) -> Out<Event> {
        let s = *self.streams.get(id).expect("unknown stream");
        let (mut ev, mut msg, mut lost) = (0i32, ptr::null::<plsm_message_t>(), 0u64);
        // SAFETY: live stream, writable out-parameters.
        call(|e| unsafe { plsm_stream_next(s, &mut ev, &mut msg, &mut lost, e) })?;
        Ok(match ev {
            EVENT_MESSAGE => Event::Message(envelope(msg)?),
            EVENT_LOST => Event::Lost(lost),
            EVENT_TIMEOUT => Event::Timeout,
            EVENT_END => Event::End,
            EVENT_CANCELLED => Event::Cancelled,
            other => panic!("unknown event {other}"),
        })
    }

    fn stream_cancel(&mut self, id: &str) {
        if let Some(&s) = self.streams.get(id) {
            // SAFETY: live stream.
            unsafe { plsm_stream_cancel(s) };
        }
    }

    fn stream_close(&mut self, id: &str) {
        if let Some(s) = self.streams.remove(id) {
            // SAFETY: our stream, freed once.
            unsafe { plsm_stream_free(s) };
        }
    }
}

/// The CLI for `writers` steps: `PLASMITE_BIN`, else the `plasmite` binary cargo built next to this
/// test (`cargo test --workspace` builds it).
fn plasmite_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("PLASMITE_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test exe");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("plasmite"))
        .expect("target dir");
    assert!(
        bin.exists(),
        "{bin:?} is missing: build it first (cargo build --bin plasmite) or set PLASMITE_BIN"
    );
    bin
}

#[test]
fn every_conformance_manifest_passes_through_the_c_abi() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance");
    let bin = plasmite_bin();
    let manifests = driver::manifests(&dir);
    let (mut steps, mut failures) = (0, Vec::new());
    for m in &manifests {
        let out = driver::run_manifest(m, &bin, CAbi::new);
        steps += out.steps;
        failures.extend(out.failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(manifests.len() >= 6, "{} manifests", manifests.len());
    assert!(steps >= 60, "{steps} steps");
}

#[test]
fn a_panic_inside_a_call_is_reported_as_internal_not_unwound_into_c() {
    let mut err: *mut plsm_error_t = ptr::null_mut();
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let rc = abi::error::guard(&mut err, || panic!("deliberate"));
    std::panic::set_hook(prev);
    assert_eq!(rc, 8);
    assert!(!err.is_null());
    // SAFETY: a fresh error from the guard, read then freed once.
    unsafe {
        assert_eq!((*err).kind, 8);
        let msg = CStr::from_ptr((*err).message)
            .to_string_lossy()
            .into_owned();
        assert!(msg.contains("deliberate"), "{msg}");
        plsm_error_free(err);
    }
}

#[test]
fn struct_layouts_match_the_header() {
    // The same numbers are _Static_asserted in tests/test_abi.c against plasmite.h.
    assert_eq!(std::mem::size_of::<plsm_tail_options_t>(), 48);
    assert_eq!(std::mem::size_of::<plsm_message_t>(), 48);
    assert_eq!(std::mem::size_of::<plsm_error_t>(), 48);
    assert_eq!(std::mem::size_of::<plsm_buf_t>(), 16);
    assert_eq!(std::mem::offset_of!(plsm_error_t, message), 8);
    assert_eq!(std::mem::offset_of!(plsm_error_t, seq), 32);
    assert_eq!(std::mem::offset_of!(plsm_message_t, tags), 32);
    assert_eq!(std::mem::offset_of!(plsm_tail_options_t, tags), 32);
}

#[test]
fn tail_options_grow_by_struct_size_and_refuse_unknown_settings() {
    let tmp = std::env::temp_dir().join(format!("plasmite-c-opts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let mut api = CAbi::new(&tmp);
    api.create(&Ref::Name("p".into()), 65536).expect("create");
    let pool = api.pools[&Ref::Name("p".into()).key()];
    /// A caller compiled against a later header: our struct plus one more field.
    #[repr(C)]
    struct Newer {
        base: plsm_tail_options_t,
        extra: u64,
    }
    let mut o = Newer {
        base: plsm_tail_options_t {
            struct_size: std::mem::size_of::<Newer>() as u32,
            flags: 0,
            since_seq: 1,
            max: 0,
            timeout_ms: 10,
            tags: ptr::null(),
            tag_count: 0,
        },
        extra: 0,
    };
    let tail = |o: &Newer| {
        let mut s = ptr::null_mut();
        // SAFETY: live pool; `o` is struct_size readable bytes; writable out-parameter.
        let r = call(|e| unsafe { plsm_pool_tail(pool, &o.base, &mut s, e) });
        // SAFETY: NULL or our stream.
        unsafe { plsm_stream_free(s) };
        r
    };
    assert!(
        tail(&o).is_ok(),
        "unknown trailing fields left zero are fine"
    );
    o.extra = 1;
    assert_eq!(tail(&o).unwrap_err().kind, "Usage");
    o.extra = 0;
    o.base.struct_size = 40;
    assert_eq!(tail(&o).unwrap_err().kind, "Usage");
    drop(api);
    let _ = std::fs::remove_dir_all(&tmp);
}
