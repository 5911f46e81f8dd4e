//! Child-process helpers for tests that need a readiness signal and bounded waits instead of sleeps:
//! "the child has mapped the pool" (`/proc/PID/maps`), "the child catches SIGINT" (`/proc/PID/status`),
//! and a `wait` that gives up (killing the child) after a generous limit.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Generous bound for anything a test waits on (the machine is shared and noisy).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Waits for `child` to exit, at most `limit`; kills it and fails the test past that.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> ExitStatus {
    let until = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("child {} still running after {limit:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Polls `f` every 5 ms until it holds; fails the test after `PATIENCE`.
fn until(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + PATIENCE;
    while !f() {
        assert!(Instant::now() < end, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits until process `pid` has `file` mapped (a reader or writer has opened the pool).
pub fn until_mapped(pid: u32, file: &Path) {
    let file = file.canonicalize().unwrap();
    let needle = file.display().to_string();
    until(&format!("{pid} maps {needle}"), || {
        std::fs::read_to_string(format!("/proc/{pid}/maps")).is_ok_and(|m| m.contains(&needle))
    });
}

/// Waits until process `pid` has a handler installed for `signal` (its `SigCgt` mask has the bit).
pub fn until_catches(pid: u32, signal: u32) {
    until(&format!("{pid} catches signal {signal}"), || {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            return false;
        };
        status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .is_some_and(|mask| mask & (1 << (signal - 1)) != 0)
    });
}

/// Like `Command::output`, with the exit awaited at most `PATIENCE` (stdout and stderr are drained on
/// threads meanwhile). Stdin is whatever `cmd` set (null by default here).
pub fn output_bounded(cmd: &mut Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (out, err) = drain(&mut child);
    let status = wait_bounded(&mut child, PATIENCE);
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Threads reading the child's piped stdout and stderr to the end (empty when not piped).
pub fn drain(child: &mut Child) -> (JoinHandle<Vec<u8>>, JoinHandle<Vec<u8>>) {
    fn read_all(r: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    }
    (read_all(child.stdout.take()), read_all(child.stderr.take()))
}
