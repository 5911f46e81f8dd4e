//! libplasmite benchmark: the C ABI against the Rust API in the same process and run.
//!
//! `cargo run --release -p plasmite-c --example bench -- [--quick] [--dir DIR]`
//!
//! - append: 256-byte JSON values, one call (one lock hold) per message, through
//!   `plsm_pool_append_json` (tags and data as C pointers, the committed message not requested)
//!   and through `Pool::append_json`;
//! - tail: 1 M messages read from seq 1 by `plsm_pool_tail` + `plsm_stream_next` (reading each
//!   message's seq and data length) and by the Rust `Tail` iterator (owned messages); the
//!   zero-copy `Tail::next_ref` is printed too.
//!
//! The library source is compiled into this program (`#[path]`), so the ABI figures include every
//! argument check, the panic guard and the message blocks, but not the dynamic-linking call overhead
//! (a PLT jump). Rounds alternate the two doors; each figure is the median of the rounds, and the ratio
//! is ABI / Rust.

#[path = "../src/lib.rs"]
#[allow(dead_code)]
mod abi;

use abi::message::plsm_message_t;
use abi::pool::{plsm_pool_append_json, plsm_pool_free, plsm_pool_t};
use abi::stream::{plsm_pool_tail, plsm_stream_free, plsm_stream_next, plsm_tail_options_t};
use plasmite::api::{TailEventRef, TailStart};
use plasmite::{Client, Durability, Pool, PoolRef, TailEvent, TailOptions};
use std::ffi::c_char;
use std::path::PathBuf;
use std::ptr;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// The median of the per-round ratios a[i] / b[i] (robust to load that drifts between rounds).
fn median_ratio(a: &[f64], b: &[f64]) -> f64 {
    median(a.iter().zip(b).map(|(x, y)| x / y).collect())
}

fn fresh(client: &Client, name: &str, size: u64) -> Pool {
    let r = PoolRef::name(name);
    let _ = client.delete_pool(&r);
    client.create_pool(&r, size).unwrap()
}

/// The same Pool as a C handle (the ABI's own constructor, as plsm_client_open_pool makes it).
fn c_pool(p: &Pool) -> *mut plsm_pool_t {
    plsm_pool_t::into_raw(p.clone())
}

fn append_rust(pool: &Pool, data: &[u8], n: u64) -> f64 {
    let none: &[&str] = &[];
    let t = Instant::now();
    for _ in 0..n {
        pool.append_json(data, none, Durability::Fast).unwrap();
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn append_abi(pool: *mut plsm_pool_t, data: &[u8], n: u64) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        // SAFETY: a live pool handle; `data` outlives the call; no tags; no out-parameters.
        let rc = unsafe {
            plsm_pool_append_json(
                pool,
                data.as_ptr().cast::<c_char>(),
                data.len(),
                ptr::null(),
                0,
                0,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        assert_eq!(rc, 0);
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn tail_rust(pool: &Pool, n: u64) -> f64 {
    let t = Instant::now();
    let tail = pool
        .tail(TailOptions {
            start: TailStart::Since(1),
            max: Some(n),
            ..TailOptions::default()
        })
        .unwrap();
    let mut bytes = 0usize;
    for ev in tail {
        if let TailEvent::Message(m) = ev.unwrap() {
            bytes += m.data.len() + m.seq as usize % 2;
        }
    }
    assert!(bytes > 0);
    n as f64 / t.elapsed().as_secs_f64()
}

fn tail_rust_ref(pool: &Pool, n: u64) -> f64 {
    let t = Instant::now();
    let mut tail = pool
        .tail(TailOptions {
            start: TailStart::Since(1),
            max: Some(n),
            ..TailOptions::default()
        })
        .unwrap();
    let mut bytes = 0usize;
    while let Some(ev) = tail.next_ref() {
        if let TailEventRef::Message(m) = ev.unwrap() {
            bytes += m.data().len() + m.seq() as usize % 2;
        }
    }
    assert!(bytes > 0);
    n as f64 / t.elapsed().as_secs_f64()
}

fn tail_abi(pool: *mut plsm_pool_t, n: u64) -> f64 {
    let t = Instant::now();
    let opts = plsm_tail_options_t {
        struct_size: std::mem::size_of::<plsm_tail_options_t>() as u32,
        flags: 0,
        since_seq: 1,
        max: n,
        timeout_ms: 0,
        tags: ptr::null(),
        tag_count: 0,
    };
    let mut s = ptr::null_mut();
    // SAFETY: live pool, valid options, writable out-parameter.
    assert_eq!(
        unsafe { plsm_pool_tail(pool, &opts, &mut s, ptr::null_mut()) },
        0
    );
    let (mut bytes, mut got) = (0usize, 0u64);
    loop {
        let (mut ev, mut m, mut lost) = (0i32, ptr::null::<plsm_message_t>(), 0u64);
        // SAFETY: live stream, writable out-parameters.
        let rc = unsafe { plsm_stream_next(s, &mut ev, &mut m, &mut lost, ptr::null_mut()) };
        assert_eq!(rc, 0);
        if ev != 1 {
            break;
        }
        // SAFETY: MESSAGE events carry a message valid until the next call.
        let m = unsafe { &*m };
        bytes += m.data_len + m.seq as usize % 2;
        got += 1;
    }
    assert_eq!(got, n);
    assert!(bytes > 0);
    // SAFETY: our stream, freed once.
    unsafe { plsm_stream_free(s) };
    n as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut quick, mut dir) = (false, std::env::temp_dir().join("plasmite-c-bench"));
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--dir" => dir = PathBuf::from(args.next().expect("--dir DIR")),
            other => panic!("unknown argument {other}"),
        }
    }
    let rounds = if quick { 3 } else { 9 };
    let appends: u64 = if quick { 20_000 } else { 100_000 };
    let tail_n: u64 = if quick { 200_000 } else { 1_000_000 };
    let client = Client::new(&dir);
    let data = format!("{{\"p\":\"{}\"}}", "x".repeat(248));
    assert_eq!(data.len(), 256);

    let (mut rust_a, mut abi_a) = (Vec::new(), Vec::new());
    let rp = fresh(&client, "bench-append-rust", 64 << 20);
    let ap = fresh(&client, "bench-append-abi", 64 << 20);
    let ac = c_pool(&ap);
    append_rust(&rp, data.as_bytes(), appends / 4); // warm both rings
    append_abi(ac, data.as_bytes(), appends / 4);
    for _ in 0..rounds {
        rust_a.push(append_rust(&rp, data.as_bytes(), appends));
        abi_a.push(append_abi(ac, data.as_bytes(), appends));
    }

    let tp = fresh(&client, "bench-tail", 256 << 20);
    let small = b"{\"sensor\":\"temp\",\"value\":23.5,\"n\":12345}";
    let none: &[&str] = &[];
    let recs_text = plasmite::api::JsonText::parse(small).unwrap();
    let recs: Vec<(&plasmite::api::JsonText, &[&str])> =
        (0..4096).map(|_| (&recs_text, none)).collect();
    let mut written = 0;
    while written < tail_n {
        let k = (tail_n - written).min(4096) as usize;
        tp.append_batch(&recs[..k], Durability::Fast).unwrap();
        written += k as u64;
    }
    let tc = c_pool(&tp);
    let (mut rust_t, mut ref_t, mut abi_t) = (Vec::new(), Vec::new(), Vec::new());
    tail_rust(&tp, tail_n); // warm the page cache
    for _ in 0..rounds {
        rust_t.push(tail_rust(&tp, tail_n));
        abi_t.push(tail_abi(tc, tail_n));
        ref_t.push(tail_rust_ref(&tp, tail_n));
    }
    // SAFETY: our handles, freed once.
    unsafe {
        plsm_pool_free(ac);
        plsm_pool_free(tc);
    }
    for name in ["bench-append-rust", "bench-append-abi", "bench-tail"] {
        let _ = client.delete_pool(&PoolRef::name(name));
    }

    let ratio_a = median_ratio(&abi_a, &rust_a) * 100.0;
    let ratio_t = median_ratio(&abi_t, &rust_t) * 100.0;
    let ratio_r = median_ratio(&abi_t, &ref_t) * 100.0;
    let (ra, aa) = (median(rust_a), median(abi_a));
    let (rt, at, rr) = (median(rust_t), median(abi_t), median(ref_t));
    println!("libplasmite bench: medians of {rounds} alternating rounds");
    println!("append 256 B, one lock per message ({appends} per round):");
    println!("  Rust API  {ra:>12.0} msg/s");
    println!("  C ABI     {aa:>12.0} msg/s   ABI/Rust (median of per-round ratios) {ratio_a:.1}%");
    println!("tail of {tail_n} messages from seq 1:");
    println!("  Rust API (owned messages)   {rt:>12.0} msg/s");
    println!("  Rust API (next_ref)         {rr:>12.0} msg/s");
    println!(
        "  C ABI (plsm_stream_next)    {at:>12.0} msg/s   ABI/Rust owned {ratio_t:.1}%, ABI/next_ref {ratio_r:.1}% (medians of per-round ratios)"
    );
    println!(
        "{{\"append_rust\":{ra:.0},\"append_abi\":{aa:.0},\"append_ratio_pct\":{ratio_a:.1},\"tail_rust\":{rt:.0},\"tail_rust_ref\":{rr:.0},\"tail_abi\":{at:.0},\"tail_ratio_pct\":{ratio_t:.1}}}"
    );
}
