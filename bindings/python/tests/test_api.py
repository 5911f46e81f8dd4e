"""Every method of Client, Pool, Message and Tail, through the local and the remote door."""

from __future__ import annotations

import datetime
import os
import threading
from pathlib import Path
from typing import List

import pytest

import plasmite
from plasmite import Durability
from conftest import Door

MIB = 1024 * 1024


def test_lifecycle(door: Door) -> None:
    c = door.client
    assert c.list_pools() == []
    p = c.create_pool("events", MIB)
    assert p.name == "events"
    with pytest.raises(plasmite.AlreadyExistsError) as ei:
        c.create_pool("events", MIB)
    assert ei.value.kind == "AlreadyExists"
    assert ei.value.path is not None
    q = c.open_pool("events")
    assert q.info()["file_size"] == MIB
    r = c.pool("other", 2 * MIB)
    assert r.info()["file_size"] == 2 * MIB
    assert c.pool("other", MIB).info()["file_size"] == 2 * MIB  # opened, not re-created
    assert [x["name"] for x in c.list_pools()] == ["events", "other"]
    info = c.pool_info("events")
    assert info["name"] == "events" and info["message_count"] == 0 and info["bounds"] == {}
    for h in (p, q, r):
        h.close()
    c.delete_pool("other")
    assert [x["name"] for x in c.list_pools()] == ["events"]
    with pytest.raises(plasmite.NotFoundError) as e2:
        c.open_pool("other")
    assert isinstance(e2.value, LookupError)
    with pytest.raises(plasmite.NotFoundError):
        c.delete_pool("other")
    with pytest.raises(plasmite.UsageError):
        c.create_pool("bad/../name", MIB) if door.kind == "remote" else c.create_pool("..", MIB)


def test_append_values_and_get(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    values = [{"sensor": "temp", "value": 23.5}, [1, 2, 3], "text é", 7, 2**70, -1.5, True, None, {"n": {"e": []}}]
    msgs = [p.append(v) for v in values]
    assert [m.seq for m in msgs] == list(range(1, len(values) + 1))
    for v, m in zip(values, msgs):
        assert m.data == v
        assert p.get(m.seq).data == v
        assert p.get(m.seq).data_json == m.data_json
    assert msgs[0].data_json == b'{"sensor":"temp","value":23.5}'
    assert p.append((1, 2)).data == [1, 2]
    assert p.append(1.0).data_json == b"1.0"


def test_append_tags_durability_and_message_fields(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    before = datetime.datetime.now(datetime.timezone.utc)
    m = p.append({"a": 1}, ["x", "y"], Durability.FLUSH)
    assert m.tags == ["x", "y"]
    assert p.get(m.seq).tags == ["x", "y"]
    assert m.time.tzinfo is not None and m.time.utcoffset() == datetime.timedelta(0)
    assert m.time >= before - datetime.timedelta(seconds=5)
    assert m.time_rfc3339.endswith("Z") and m.time_rfc3339.startswith(str(m.time.year))
    assert m.time_ns // 1000 == int((m.time - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) / datetime.timedelta(microseconds=1))
    assert p.append("x", tags=("t",), durability=Durability.FAST).tags == ["t"]
    assert "seq=1" in repr(m)


def test_append_json_forms(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    assert p.append_json(b'{"a": [1, 2]}').data_json == b'{"a":[1,2]}'
    assert p.append_json('{"s":"é"}').data == {"s": "é"}
    assert p.append_json(bytearray(b"[true]")).data == [True]
    raw = b'{"k":1}'
    assert p.append_json(raw, [], Durability.FAST).data_json == raw
    with pytest.raises(plasmite.UsageError) as ei:
        p.append_json(b"{not json")
    assert isinstance(ei.value, ValueError) and ei.value.kind == "Usage"
    with pytest.raises(plasmite.UsageError):
        p.append_json(b'{"a":1} {"b":2}')
    with pytest.raises(plasmite.UsageError):
        p.append_json(12)  # type: ignore[arg-type]


def test_append_refuses_what_is_not_json(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    loop: List[object] = []
    loop.append(loop)
    for bad in (float("nan"), float("inf"), {1: "int key"}, object(), {"s": {1, 2}}, loop, "\ud800"):
        with pytest.raises(plasmite.UsageError):
            p.append(bad)
    with pytest.raises(plasmite.UsageError):
        p.append(b"x" * (2 * MIB))  # bytes are not JSON
    with pytest.raises(plasmite.UsageError):
        p.append("x" * (2 * MIB))  # larger than the pool
    assert p.info()["message_count"] == 0


def test_get_missing_is_not_found_with_seq(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    p.append(1)
    with pytest.raises(plasmite.NotFoundError) as ei:
        p.get(99)
    assert ei.value.seq == 99 and isinstance(ei.value, LookupError)


def test_tail_since_max_tags_and_timeout(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    for i in range(10):
        p.append({"i": i}, ["even"] if i % 2 == 0 else ["odd"])
    assert [m.seq for m in p.tail(since_seq=3, max=4)] == [3, 4, 5, 6]
    assert [m.data["i"] for m in p.tail(since_seq=1, tags=["even"], timeout=0.3)] == [0, 2, 4, 6, 8]
    with p.tail(since_seq=8, timeout=0.3) as t:
        assert [m.seq for m in t] == [8, 9, 10]
        assert t.lost == 0 and t.delivered_count == 3
    assert list(p.tail(timeout=0.2)) == []  # the live edge, nothing new
    with pytest.raises(plasmite.UsageError):
        p.tail(timeout=-1)


def test_tail_from_the_edge_sees_later_appends(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    p.append("old")
    t = p.tail(max=3, timeout=30)
    timer = threading.Timer(0.2, lambda: [p.append(i) for i in range(3)])
    timer.start()
    assert [m.data for m in t] == [0, 1, 2]
    timer.join()


def test_tail_from_the_edge_starts_when_tail_returns(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    p.append("before")
    for round in range(5):
        t = p.tail(max=2, timeout=30)
        first = p.append({"round": round, "k": 0}).seq
        p.append({"round": round, "k": 1})
        assert [m.seq for m in t] == [first, first + 1]


def test_tail_reports_a_lapped_reader_as_lost(door: Door) -> None:
    p = door.client.create_pool("small", 64 * 1024)
    for i in range(5000):
        p.append_json(b'{"pad":"' + b"x" * 100 + b'"}')
    oldest = p.info()["bounds"]["oldest"]
    assert oldest > 1
    with p.tail(since_seq=1, timeout=0.3) as t:
        seqs = [m.seq for m in t]
        assert seqs[0] == oldest and seqs[-1] == 5000
        assert t.lost == oldest - 1


def test_closed_pool_refuses_calls_and_its_tails_raise(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    p.append(1)
    t = p.tail(since_seq=1, timeout=5)
    assert next(t).seq == 1
    p.close()
    assert p.closed
    with pytest.raises(plasmite.UsageError):
        p.append(2)
    with pytest.raises(plasmite.UsageError):
        p.get(1)
    with pytest.raises(plasmite.UsageError):
        next(t)
    with door.client.open_pool("p") as q:
        assert q.get(1).data == 1
    assert q.closed


def test_tail_blocked_in_another_thread_raises_when_its_pool_closes(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    errors: List[BaseException] = []

    def follow() -> None:
        try:
            for _ in p.tail():
                pass
        except BaseException as e:  # noqa: B902 - recorded and checked below
            errors.append(e)

    th = threading.Thread(target=follow)
    th.start()
    threading.Event().wait(0.2)
    p.close()
    th.join(timeout=30)
    assert not th.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], plasmite.UsageError)


def test_threads_append_while_another_tails(door: Door) -> None:
    p = door.client.create_pool("p", 8 * MIB)
    writers, each = 4, 200 if door.kind == "remote" else 2000
    got: List[int] = []
    tail = p.tail(since_seq=1, max=writers * each, timeout=60)
    reader = threading.Thread(target=lambda: got.extend(m.data["w"] * each + m.data["i"] for m in tail))
    reader.start()

    def write(w: int) -> None:
        for i in range(each):
            p.append({"w": w, "i": i})

    ths = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    reader.join(timeout=120)
    assert sorted(got) == list(range(writers * each))
    assert p.info()["bounds"] == {"oldest": 1, "newest": writers * each}


def test_refs_names_paths_and_uris(tmp_path: Path) -> None:
    c = plasmite.Client(tmp_path / "d")
    p = c.create_pool(tmp_path / "elsewhere" / "x.plasmite", MIB)
    assert p.name == "x" and p.path.endswith("x.plasmite")
    assert c.open_pool(str(tmp_path / "elsewhere" / "x.plasmite")).name == "x"
    c.create_pool("n.plasmite", MIB)
    assert [x["name"] for x in c.list_pools()] == ["n"]
    with pytest.raises(plasmite.UsageError):
        c.open_pool("http://example.invalid:9700/x")
    with pytest.raises(plasmite.UsageError):
        c.open_pool(12)  # type: ignore[arg-type]
    with pytest.raises(plasmite.UsageError):
        plasmite.Client(str(tmp_path), token="t")


def test_default_pool_dir_is_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    c = plasmite.Client()
    assert c.pool_dir == str(tmp_path / ".plasmite" / "pools")
    c.pool("demo").append({"hello": "world"})
    assert (tmp_path / ".plasmite" / "pools" / "demo.plasmite").exists()
    assert not c.is_remote


def test_remote_refs_are_names(server: object) -> None:
    from conftest import Server

    assert isinstance(server, Server)
    c = plasmite.Client(server.url + "/")
    assert c.is_remote and c.pool_dir == server.url
    p = c.create_pool("r", MIB)
    assert c.open_pool(f"{server.url}/r").name == "r"
    with pytest.raises(plasmite.UsageError):
        c.open_pool(Path("/tmp/x.plasmite"))
    with pytest.raises(plasmite.UsageError):
        c.open_pool("http://other.invalid:1/r")
    assert p.path == f"{server.url}/r"


def test_module_surface() -> None:
    assert plasmite.__version__
    for name in plasmite.__all__:
        assert hasattr(plasmite, name), name
    assert os.path.exists(os.path.join(os.path.dirname(plasmite.__file__), "py.typed"))


def test_tail_close_ends_the_iterator(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    p.append(1)
    p.append(2)
    t = p.tail(since_seq=1, timeout=30)
    assert next(t).seq == 1
    t.close()
    with pytest.raises(StopIteration):
        next(t)
    assert iter(t) is t


def test_open_read_only_refuses_appends_and_reads(door: Door) -> None:
    door.client.create_pool("p", MIB).append({"n": 1})
    ro = door.client.open_pool("p", read_only=True)
    assert ro.read_only and not door.client.open_pool("p").read_only
    with pytest.raises(plasmite.PermissionDeniedError) as ei:
        ro.append({"n": 2})
    assert ei.value.kind == "Permission" and ei.value.path is not None
    with pytest.raises(plasmite.PermissionDeniedError):
        ro.append_json(b"2")
    assert ro.get(1).data == {"n": 1} and ro.info()["message_count"] == 1
    assert [m.seq for m in ro.tail(since_seq=1, max=1)] == [1]


def test_pool_ref_fixes_the_kind_of_a_ref(door: Door, tmp_path: Path) -> None:
    R = plasmite.PoolRef
    assert R.parse("a.plasmite") == R.name("a") and R.parse("a/b") == R.path("a/b")
    assert R.parse("http://h:1/x") == R.uri("http://h:1/x") and R.name("a") != R.path("a")
    assert (R.name("a").kind, R.path(tmp_path).kind, R.uri("u").kind) == ("name", "path", "uri")
    assert R.path(tmp_path / "x").value == str(tmp_path / "x") and repr(R.name("a")) == 'PoolRef.name("a")'
    assert len({R.name("a"), R.parse("a"), R.name("b")}) == 2
    c = door.client
    c.create_pool(R.name("by-name"), MIB).append(1)
    assert c.open_pool("by-name").get(1).data == 1 and c.pool_info(R.name("by-name"))["name"] == "by-name"
    for bad in ("../escape", "sub/dir", ""):  # never read as a path
        with pytest.raises(plasmite.UsageError):
            c.create_pool(R.name(bad), MIB)
    assert [x["name"] for x in c.list_pools()] == ["by-name"]
    c.delete_pool(R.name("by-name"))
    assert c.list_pools() == []
