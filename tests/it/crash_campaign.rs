//! Crash campaign: writer processes ingesting a large stream are killed with SIGKILL at random
//! moments, 200 times over each path (the real binary's `poke POOL` reading JSON Lines from a pipe, and
//! a child test process calling `append_batch`). After every kill the pool validates, every message
//! reads back intact (payloads check themselves) in seq order, each writer's records appear in order
//! without gaps, nothing the writer acknowledged is lost, and the next append continues the seq.

use crate::support::{spawn_child, Rng, TempDir};
use plasmite::api::JsonText;
use plasmite::{Client, Durability, Pool, PoolRef};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROUNDS: u64 = 200;
const POOL_BYTES: u64 = 256 * 1024;
/// Records offered to each writer: more than it can take before the kill.
const STREAM_RECORDS: u64 = 20_000;

const ROLE: &str = "PLASMITE_CRASH_ROLE";
const PATH: &str = "PLASMITE_CRASH_PATH";
const ACKS: &str = "PLASMITE_CRASH_ACKS";
const WRITER: &str = "PLASMITE_CRASH_WRITER";

/// Self-checking record `i` of writer `w`: `sum` depends on everything else, so a torn, mixed or
/// shifted copy cannot pass [`check`].
fn record(w: u64, i: u64) -> String {
    let pad = "abcdefghij".repeat((i.wrapping_mul(7).wrapping_add(w) % 40) as usize);
    let sum = w.wrapping_mul(1_000_003) ^ i.wrapping_mul(7919) ^ pad.len() as u64;
    format!("{{\"w\":{w},\"i\":{i},\"pad\":\"{pad}\",\"sum\":{sum}}}")
}

/// The writer and record number of an intact record; panics on anything else.
fn check(data: &str) -> (u64, u64) {
    let v: serde_json::Value = serde_json::from_str(data).expect("stored data parses");
    let (w, i) = (v["w"].as_u64().unwrap(), v["i"].as_u64().unwrap());
    assert_eq!(data, record(w, i), "record is intact");
    (w, i)
}

/// Child role: appends `record(WRITER, i)` in batches of random sizes until killed; after each batch
/// returns, appends `SEQ I` of its last record to the ACKS file.
#[test]
#[ignore = "child role of the crash campaign"]
fn child_batch_writer_role() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    assert_eq!(role, "append_batch");
    let pool = Pool::open_path(Path::new(&std::env::var(PATH).unwrap())).unwrap();
    let w: u64 = std::env::var(WRITER).unwrap().parse().unwrap();
    let mut acks = std::fs::OpenOptions::new()
        .append(true)
        .open(std::env::var(ACKS).unwrap())
        .unwrap();
    let mut rng = Rng::new(w);
    let none: &[&str] = &[];
    let mut i = 0;
    loop {
        let most = if rng.below(4) == 0 { 2000 } else { 60 };
        let n = 1 + rng.below(most);
        let texts: Vec<JsonText> = (i..i + n)
            .map(|k| JsonText::parse(record(w, k).as_bytes()).unwrap())
            .collect();
        let recs: Vec<(&JsonText, &[&str])> = texts.iter().map(|t| (t, none)).collect();
        let receipts = pool.append_batch(&recs, Durability::Fast).unwrap();
        let last = receipts.last().unwrap();
        writeln!(acks, "{} {}", last.seq, i + n - 1).unwrap();
        i += n;
    }
}

/// What the writer of one round acknowledged: `(seq, record number)` pairs.
type Acks = Vec<(u64, u64)>;

/// Runs the real binary: `plasmite --dir DIR poke PATH` fed JSON Lines through a pipe. Returns the
/// child and threads that feed its stdin and collect the envelopes it printed (its acknowledgements).
fn spawn_poke(
    dir: &Path,
    pool: &Path,
    w: u64,
) -> (
    Child,
    std::thread::JoinHandle<()>,
    std::thread::JoinHandle<Acks>,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_plasmite"))
        .arg("--dir")
        .arg(dir)
        .arg("poke")
        .arg(pool)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let mut chunk = String::new();
        for i in 0..STREAM_RECORDS {
            chunk.push_str(&record(w, i));
            chunk.push('\n');
            if chunk.len() > 32 * 1024 || i + 1 == STREAM_RECORDS {
                if stdin.write_all(chunk.as_bytes()).is_err() {
                    return; // killed: broken pipe
                }
                chunk.clear();
            }
        }
    });
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut acks = Vec::new();
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            // A line cut by the kill has no newline and does not parse: not acknowledged.
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&line) else {
                continue;
            };
            let d = &v["data"];
            let (w, i) = (d["w"].as_u64().unwrap(), d["i"].as_u64().unwrap());
            let sent: serde_json::Value = serde_json::from_str(&record(w, i)).unwrap();
            assert_eq!(*d, sent, "poke printed what it was given");
            acks.push((v["seq"].as_u64().unwrap(), i));
        }
        acks
    });
    (child, feeder, reader)
}

/// Waits a random moment: sometimes a fixed delay, sometimes until the writer has committed something.
fn random_moment(rng: &mut Rng, started: impl Fn() -> bool) {
    let t0 = Instant::now();
    if rng.below(3) == 0 {
        while !started() && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(Duration::from_micros(rng.below(3000)));
    } else {
        std::thread::sleep(Duration::from_micros(rng.below(40_000)));
    }
}

/// Everything that must hold after a kill. Returns the seq of the newest message.
fn check_pool(path: &Path, round: u64, acks: &Acks, last_newest: u64) -> u64 {
    let pool = Pool::open_path(path).unwrap();
    let rep = pool.validate();
    assert!(rep.ok(), "round {round}: {:?}", rep.issues);
    let (oldest, newest) = pool.info().unwrap().bounds.unwrap_or((1, 0));
    assert!(
        newest >= last_newest,
        "round {round}: committed messages stay"
    );
    if let Some(&(seq, _)) = acks.last() {
        assert!(newest >= seq, "round {round}: acknowledged seq {seq} lost");
    }
    let mut next_i: HashMap<u64, u64> = HashMap::new();
    for seq in oldest..=newest {
        let m = pool.get(seq).unwrap();
        assert_eq!(m.seq, seq);
        let (w, i) = check(&m.data);
        if let Some(n) = next_i.insert(w, i + 1) {
            assert_eq!(i, n, "round {round}: writer {w}'s records in order, no gap");
        }
    }
    for &(seq, i) in acks.iter().filter(|a| a.0 >= oldest) {
        assert_eq!(check(&pool.get(seq).unwrap().data), (round, i));
    }
    let m = pool
        .append_json(
            record(u64::MAX, round).as_bytes(),
            &[] as &[&str],
            Durability::Fast,
        )
        .unwrap();
    assert_eq!(
        m.seq,
        newest + 1,
        "round {round}: the next append continues the seq"
    );
    m.seq
}

fn new_pool(t: &TempDir, name: &str) -> PathBuf {
    let path = t.join(name);
    Client::new(t.path())
        .create_pool(&PoolRef::path(&path), POOL_BYTES)
        .unwrap();
    path
}

#[test]
fn poke_binary_killed_mid_stream_200_times_leaves_a_valid_pool_that_continues_the_seq() {
    let t = TempDir::new("crash-poke");
    let path = new_pool(&t, "poke.plasmite");
    let mut rng = Rng::new(0xC0FFEE);
    let (mut newest, mut acked, mut progressed) = (0, 0, 0);
    for round in 0..ROUNDS {
        let (mut child, feeder, reader) = spawn_poke(t.path(), &path, round);
        let pool = Pool::open_path(&path).unwrap();
        random_moment(&mut rng, || {
            pool.info().unwrap().bounds.is_some_and(|b| b.1 > newest)
        });
        child.kill().unwrap();
        child.wait().unwrap();
        feeder.join().unwrap();
        let acks = reader.join().unwrap();
        acked += acks.len();
        let before = newest;
        newest = check_pool(&path, round, &acks, newest);
        progressed += u64::from(newest > before + 1);
    }
    eprintln!("poke: {progressed} of {ROUNDS} writers committed before the kill; {acked} acks");
    assert!(progressed >= ROUNDS / 4, "kills mostly landed mid-stream");
    assert!(
        acked > 1000,
        "the writers got going: {acked} records acknowledged"
    );
}

#[test]
fn append_batch_child_killed_200_times_leaves_a_valid_pool_that_continues_the_seq() {
    let t = TempDir::new("crash-batch");
    let path = new_pool(&t, "batch.plasmite");
    let acks_path = t.join("acks");
    let mut rng = Rng::new(0xBA7C4);
    let (mut newest, mut acked, mut progressed) = (0, 0, 0);
    for round in 0..ROUNDS {
        std::fs::write(&acks_path, b"").unwrap();
        let env = [
            (ROLE, "append_batch".to_owned()),
            (PATH, path.display().to_string()),
            (ACKS, acks_path.display().to_string()),
            (WRITER, round.to_string()),
        ];
        let mut child = spawn_child("crash_campaign::child_batch_writer_role", &env);
        random_moment(&mut rng, || {
            std::fs::metadata(&acks_path).is_ok_and(|m| m.len() > 0)
        });
        child.kill().unwrap();
        child.wait().unwrap();
        let acks: Acks = std::fs::read_to_string(&acks_path)
            .unwrap()
            .lines()
            .filter_map(|l| {
                let (s, i) = l.split_once(' ')?;
                Some((s.parse().ok()?, i.parse().ok()?))
            })
            .collect();
        acked += acks.len();
        let before = newest;
        newest = check_pool(&path, round, &acks, newest);
        progressed += u64::from(newest > before + 1);
    }
    eprintln!(
        "append_batch: {progressed} of {ROUNDS} writers committed before the kill; {acked} acks"
    );
    assert!(progressed >= ROUNDS / 4, "kills mostly landed mid-stream");
    assert!(
        acked > 200,
        "the writers got going: {acked} batches acknowledged"
    );
}
