"""plasmite: persistent JSON message pools in plain files.

>>> from plasmite import Client, Durability
>>> client = Client("./data")                      # or Client("http://host:9700", token=...)
>>> pool = client.pool("events", 1024 * 1024)     # open, or create with that size
>>> msg = pool.append({"sensor": "temp", "value": 23.5}, ["env"], Durability.FAST)
>>> for m in pool.tail(since_seq=msg.seq, max=1):
...     print(m.seq, m.time_rfc3339, m.data)
"""

from ._errors import (
    ERROR_CLASSES,
    AlreadyExistsError,
    BusyError,
    CorruptError,
    InternalError,
    RetentionGapError,
    IoError,
    NotFoundError,
    PermissionDeniedError,
    PlasmiteError,
    UsageError,
)
from ._plasmite import Client, Durability, Message, Pool, PoolRef, Tail, __version__

__all__ = [
    "Client",
    "Pool",
    "PoolRef",
    "Message",
    "Tail",
    "Durability",
    "PlasmiteError",
    "UsageError",
    "NotFoundError",
    "AlreadyExistsError",
    "BusyError",
    "PermissionDeniedError",
    "CorruptError",
    "IoError",
    "InternalError",
    "RetentionGapError",
    "ERROR_CLASSES",
    "__version__",
]
