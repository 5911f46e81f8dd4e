"""Benchmark of the Python binding, against the same loops written over the C ABI with ctypes.

    python bench.py [--n 200000] [--runs 5] [--cabi PATH/libplasmite.so]

PATH may also come from the PLASMITE_CABI_LIB environment variable; without either, the ctypes
loops are skipped. Each figure is the median of --runs runs over a warmed pool (one full lap is
written first, so no run pays the kernel's first-touch page zeroing).

Measures: append of pre-encoded JSON (`append_json`), append of a small dict (`append`: the binding
serialises it; the ctypes loop calls `json.dumps` then the C append), and a tail of a backlog reading
each message's `data_json` bytes.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional

import plasmite

POOL_BYTES = 64 * 1024 * 1024
SMALL = {"sensor": "temp", "value": 23.5, "ok": True}
SMALL_JSON = json.dumps(SMALL, separators=(",", ":")).encode()


def rate(n: int, fn: Callable[[], None], runs: int) -> float:
    results = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        results.append(n / (time.perf_counter() - t0))
    return statistics.median(results)


# ---- the binding -----------------------------------------------------------------------------------


def bench_binding(d: str, n: int, runs: int) -> Dict[str, float]:
    client = plasmite.Client(d)
    pool = client.create_pool("py", POOL_BYTES)
    fast = plasmite.Durability.FAST
    for _ in range(POOL_BYTES // 64):
        pool.append_json(SMALL_JSON, [], fast)

    def append_json() -> None:
        aj = pool.append_json
        for _ in range(n):
            aj(SMALL_JSON, [], fast)

    def append_dict() -> None:
        a = pool.append
        for _ in range(n):
            a(SMALL, [], fast)

    def tail() -> None:
        first = pool.info()["bounds"]["newest"] - n + 1
        count = 0
        for m in pool.tail(since_seq=first, max=n):
            m.data_json
            count += 1
        assert count == n, count

    out = {
        "append_json": rate(n, append_json, runs),
        "append": rate(n, append_dict, runs),
        "tail": rate(n, tail, runs),
    }
    pool.close()
    return out


# ---- the same loops over the C ABI (bindings/c/include/plasmite.h) ---------------------------------


class PlsmMessage(ctypes.Structure):
    _fields_ = [
        ("seq", ctypes.c_uint64),
        ("time_ns", ctypes.c_uint64),
        ("data", ctypes.c_void_p),
        ("data_len", ctypes.c_size_t),
        ("tags", ctypes.POINTER(ctypes.c_char_p)),
        ("tag_count", ctypes.c_size_t),
    ]


class PlsmTailOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("since_seq", ctypes.c_uint64),
        ("max", ctypes.c_uint64),
        ("timeout_ms", ctypes.c_uint64),
        ("tags", ctypes.POINTER(ctypes.c_char_p)),
        ("tag_count", ctypes.c_size_t),
    ]


class CMessage:
    """What a ctypes binding would hand its caller for an appended message."""

    __slots__ = ("seq", "time_ns")

    def __init__(self, seq: int, time_ns: int) -> None:
        self.seq = seq
        self.time_ns = time_ns


def load_cabi(path: str) -> Any:
    lib = ctypes.CDLL(path)
    vp, pp = ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)
    lib.plsm_client_new.argtypes = [ctypes.c_char_p, pp, pp]
    lib.plsm_client_new.restype = ctypes.c_int32
    lib.plsm_client_create_pool.argtypes = [vp, ctypes.c_int32, ctypes.c_char_p, ctypes.c_uint64, pp, pp]
    lib.plsm_client_create_pool.restype = ctypes.c_int32
    lib.plsm_pool_append_json.argtypes = [
        vp, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t,
        ctypes.c_int32, ctypes.POINTER(ctypes.POINTER(PlsmMessage)), pp,
    ]
    lib.plsm_pool_append_json.restype = ctypes.c_int32
    lib.plsm_message_free.argtypes = [ctypes.POINTER(PlsmMessage)]
    lib.plsm_message_free.restype = None
    lib.plsm_pool_tail.argtypes = [vp, ctypes.POINTER(PlsmTailOptions), pp, pp]
    lib.plsm_pool_tail.restype = ctypes.c_int32
    lib.plsm_stream_next.argtypes = [
        vp, ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.POINTER(PlsmMessage)),
        ctypes.POINTER(ctypes.c_uint64), pp,
    ]
    lib.plsm_stream_next.restype = ctypes.c_int32
    lib.plsm_stream_free.argtypes = [vp]
    lib.plsm_stream_free.restype = None
    lib.plsm_pool_free.argtypes = [vp]
    lib.plsm_pool_free.restype = None
    lib.plsm_client_free.argtypes = [vp]
    lib.plsm_client_free.restype = None
    return lib


def bench_cabi(lib: Any, d: str, n: int, runs: int) -> Dict[str, float]:
    err = ctypes.c_void_p()
    client = ctypes.c_void_p()
    pool = ctypes.c_void_p()
    assert lib.plsm_client_new(d.encode(), ctypes.byref(client), ctypes.byref(err)) == 0
    assert lib.plsm_client_create_pool(client, 1, b"c", POOL_BYTES, ctypes.byref(pool), ctypes.byref(err)) == 0
    no_tags = (ctypes.c_char_p * 1)()

    def append_bytes(data: bytes) -> CMessage:
        # One call as a ctypes binding would make it: errors checked, the message copied out, freed.
        msg = ctypes.POINTER(PlsmMessage)()
        rc = lib.plsm_pool_append_json(pool, data, len(data), no_tags, 0, 0, ctypes.byref(msg), ctypes.byref(err))
        if rc != 0:
            raise RuntimeError(f"append failed: {rc}")
        m = msg.contents
        out = CMessage(m.seq, m.time_ns)
        lib.plsm_message_free(msg)
        return out

    for _ in range(POOL_BYTES // 64):
        append_bytes(SMALL_JSON)

    def append_json() -> None:
        for _ in range(n):
            append_bytes(SMALL_JSON)

    def append_dict() -> None:
        dumps = json.dumps
        for _ in range(n):
            append_bytes(dumps(SMALL, separators=(",", ":")).encode())

    newest = [0]

    def tail() -> None:
        opts = PlsmTailOptions(ctypes.sizeof(PlsmTailOptions), 0, newest[0] - n + 1, n, 0, None, 0)
        stream = ctypes.c_void_p()
        assert lib.plsm_pool_tail(pool, ctypes.byref(opts), ctypes.byref(stream), ctypes.byref(err)) == 0
        ev = ctypes.c_int32()
        msg = ctypes.POINTER(PlsmMessage)()
        lost = ctypes.c_uint64()
        count = 0
        while True:
            rc = lib.plsm_stream_next(stream, ctypes.byref(ev), ctypes.byref(msg), ctypes.byref(lost), ctypes.byref(err))
            if rc != 0:
                raise RuntimeError(f"next failed: {rc}")
            if ev.value == 1:
                m = msg.contents
                ctypes.string_at(m.data, m.data_len)
                count += 1
            elif ev.value != 2:
                break
        lib.plsm_stream_free(stream)
        assert count == n, count

    out = {"append_json": rate(n, append_json, runs), "append": rate(n, append_dict, runs)}
    newest[0] = append_bytes(SMALL_JSON).seq
    out["tail"] = rate(n, tail, runs)
    lib.plsm_pool_free(pool)
    lib.plsm_client_free(client)
    return out


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000, help="messages per run")
    ap.add_argument("--runs", type=int, default=5, help="runs per figure (the median is reported)")
    ap.add_argument("--cabi", default=os.environ.get("PLASMITE_CABI_LIB"), help="path of libplasmite.so")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        py = bench_binding(d, args.n, args.runs)
        c = bench_cabi(load_cabi(args.cabi), d, args.n, args.runs) if args.cabi else None
    print(f"plasmite {plasmite.__version__}, Python {sys.version.split()[0]}, n={args.n}, median of {args.runs}")
    print(f"{'measure':<42}{'binding':>14}{'ctypes':>14}{'ratio':>8}")
    labels = {
        "append_json": "append_json (pre-encoded), msgs/s",
        "append": "append (small dict), msgs/s",
        "tail": "tail, data_json of a backlog, msgs/s",
    }
    for k, label in labels.items():
        cv = f"{c[k]:>14,.0f}{py[k] / c[k]:>7.2f}x" if c else f"{'-':>14}{'-':>8}"
        print(f"{label:<42}{py[k]:>14,.0f}{cv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
