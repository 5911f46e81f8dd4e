"""Exceptions of plasmite: one class per stable error kind, all subclasses of PlasmiteError.

The native module raises them with the error's context: ``kind`` (the stable kind's name, e.g.
``"NotFound"``), ``path``, ``seq``, ``offset`` and ``hint`` (each ``None`` when not known).
"""

from __future__ import annotations

from typing import Dict, Optional, Type


class PlasmiteError(Exception):
    """Base class of every plasmite error."""

    kind: str
    message: str
    path: Optional[str]
    seq: Optional[int]
    offset: Optional[int]
    hint: Optional[str]

    def __init__(
        self,
        message: str,
        *,
        kind: str = "Internal",
        path: Optional[str] = None,
        seq: Optional[int] = None,
        offset: Optional[int] = None,
        hint: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.path = path
        self.seq = seq
        self.offset = offset
        self.hint = hint

    def __str__(self) -> str:
        text = self.message
        if self.path is not None:
            text += f" ({self.path})"
        if self.hint:
            text += f"; hint: {self.hint}"
        return text


class UsageError(PlasmiteError, ValueError):
    """Invalid input: a bad argument, invalid JSON, a value too large for the pool."""


class NotFoundError(PlasmiteError, LookupError):
    """No such pool, or no such message (evicted or never written)."""


class AlreadyExistsError(PlasmiteError):
    """The pool already exists."""


class BusyError(PlasmiteError):
    """The pool is in use (e.g. a delete while a writer holds it); retrying may succeed."""


class PermissionDeniedError(PlasmiteError):
    """Not permitted: a read-only pool file, a missing or wrong token."""


class CorruptError(PlasmiteError):
    """The pool's bytes fail verification (``seq`` / ``offset`` say where)."""


class IoError(PlasmiteError):
    """An operating-system or network failure."""


class InternalError(PlasmiteError):
    """A bug in plasmite."""


class RetentionGapError(PlasmiteError):
    """A tail with the ``error`` gap policy was lapped: ``seq`` is the first missing message."""


ERROR_CLASSES: Dict[str, Type[PlasmiteError]] = {
    "Usage": UsageError,
    "NotFound": NotFoundError,
    "AlreadyExists": AlreadyExistsError,
    "Busy": BusyError,
    "Permission": PermissionDeniedError,
    "Corrupt": CorruptError,
    "Io": IoError,
    "Internal": InternalError,
    "RetentionGap": RetentionGapError,
}
