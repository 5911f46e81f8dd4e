"""Every stable error kind, raised through the door a user uses, as its own exception class."""

from __future__ import annotations

import fcntl
import socket
from pathlib import Path

import pytest

import plasmite
from conftest import Door, start_server

MIB = 1024 * 1024


def test_classes_per_kind() -> None:
    kinds = ["Usage", "NotFound", "AlreadyExists", "Busy", "Permission", "Corrupt", "Io", "Internal", "RetentionGap"]
    assert sorted(plasmite.ERROR_CLASSES) == sorted(kinds)
    names = {c.__name__ for c in plasmite.ERROR_CLASSES.values()}
    assert not names & set(dir(__builtins__) if isinstance(__builtins__, dict) else dir(__builtins__))
    for cls in plasmite.ERROR_CLASSES.values():
        assert issubclass(cls, plasmite.PlasmiteError)
    assert issubclass(plasmite.NotFoundError, LookupError)
    assert issubclass(plasmite.UsageError, ValueError)
    e = plasmite.InternalError("boom", kind="Internal", seq=3)
    assert (e.kind, e.seq, e.path, e.offset, e.hint, str(e)) == ("Internal", 3, None, None, None, "boom")


def test_usage_not_found_already_exists(door: Door) -> None:
    c = door.client
    p = c.create_pool("p", MIB)
    with pytest.raises(plasmite.UsageError) as u:
        p.append_json(b"[1,")
    assert u.value.kind == "Usage"
    with pytest.raises(plasmite.NotFoundError) as nf:
        c.open_pool("nope")
    assert nf.value.kind == "NotFound"
    with pytest.raises(plasmite.AlreadyExistsError) as ae:
        c.create_pool("p", MIB)
    assert ae.value.kind == "AlreadyExists"


def test_busy_while_a_writer_holds_the_lock(door: Door) -> None:
    door.client.create_pool("p", MIB).close()
    with open(door.dir / "p.plasmite", "rb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        with pytest.raises(plasmite.BusyError) as ei:
            door.client.delete_pool("p")
        assert ei.value.kind == "Busy"
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    door.client.delete_pool("p")


def test_corrupt_frame_is_reported_with_seq(door: Door) -> None:
    p = door.client.create_pool("p", MIB)
    p.append({"payload": "x" * 64})
    ring = p.info()["ring_offset"]
    with open(door.dir / "p.plasmite", "r+b") as f:
        f.seek(ring + 40)
        f.write(b"\xff\xfe\xfd\xfc")
    with pytest.raises(plasmite.CorruptError) as ei:
        p.get(1)
    assert ei.value.kind == "Corrupt" and ei.value.seq == 1


def test_permission_wrong_token_and_read_only_server(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    s = start_server(tmp_path / "d", "--token-file", str(token))
    try:
        with pytest.raises(plasmite.PermissionDeniedError) as ei:
            plasmite.Client(s.url, token="wrong").create_pool("p", MIB)
        assert ei.value.kind == "Permission"
        plasmite.Client(s.url, token="s3cret-token").create_pool("p", MIB).append(1)
    finally:
        s.stop()
    ro = start_server(tmp_path / "d", "--access", "read-only")
    try:
        p = plasmite.Client(ro.url).open_pool("p")
        assert p.get(1).data == 1
        with pytest.raises(plasmite.PermissionDeniedError):
            p.append(2)
    finally:
        ro.stop()


def test_io_when_the_server_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(plasmite.IoError) as ei:
        plasmite.Client(f"http://127.0.0.1:{port}").list_pools()
    assert ei.value.kind == "Io"


def test_local_io_error_for_a_file_as_pool_dir(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(plasmite.IoError) as ei:
        plasmite.Client(f / "sub").create_pool("p", MIB)
    assert ei.value.kind == "Io"
