"""The examples run (they are also checked by `mypy --strict` in .ci/run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import Server

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(*args: str) -> str:
    r = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_quickstart(tmp_path: Path) -> None:
    out = run(str(EXAMPLES / "quickstart.py"), str(tmp_path))
    assert "tail: 1 temp" in out and "tail: 2 hum" in out
    assert "not found: NotFound 10000" in out and "pools: ['events']" in out


def test_follow_local_and_remote(tmp_path: Path, server: Server) -> None:
    assert "followed 100 tagged messages, lost 0" in run(str(EXAMPLES / "follow.py"), str(tmp_path))
    assert "followed 100 tagged messages, lost 0" in run(str(EXAMPLES / "follow.py"), server.url)


def test_remote(server: Server) -> None:
    out = run(str(EXAMPLES / "remote.py"), server.url)
    assert "1 hello bob" in out and "info: 1 messages" in out
