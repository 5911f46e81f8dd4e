"""The README's quick start: create a pool, append, read back, tail.

    python examples/quickstart.py [POOL_DIR]
"""

from __future__ import annotations

import sys
import tempfile

from plasmite import Client, Durability, NotFoundError


def main(pool_dir: str) -> None:
    client = Client(pool_dir)
    pool = client.pool("events", 1024 * 1024)  # open, or create with 1 MiB
    pool.append_json(b'{"sensor": "temp", "value": 23.5}', [], Durability.FAST)
    msg = pool.append({"sensor": "hum", "value": 41}, ["env"])
    print(msg.seq, msg.time_rfc3339, msg.tags, msg.data)

    same = pool.get(msg.seq)
    assert same.data_json == b'{"sensor":"hum","value":41}'

    for m in pool.tail(since_seq=1, max=2):
        print("tail:", m.seq, m.data["sensor"])

    try:
        pool.get(10_000)
    except NotFoundError as e:
        print("not found:", e.kind, e.seq)

    names = [p["name"] for p in client.list_pools()]
    print("pools:", names)
    pool.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())
