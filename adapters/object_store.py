"""The object store port: where upload payloads and bundles are written durably.

Two backends implement it: the local filesystem (``filesystem.py``) and S3 through boto3
(``s3.py``); this module imports neither (``bundlestream.wiring.open_object_store`` picks
one from the settings). Callers stream: a writer takes chunks and makes the object
visible in one step on ``commit``; a reader yields a byte range. Driver errors never
escape: they become ``ObjectStoreError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol


class ObjectStoreError(Exception):
    """The object store failed, or refused a key; the driver's error is the ``__cause__``."""


class ObjectNotFoundError(ObjectStoreError):
    """``read`` was asked for a key that does not exist."""


class ObjectWriter(Protocol):
    """One object being written. Exactly one of ``commit`` or ``abort`` ends it."""

    async def write(self, chunk: bytes) -> None:
        """Append ``chunk``; memory held stays bounded whatever the object's size."""
        ...

    async def commit(self) -> int:
        """Make the object visible atomically, replacing any previous one; returns its size."""
        ...

    async def abort(self) -> None:
        """Discard everything written; leaves nothing behind, not even a partial upload."""
        ...


class ObjectStore(Protocol):
    """Keys are relative ``/``-separated paths (no ``..``, no leading ``/``)."""

    async def writer(self, key: str) -> ObjectWriter:
        """Start writing ``key``; nothing is visible under it before ``commit``."""
        ...

    async def put(self, key: str, data: bytes) -> None:
        """Write a small object in one call (atomically, like a committed writer)."""
        ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes ``[start, end)`` (``end=None``: to the end; a range past the end is
        cut at the end). Raises ``ObjectNotFoundError`` when iterated if the key is absent.
        """
        ...

    async def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when it does not exist."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; deleting an absent key is not an error."""
        ...

    def keys(self, prefix: str) -> AsyncIterator[str]:
        """Every committed object's key that starts with ``prefix``, in no set order."""
        ...

    async def reclaim_abandoned(self, older_than: float) -> int:
        """Discard writes neither committed nor aborted (their process died) that were
        last written before ``older_than`` (epoch seconds); returns how many."""
        ...


def check_key(key: str) -> str:
    """Reject keys that could escape the store's root or name nothing."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ObjectStoreError(f"invalid object key {key!r}")
    return key
