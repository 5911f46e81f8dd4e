"""Ctrl-C interrupts a blocked tail: SIGINT raises KeyboardInterrupt in the tailing main thread."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import plasmite
    pool = plasmite.Client(sys.argv[1]).pool("p")
    sent = []
    def interrupt():
        time.sleep(0.3)
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)
    threading.Thread(target=interrupt, daemon=True).start()
    try:
        for m in pool.tail():
            print("unexpected message", m)
    except KeyboardInterrupt:
        print("interrupted after %.1f ms" % ((time.monotonic() - sent[0]) * 1000))
        sys.exit(42)
    """
)


def test_sigint_interrupts_a_blocked_tail(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 42, r.stdout + r.stderr
    assert "interrupted after" in r.stdout
    print(r.stdout.strip())
