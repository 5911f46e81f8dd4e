"""Fixtures: the plasmite binary, a real `plasmite serve` on port 0, and the two doors (a local client
over a pool directory, a remote client of a server over the same kind of directory) that the API and
conformance tests run through."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

import plasmite

REPO = Path(__file__).resolve().parents[3]


def plasmite_bin() -> str:
    """The CLI: $PLASMITE_BIN, else the debug build at the repository root (`cargo build`)."""
    p = os.environ.get("PLASMITE_BIN") or str(REPO / "target" / "debug" / "plasmite")
    if not os.access(p, os.X_OK):
        pytest.fail(f"no plasmite binary at {p}: run `cargo build` at the repository root or set PLASMITE_BIN")
    return p


@dataclass
class Server:
    """A `plasmite serve --bind 127.0.0.1:0` process; `url` is read from its startup line."""

    proc: "subprocess.Popen[bytes]"
    url: str
    dir: Path
    stderr: List[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(pool_dir: Path, *extra: str) -> Server:
    args = [plasmite_bin(), "--dir", str(pool_dir), "serve", "--bind", "127.0.0.1:0", *extra]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    first = proc.stderr.readline().decode()
    try:
        url = json.loads(first)["listening"]["url"]
    except (ValueError, KeyError) as e:
        proc.kill()
        rest = proc.stderr.read().decode()
        raise AssertionError(f"plasmite serve did not start: {first}{rest}") from e
    server = Server(proc, url.rstrip("/"), pool_dir)
    stderr = proc.stderr

    def drain() -> None:
        for line in stderr:
            server.stderr.append(line.decode(errors="replace"))

    threading.Thread(target=drain, daemon=True).start()
    return server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = start_server(tmp_path / "served")
    yield s
    s.stop()


@dataclass
class Door:
    """One way into pools: `client` and the directory its pools live in (for file-level steps)."""

    kind: str
    client: plasmite.Client
    dir: Path
    server: Optional[Server] = None

    def pool_arg(self, name: str) -> str:
        """What `plasmite poke` takes for the pool `name` through this door."""
        return f"{self.server.url}/{name}" if self.server else name


def open_door(kind: str, base: Path, *server_args: str) -> Door:
    d = base / "pools"
    if kind == "local":
        return Door(kind, plasmite.Client(str(d)), d)
    s = start_server(d, *server_args)
    return Door(kind, plasmite.Client(s.url), d, s)


@pytest.fixture(params=["local", "remote"])
def door(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Door]:
    dr = open_door(request.param, tmp_path)
    yield dr
    if dr.server:
        dr.server.stop()
