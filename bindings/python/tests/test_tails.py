"""Tail.end, Tail.next_seq, Tail.cancel (from another thread) and one-iterating-thread, through the
local and the remote door."""

from __future__ import annotations

import threading
from typing import List

import pytest

import plasmite
from conftest import Door

MIB = 1024 * 1024
JOIN_S = 60  # generous: the machine is shared


def test_tail_end_says_why_it_stopped(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    for i in range(3):
        p.append(i)
    t = p.tail(since_seq=1, max=2, timeout=30)
    assert t.end is None
    assert [m.seq for m in t] == [1, 2]
    assert t.end == "max"
    t = p.tail(since_seq=2, timeout=0.2)
    assert [m.seq for m in t] == [2, 3] and t.end == "timeout"
    assert list(p.tail(max=0)) == [] and p.tail(max=0).end is None  # decided when iterated
    z = p.tail(max=0)
    assert list(z) == [] and z.end == "max"


def test_a_new_tail_from_next_seq_carries_on_after_a_timeout(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    p.append("a", ["k"])
    p.append("b")
    t = p.tail(since_seq=1, timeout=0.2, tags=["k"])
    assert [m.data for m in t] == ["a"] and t.end == "timeout"
    assert t.next_seq == 3  # past the message the tag filter skipped
    p.append("c", ["k"])
    t2 = p.tail(since_seq=t.next_seq, timeout=0.2, tags=["k"])
    assert [m.seq for m in t2] == [3] and t2.next_seq == 4


def test_next_seq_of_a_tail_from_the_edge_is_the_next_seq_to_be_written(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    p.append(1)
    p.append(2)
    t = p.tail(timeout=0.1)
    assert t.next_seq == 3
    assert list(t) == [] and t.next_seq == 3
    assert p.tail(since_seq=10, timeout=0.1).next_seq == 10


def test_a_tail_from_beyond_the_newest_never_delivers_below_since_seq(door: Door) -> None:
    # The wait is longer than a wait slice (50 ms), after which a local tail restarts its core tail.
    p = door.client.create_pool("p", MIB)
    for i in range(1, 4):
        p.append(i)
    t = p.tail(since_seq=6, max=1, timeout=30)
    timer = threading.Timer(0.4, lambda: [p.append(i) for i in (4, 5, 6)])
    timer.start()
    assert [m.data for m in t] == [6]
    timer.join()


def test_cancel_from_another_thread_ends_a_blocked_tail(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    t = p.tail()  # from the live edge, no timeout: only cancel ends it
    got: List[int] = []
    errors: List[BaseException] = []
    started = threading.Event()

    def follow() -> None:
        started.set()
        try:
            got.extend(m.seq for m in t)
        except BaseException as e:  # noqa: B902 - recorded and checked below
            errors.append(e)

    th = threading.Thread(target=follow)
    th.start()
    started.wait(JOIN_S)
    threading.Event().wait(0.2)
    t.cancel()
    th.join(JOIN_S)
    assert not th.is_alive() and not errors
    assert got == [] and t.end == "cancelled"
    p.append("after")
    with pytest.raises(StopIteration):
        next(t)
    assert t.end == "cancelled" and t.delivered_count == 0


def test_after_cancel_nothing_is_delivered_even_when_messages_are_there(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    for i in range(5):
        p.append(i)
    t = p.tail(since_seq=1, timeout=30)
    assert next(t).seq == 1
    t.cancel()
    t.cancel()  # idempotent
    assert list(t) == [] and t.end == "cancelled"


def test_max_reached_before_cancel_stays_the_end(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    p.append(1)
    t = p.tail(since_seq=1, max=1)
    assert [m.seq for m in t] == [1]
    t.cancel()
    assert t.end == "max"


def test_one_thread_at_a_time_may_iterate_a_tail(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    t = p.tail()  # no message will come: the first thread in holds the tail until cancel
    outcomes: List[str] = []
    ready = threading.Barrier(3)

    def follow() -> None:
        ready.wait(JOIN_S)
        try:
            outcomes.append(f"ended {sum(1 for _ in t)}")
        except plasmite.UsageError as e:
            outcomes.append(f"refused: {e}")

    ths = [threading.Thread(target=follow) for _ in range(2)]
    for th in ths:
        th.start()
    ready.wait(JOIN_S)
    threading.Event().wait(0.3)
    t.close()
    for th in ths:
        th.join(JOIN_S)
    assert sorted(o.split(":")[0] for o in outcomes) == ["ended 0", "refused"], outcomes
    assert "another thread" in "".join(outcomes) and t.end == "cancelled"


def test_gap_policy_error_raises_the_gap_before_any_later_message(door: Door) -> None:
    p = door.client.create_pool("small", 65536)
    pad = "x" * 100
    for i in range(2000):
        p.append({"i": i, "pad": pad})
    oldest = p.info()["bounds"]["oldest"]
    assert oldest > 1, "the ring wrapped"
    kept = p.tail(since_seq=1, max=1)  # the default, "continue": the loss is counted, not raised
    assert [m.seq for m in kept] == [oldest] and kept.lost == oldest - 1
    t = p.tail(since_seq=1, max=1, timeout=30, gap_policy="error")
    with pytest.raises(plasmite.RetentionGapError) as ei:
        next(t)
    assert ei.value.kind == "RetentionGap" and ei.value.seq == 1
    assert list(t) == [] and t.end == "error" and t.delivered_count == 0
    with pytest.raises(plasmite.UsageError):
        p.tail(gap_policy="skip")
