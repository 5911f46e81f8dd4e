"""The same Pool interface over HTTP: `Client(URL, token=...)` talks to `plasmite serve`.

    plasmite serve &            # 127.0.0.1:9700
    python examples/remote.py http://127.0.0.1:9700 [TOKEN]
"""

from __future__ import annotations

import sys
from typing import Optional

from plasmite import Client, PlasmiteError


def main(url: str, token: Optional[str]) -> int:
    client = Client(url, token=token)
    try:
        pool = client.pool("chat")
    except PlasmiteError as e:
        print(f"error ({e.kind}): {e}", file=sys.stderr)
        return 1
    sent = pool.append({"from": "alice", "msg": "hello bob"})
    for m in pool.tail(since_seq=sent.seq, max=1, timeout=5.0):
        print(m.seq, m.data["msg"])
    print("info:", pool.info()["message_count"], "messages")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
