"""Type stubs of the native module plasmite._plasmite (see src/*.rs)."""

import datetime
import enum
import os
from types import TracebackType
from typing import Any, Dict, Iterator, List, Optional, Sequence, Type, Union

__version__: str

PoolRef = Union[str, "os.PathLike[str]"]
JsonValue = Any

class Durability(enum.Enum):
    """How far an append is made durable before it returns."""

    FAST = 0
    FLUSH = 1

class Message:
    """One committed message."""

    @property
    def seq(self) -> int: ...
    @property
    def time_ns(self) -> int: ...
    @property
    def time(self) -> datetime.datetime: ...
    @property
    def time_rfc3339(self) -> str: ...
    @property
    def tags(self) -> List[str]: ...
    @property
    def data(self) -> JsonValue: ...
    @property
    def data_json(self) -> bytes: ...

class Tail:
    """A blocking iterator of messages (also a context manager)."""

    def __iter__(self) -> Iterator[Message]: ...
    def __next__(self) -> Message: ...
    @property
    def lost(self) -> int: ...
    @property
    def delivered_count(self) -> int: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Tail": ...
    def __exit__(
        self,
        t: Optional[Type[BaseException]],
        v: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

class Pool:
    """An open pool, local or remote."""

    def append(
        self,
        data: JsonValue,
        tags: Sequence[str] = ...,
        durability: Durability = ...,
    ) -> Message: ...
    def append_json(
        self,
        data: Union[bytes, bytearray, str],
        tags: Sequence[str] = ...,
        durability: Durability = ...,
    ) -> Message: ...
    def get(self, seq: int) -> Message: ...
    def info(self) -> Dict[str, Any]: ...
    def tail(
        self,
        since_seq: Optional[int] = None,
        max: Optional[int] = None,
        timeout: Optional[float] = None,
        tags: Sequence[str] = ...,
    ) -> Tail: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    def __enter__(self) -> "Pool": ...
    def __exit__(
        self,
        t: Optional[Type[BaseException]],
        v: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

class Client:
    """Pools in a directory (default ~/.plasmite/pools), or on a server given as an http(s):// URL."""

    def __init__(
        self,
        pool_dir: Optional[PoolRef] = None,
        *,
        token: Optional[str] = None,
        tls_ca: Optional[PoolRef] = None,
    ) -> None: ...
    @property
    def pool_dir(self) -> str: ...
    @property
    def is_remote(self) -> bool: ...
    def create_pool(self, r: PoolRef, size: int) -> Pool: ...
    def open_pool(self, r: PoolRef) -> Pool: ...
    def pool(self, r: PoolRef, size: int = ...) -> Pool: ...
    def list_pools(self) -> List[Dict[str, Any]]: ...
    def pool_info(self, r: PoolRef) -> Dict[str, Any]: ...
    def delete_pool(self, r: PoolRef) -> None: ...
