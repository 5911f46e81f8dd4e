"""A writer thread and a follower: the tail releases the GIL while it waits, reports lost messages in
`tail.lost`, and ends after `timeout` seconds without a message.

    python examples/follow.py [POOL_DIR_OR_SERVER_URL]
"""

from __future__ import annotations

import sys
import tempfile
import threading
from typing import List

from plasmite import Client, Message, Pool


def produce(pool: Pool, n: int) -> None:
    for i in range(n):
        pool.append({"i": i}, ["tick"] if i % 10 == 0 else [])


def main(where: str) -> None:
    pool = Client(where).pool("ticks")
    got: List[Message] = []
    with pool.tail(timeout=2.0, tags=["tick"]) as tail:
        writer = threading.Thread(target=produce, args=(pool, 1000))
        writer.start()
        for m in tail:
            got.append(m)
            if len(got) == 100:
                break
        writer.join()
        print(f"followed {len(got)} tagged messages, lost {tail.lost}")
    pool.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp())
