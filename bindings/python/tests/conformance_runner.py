"""The conformance runner of the Python binding (spec/conformance.md): it interprets a manifest's steps
through one door (a local client over a pool directory, or a remote client of `plasmite serve` over the
same kind of directory) and checks each step's expectation, as tests/conformance/driver.rs does for the
Rust API and the C ABI. File-level steps (corrupt, chmod, truncate, lock) act on the pool directory's
files directly, which for the remote door are the server's files. A step whose op it does not know
fails the manifest."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Dict, List, Optional, Tuple, Union

import plasmite
from conftest import Door, plasmite_bin

RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
# The read-back tail of `writers` waits this long for more (spec/conformance.md).
WRITERS_READ_BACK_TIMEOUT_S = 0.5
# Generous bounds for child processes (writers, flock): a runner error, never a step's expectation.
CHILD_WAIT_S = 120


class StepMismatch(AssertionError):
    """A step ran but did not reach its expectation (or succeeded where an error was expected)."""


def contains(expected: Any, actual: Any, where: str = "$") -> None:
    """Raises StepMismatch unless `actual` contains `expected` (objects: every expected key; arrays: same
    length, items in order; scalars: equal, numbers as JSON numbers)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            raise StepMismatch(f"{where}: expected an object, got {actual!r}")
        for k, v in expected.items():
            if k not in actual:
                raise StepMismatch(f"{where}: missing key {k!r} in {actual!r}")
            contains(v, actual[k], f"{where}.{k}")
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            raise StepMismatch(f"{where}: expected {len(expected)} items, got {actual!r}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            contains(e, a, f"{where}[{i}]")
    elif isinstance(expected, bool) or isinstance(actual, bool):
        if expected is not actual:
            raise StepMismatch(f"{where}: expected {expected!r}, got {actual!r}")
    elif expected != actual:
        raise StepMismatch(f"{where}: expected {expected!r}, got {actual!r}")


def envelope(m: plasmite.Message) -> Dict[str, Any]:
    if not RFC3339_Z.match(m.time_rfc3339):
        raise StepMismatch(f"bad time {m.time_rfc3339!r} of seq {m.seq}")
    return {"seq": m.seq, "time": m.time_rfc3339, "meta": {"tags": m.tags}, "data": m.data}


def check_error(e: plasmite.PlasmiteError, want: Dict[str, Any], skip: Tuple[str, ...] = ()) -> None:
    """Raises StepMismatch unless `e` has the wanted kind (and class) and context."""
    if e.kind != want["kind"] or not isinstance(e, plasmite.ERROR_CLASSES[want["kind"]]):
        raise StepMismatch(f"expected kind {want['kind']}, got {e.kind} ({type(e).__name__}): {e}")
    for field in ("path", "seq", "offset"):
        has = want.get(f"has_{field}")
        if field not in skip and has is not None and (getattr(e, field) is not None) != has:
            raise StepMismatch(f"has_{field} should be {has}: {e!r}")


PoolField = Union[str, Dict[str, str]]


@dataclass
class Stream:
    """A kept tail (`tail_open`): the binding's Tail, re-opened from its `next_seq` after a timeout so
    the stream stays usable (as the Rust API runner does with a Rust tail)."""

    pool: plasmite.Pool
    owned: bool  # the pool handle was opened for this stream (closed with it)
    tail: plasmite.Tail
    max: Optional[int]
    timeout: Optional[float]
    tags: List[str]
    delivered: int = 0

    def close(self) -> None:
        self.tail.close()
        if self.owned:
            self.pool.close()


class Runner:
    def __init__(self, door: Door) -> None:
        self.door = door
        self.handles: Dict[str, plasmite.Pool] = {}
        self.streams: Dict[str, Stream] = {}
        self.locks: Dict[str, "subprocess.Popen[bytes]"] = {}
        self.writers_started = 0

    def close_all(self) -> None:
        for s in self.streams.values():
            s.close()
        for p in self.handles.values():
            p.close()
        for child in self.locks.values():
            release(child)
        self.streams.clear()
        self.handles.clear()
        self.locks.clear()

    # ---- refs and handles ----------------------------------------------------------------------

    @staticmethod
    def key(pool: PoolField) -> str:
        return json.dumps(pool, sort_keys=True)

    def ref(self, pool: PoolField) -> Union[plasmite.PoolRef, str, Path]:
        """What the binding is given for a step's `pool`: a manifest's plain string is a name (never
        read as a path), `{"ref": TEXT}` the plain text the binding reads with the CLI rule."""
        if isinstance(pool, str):
            return plasmite.PoolRef.name(pool)
        if "path" in pool:
            return self.door.dir / pool["path"]
        if "uri" in pool:
            return plasmite.PoolRef.uri(pool["uri"])
        if "ref" in pool:
            return pool["ref"]
        raise AssertionError(f"unknown pool ref {pool!r}")

    def file(self, pool: PoolField) -> Path:
        """The pool file a ref designates (for file-level steps)."""
        if isinstance(pool, str):
            return self.door.dir / f"{pool}.plasmite"
        if "path" in pool:
            return self.door.dir / pool["path"]
        text = pool.get("ref", "")
        if text and "/" not in text and "://" not in text:
            return self.door.dir / f"{text.removesuffix('.plasmite')}.plasmite"
        raise AssertionError(f"no file for {pool!r}")

    def with_handle(self, pool: PoolField, use: Callable[[plasmite.Pool], Any]) -> Any:
        """Runs `use` on the kept handle of `pool`, or on one opened for this step (an open error is the
        step's error) and closed after it."""
        kept = self.handles.get(self.key(pool))
        if kept is not None:
            return use(kept)
        with self.door.client.open_pool(self.ref(pool)) as p:
            return use(p)

    def keep(self, pool: PoolField, p: plasmite.Pool) -> None:
        old = self.handles.pop(self.key(pool), None)
        if old is not None:
            old.close()
        self.handles[self.key(pool)] = p

    def run(self, step: Dict[str, Any]) -> Any:
        op = step["op"]
        fn = getattr(self, f"op_{op}", None)
        if fn is None:
            raise AssertionError(f"unknown conformance op {op!r}: this runner must learn it")
        return fn(step)

    # ---- lifecycle ------------------------------------------------------------------------------

    def op_create(self, s: Dict[str, Any]) -> Any:
        p = self.door.client.create_pool(self.ref(s["pool"]), s["size_bytes"])
        self.keep(s["pool"], p)
        return p.info()

    def op_open(self, s: Dict[str, Any]) -> Any:
        p = self.door.client.open_pool(self.ref(s["pool"]), read_only=s.get("read_only", False))
        self.keep(s["pool"], p)
        return {}

    def op_info(self, s: Dict[str, Any]) -> Any:
        return self.with_handle(s["pool"], lambda p: p.info())

    def op_list(self, s: Dict[str, Any]) -> Any:
        return {"names": sorted(p["name"] for p in self.door.client.list_pools())}

    def op_delete(self, s: Dict[str, Any]) -> Any:
        self.door.client.delete_pool(self.ref(s["pool"]))
        return {}

    def op_close(self, s: Dict[str, Any]) -> Any:
        p = self.handles.pop(self.key(s["pool"]), None)
        if p is not None:
            p.close()
        return {}

    # ---- messages -------------------------------------------------------------------------------

    @staticmethod
    def durability(s: Dict[str, Any]) -> plasmite.Durability:
        d = s.get("durability", "fast")
        if d not in ("fast", "flush"):
            raise AssertionError(f"bad durability {d!r}")
        return plasmite.Durability.FLUSH if d == "flush" else plasmite.Durability.FAST

    def op_append(self, s: Dict[str, Any]) -> Any:
        tags, d = s.get("tags", []), self.durability(s)
        return self.with_handle(s["pool"], lambda p: envelope(p.append(s["data"], tags, d)))

    def op_append_json(self, s: Dict[str, Any]) -> Any:
        tags, d = s.get("tags", []), self.durability(s)
        return self.with_handle(s["pool"], lambda p: envelope(p.append_json(s["json"].encode(), tags, d)))

    def op_append_many(self, s: Dict[str, Any]) -> Any:
        def run(p: plasmite.Pool) -> Any:
            seqs = []
            for i in range(s["count"]):
                data = dict(s["data"], i=i) if isinstance(s["data"], dict) else s["data"]
                seqs.append(p.append(data, s.get("tags", []), self.durability(s)).seq)
            return {"first_seq": seqs[0] if seqs else None, "last_seq": seqs[-1] if seqs else 0}

        return self.with_handle(s["pool"], run)

    def op_get(self, s: Dict[str, Any]) -> Any:
        return self.with_handle(s["pool"], lambda p: envelope(p.get(s["seq"])))

    # ---- tails ----------------------------------------------------------------------------------

    def open_stream(self, s: Dict[str, Any]) -> Stream:
        kept = self.handles.get(self.key(s["pool"]))
        pool = kept if kept is not None else self.door.client.open_pool(self.ref(s["pool"]))
        timeout_ms = s.get("timeout_ms")
        timeout = None if timeout_ms is None else timeout_ms / 1000
        tags = list(s.get("tags", []))
        try:
            tail = pool.tail(since_seq=s.get("since_seq"), max=s.get("max"), timeout=timeout, tags=tags)
        except BaseException:
            if kept is None:
                pool.close()
            raise
        return Stream(pool, kept is None, tail, s.get("max"), timeout, tags)

    def read_stream(self, st: Stream, max: Optional[int]) -> Dict[str, Any]:
        """Reads until `max` messages (when given), the stream's end, a timeout or cancellation."""
        messages: List[Dict[str, Any]] = []
        end: Optional[str] = None
        lost, start = 0, st.tail.lost
        while True:
            if max is not None and len(messages) >= max:
                end = "max"
                break
            try:
                m = next(st.tail)
            except StopIteration:
                end = st.tail.end
                break
            st.delivered += 1
            messages.append(envelope(m))
        lost += st.tail.lost - start
        if end == "timeout":
            # The binding's tail ends at a timeout, like a Rust tail: carry on in a new one from where
            # it stopped, so the stream stays usable.
            left = None if st.max is None else st.max - st.delivered
            st.tail = st.pool.tail(since_seq=st.tail.next_seq, max=left, timeout=st.timeout, tags=st.tags)
        if end not in ("max", "timeout", "cancelled"):
            raise AssertionError(f"the tail ended with {end!r}")
        return {"messages": messages, "lost": lost, "end": end}

    def op_tail(self, s: Dict[str, Any]) -> Any:
        if s.get("max") is None and s.get("timeout_ms") is None:
            raise AssertionError("a tail step needs max or timeout_ms")
        st = self.open_stream(s)
        try:
            return self.read_stream(st, None)
        finally:
            st.close()

    def op_tail_open(self, s: Dict[str, Any]) -> Any:
        old = self.streams.pop(s["stream"], None)
        if old is not None:
            old.close()
        self.streams[s["stream"]] = self.open_stream(s)
        return {}

    def stream(self, s: Dict[str, Any]) -> Stream:
        st = self.streams.get(s["stream"])
        if st is None:
            raise AssertionError(f"no stream {s['stream']!r} (tail_open first)")
        return st

    def op_tail_read(self, s: Dict[str, Any]) -> Any:
        return self.read_stream(self.stream(s), s.get("max"))

    def op_tail_cancel(self, s: Dict[str, Any]) -> Any:
        # As from another thread: Tail.cancel is meant to be called while another thread iterates.
        th = threading.Thread(target=self.stream(s).tail.cancel)
        th.start()
        th.join(timeout=CHILD_WAIT_S)
        return {}

    def op_tail_close(self, s: Dict[str, Any]) -> Any:
        self.stream(s).close()
        del self.streams[s["stream"]]
        return {}

    # ---- other processes ------------------------------------------------------------------------

    def op_writers(self, s: Dict[str, Any]) -> Any:
        pool = s["pool"]
        if isinstance(pool, str):
            target = self.door.pool_arg(pool)
        elif "path" in pool and self.door.server is None:
            target = str(self.door.dir / pool["path"])
        else:
            raise AssertionError(f"writers through the {self.door.kind} door need a name, not {pool!r}")
        first = self.writers_started
        self.writers_started += s["processes"]
        args = [plasmite_bin(), "--dir", str(self.door.dir), "poke", target]
        procs = [subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for _ in range(s["processes"])]
        # Every writer is running before any gets its input, so their appends interleave.
        failures: List[str] = []

        def feed(w: int, pr: "subprocess.Popen[bytes]") -> None:
            body = "".join(json.dumps({"w": w, "i": i}) + "\n" for i in range(s["messages"])).encode()
            _, err = pr.communicate(body, timeout=CHILD_WAIT_S)
            if pr.returncode != 0:
                failures.append(f"writer {w} exited {pr.returncode}: {err.decode(errors='replace')}")

        feeders = [threading.Thread(target=feed, args=(first + n, pr)) for n, pr in enumerate(procs)]
        for th in feeders:
            th.start()
        for th in feeders:
            th.join()
        if failures:
            raise AssertionError("; ".join(failures))

        def read_back(p: plasmite.Pool) -> List[Dict[str, Any]]:
            with p.tail(since_seq=1, timeout=WRITERS_READ_BACK_TIMEOUT_S) as t:
                return [envelope(m) for m in t]

        msgs = self.with_handle(pool, read_back)
        seqs = [m["seq"] for m in msgs]
        next_i: Dict[int, int] = {}
        ordered = True
        for m in msgs:
            d = m["data"]
            if isinstance(d, dict) and isinstance(d.get("w"), int) and isinstance(d.get("i"), int):
                ordered = ordered and next_i.get(d["w"], 0) == d["i"]
                next_i[d["w"]] = next_i.get(d["w"], 0) + 1
        return {
            "seqs_distinct": len(set(seqs)) == len(seqs),
            "seqs_contiguous": seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True,
            "writers_ordered": ordered,
            "count": len(seqs),
        }

    def op_lock(self, s: Dict[str, Any]) -> Any:
        path = self.file(s["pool"])
        child = subprocess.Popen(["flock", "-x", str(path), "-c", "echo locked; exec cat >/dev/null"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert child.stdout is not None
        line = child.stdout.readline().decode().strip()
        if line != "locked":
            release(child)
            raise AssertionError(f"flock(1) did not take the lock of {path}: {line!r}")
        old = self.locks.pop(str(path), None)
        if old is not None:
            release(old)
        self.locks[str(path)] = child
        return {}

    def op_unlock(self, s: Dict[str, Any]) -> Any:
        child = self.locks.pop(str(self.file(s["pool"])), None)
        if child is None:
            raise AssertionError("unlock without lock")
        release(child)
        return {}

    # ---- files ----------------------------------------------------------------------------------

    def op_corrupt(self, s: Dict[str, Any]) -> Any:
        with open(self.file(s["pool"]), "r+b") as f:
            f.seek(s["offset"])
            f.write(bytes(s["bytes"]))
        return {}

    def op_chmod(self, s: Dict[str, Any]) -> Any:
        os.chmod(self.file(s["pool"]), s["mode"])
        return {}

    def op_truncate(self, s: Dict[str, Any]) -> Any:
        os.truncate(self.file(s["pool"]), s["length"])
        return {}


def release(child: "subprocess.Popen[bytes]") -> None:
    stdin: Optional[IO[bytes]] = child.stdin
    if stdin is not None:
        stdin.close()
    child.wait(timeout=CHILD_WAIT_S)
    if child.stdout is not None:
        child.stdout.close()


def run_step(runner: Runner, step: Dict[str, Any], skip: Tuple[str, ...] = ()) -> None:
    """Runs one step; raises StepMismatch when it misses its expectation. `skip`: context fields of an
    expected error not checked (known gaps of a door)."""
    if "error" in step:
        try:
            got = runner.run(step)
        except plasmite.PlasmiteError as e:
            check_error(e, step["error"], skip)
            return
        raise StepMismatch(f"expected error {step['error']}, got {got!r}")
    try:
        got = runner.run(step)
    except plasmite.PlasmiteError as e:
        raise StepMismatch(f"failed with {e.kind}: {e}") from e
    if "expect" in step:
        contains(step["expect"], got)
