//! The conformance suite (tests/conformance/*.json, spec/conformance.md) through the Rust API: the
//! driver in tests/conformance/driver.rs runs every manifest against a backend over `plasmite::api`.

#[path = "../conformance/driver.rs"]
mod driver;

use driver::{Backend, Event, Fail, Out, Ref, StreamSpec};
use plasmite::api::{Canceller, Client, Durability, Pool, PoolRef, Tail, TailEnd, TailEvent};
use plasmite::api::{TailOptions, TailStart};
use plasmite::Error;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

fn fail(e: Error) -> Fail {
    Fail {
        kind: e.kind().as_str().to_owned(),
        message: e.to_string(),
        has_path: e.path().is_some(),
        has_seq: e.seq().is_some(),
        has_offset: e.offset().is_some(),
    }
}

fn pool_ref(r: &Ref) -> PoolRef {
    match r {
        Ref::Name(n) => PoolRef::name(n.as_str()),
        Ref::Path(p) => PoolRef::path(p.clone()),
        Ref::Uri(u) => PoolRef::uri(u.as_str()),
        Ref::Auto(t) => PoolRef::parse(t),
    }
}

/// `pool info --json`: the info object plus the pool's name (its file name without `.plasmite`).
fn info_json(pool: &Pool) -> Result<Value, Error> {
    let mut v = pool.info()?.to_json();
    let file = pool
        .path()
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let name = file.strip_suffix(".plasmite").unwrap_or(&file).to_owned();
    if let Value::Object(m) = &mut v {
        m.insert("name".into(), name.into());
    }
    Ok(v)
}

struct Stream {
    pool: Pool,
    tail: Tail,
    canceller: Canceller,
    spec: StreamSpec,
    delivered: u64,
    cancelled: bool,
    done: bool,
}

struct Api {
    client: Client,
    pools: HashMap<String, Pool>,
    streams: HashMap<String, Stream>,
}

impl Api {
    fn new(dir: &Path) -> Api {
        Api {
            client: Client::new(dir),
            pools: HashMap::new(),
            streams: HashMap::new(),
        }
    }

    /// The kept handle of `r`, or a fresh one (not kept).
    fn pool(&self, r: &Ref) -> Out<Pool> {
        match self.pools.get(&r.key()) {
            Some(p) => Ok(p.clone()),
            None => self.client.open_pool(&pool_ref(r)).map_err(fail),
        }
    }
}

fn tail_from(pool: &Pool, start: TailStart) -> Out<Tail> {
    pool.tail(TailOptions {
        start,
        ..TailOptions::default()
    })
    .map_err(fail)
}

impl Backend for Api {
    fn create(&mut self, r: &Ref, size_bytes: u64) -> Out<Value> {
        let p = self
            .client
            .create_pool(&pool_ref(r), size_bytes)
            .map_err(fail)?;
        let v = info_json(&p).map_err(fail)?;
        self.pools.insert(r.key(), p);
        Ok(v)
    }

    fn open(&mut self, r: &Ref, read_only: bool) -> Out<()> {
        let p = if read_only {
            let path = self.client.resolve(&pool_ref(r)).map_err(fail)?;
            Pool::open_path_read_only(&path)
        } else {
            self.client.open_pool(&pool_ref(r))
        }
        .map_err(fail)?;
        self.pools.insert(r.key(), p);
        Ok(())
    }

    fn info(&mut self, r: &Ref) -> Out<Value> {
        info_json(&self.pool(r)?).map_err(fail)
    }

    fn list(&mut self) -> Out<Vec<String>> {
        let l = self.client.list_pools().map_err(fail)?;
        Ok(l.into_iter().map(|e| e.name).collect())
    }

    fn delete(&mut self, r: &Ref) -> Out<()> {
        self.client.delete_pool(&pool_ref(r)).map_err(fail)
    }

    fn append(&mut self, r: &Ref, json: &[u8], tags: &[String], flush: bool) -> Out<Value> {
        let d = if flush {
            Durability::Flush
        } else {
            Durability::Fast
        };
        let m = self.pool(r)?.append_json(json, tags, d).map_err(fail)?;
        Ok(m.to_json())
    }

    fn get(&mut self, r: &Ref, seq: u64) -> Out<Value> {
        Ok(self.pool(r)?.get(seq).map_err(fail)?.to_json())
    }

    fn close(&mut self, r: &Ref) {
        self.pools.remove(&r.key());
    }

    fn stream_open(&mut self, id: &str, r: &Ref, spec: &StreamSpec) -> Out<()> {
        let pool = self.pool(r)?;
        let start = spec.since_seq.map_or(TailStart::Edge, TailStart::Since);
        let tail = tail_from(&pool, start)?;
        let canceller = tail.canceller();
        let s = Stream {
            pool,
            tail,
            canceller,
            spec: spec.clone(),
            delivered: 0,
            cancelled: false,
            done: false,
        };
        self.streams.insert(id.to_owned(), s);
        Ok(())
    }

    fn stream_next(&mut self, id: &str) -> Out<Event> {
        let s = self
            .streams
            .get_mut(id)
            .expect("stream_next on an unknown stream");
        if s.cancelled {
            return Ok(Event::Cancelled);
        }
        if s.done || s.spec.max.is_some_and(|m| s.delivered >= m) {
            s.done = true;
            return Ok(Event::End);
        }
        let timeout = s.spec.timeout_ms.map(Duration::from_millis);
        s.tail.set_deadline(timeout.map(|t| Instant::now() + t));
        for ev in s.tail.by_ref() {
            match ev.map_err(fail)? {
                TailEvent::Message(m) => {
                    if s.spec.tags.iter().all(|t| m.tags.contains(t)) {
                        s.delivered += 1;
                        return Ok(Event::Message(m.to_json()));
                    }
                }
                TailEvent::Dropped { lost } => return Ok(Event::Lost(lost)),
            }
        }
        match s.tail.end() {
            Some(TailEnd::Cancelled) => {
                s.cancelled = true;
                Ok(Event::Cancelled)
            }
            _ => {
                // A timeout ends a Rust tail; resume where it stopped, as the C ABI does.
                s.tail = tail_from(&s.pool, TailStart::Since(s.tail.next_seq()))?;
                s.canceller = s.tail.canceller();
                Ok(Event::Timeout)
            }
        }
    }

    fn stream_cancel(&mut self, id: &str) {
        if let Some(s) = self.streams.get_mut(id) {
            s.canceller.cancel();
        }
    }

    fn stream_close(&mut self, id: &str) {
        self.streams.remove(id);
    }
}

#[test]
fn every_conformance_manifest_passes_through_the_rust_api() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let bin = Path::new(env!("CARGO_BIN_EXE_plasmite"));
    let manifests = driver::manifests(&dir);
    let (mut steps, mut failures) = (0, Vec::new());
    for m in &manifests {
        let out = driver::run_manifest(m, bin, Api::new);
        steps += out.steps;
        failures.extend(out.failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(manifests.len() >= 6, "{} manifests", manifests.len());
    assert!(steps >= 60, "{steps} steps");
}

#[test]
fn the_conformance_driver_reports_every_unmet_step() {
    let tmp = crate::support::TempDir::new("conformance-driver");
    let manifest = tmp.join("wrong.json");
    let steps = r#"{"conformance": 0, "name": "wrong", "steps": [
        {"op": "list", "expect": {"names": ["nope"]}},
        {"op": "open", "pool": "x"},
        {"op": "create", "pool": "p", "size_bytes": 65536, "error": {"kind": "NotFound"}},
        {"op": "get", "pool": "p", "seq": 5, "error": {"kind": "NotFound", "has_offset": true}},
        {"op": "append", "pool": "p", "data": 1, "expect": {"seq": 1, "time": "x"}},
        {"op": "frobnicate"},
        {"op": "list", "expect": {"names": ["p"]}}
    ]}"#;
    std::fs::write(&manifest, steps).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_plasmite"));
    let out = driver::run_manifest(&manifest, bin, Api::new);
    assert_eq!(out.steps, 7);
    let failed: Vec<&str> = out
        .failures
        .iter()
        .map(|f| f.split(' ').nth(2).unwrap_or(""))
        .collect();
    assert_eq!(
        failed,
        ["1", "2", "3", "4", "5", "6"],
        "{:#?}",
        out.failures
    );
}
