"""An object store that tells an observer of each of its failures, then re-raises them.

It wraps any backend of the port (``object_store.ObjectStore``), so that a process can
count its store's errors by operation without the backends knowing of metrics.
A missing key asked for by ``read`` (``ObjectNotFoundError``) is an answer, not a
failure of the store: it is not reported.
"""

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager

from bundlestream.adapters.object_store import (
    ObjectNotFoundError,
    ObjectStore,
    ObjectStoreError,
    ObjectWriter,
)

# Told the name of the operation that failed (``put``, ``read``, ``commit``, ...).
FailureObserver = Callable[[str], None]


@contextmanager
def _observed(on_error: FailureObserver, operation: str) -> Iterator[None]:
    try:
        yield
    except ObjectNotFoundError:
        raise
    except ObjectStoreError:
        on_error(operation)
        raise


class ObservedWriter:
    def __init__(self, writer: ObjectWriter, on_error: FailureObserver) -> None:
        self._writer, self._on_error = writer, on_error

    async def write(self, chunk: bytes) -> None:
        with _observed(self._on_error, "write"):
            await self._writer.write(chunk)

    async def commit(self) -> int:
        with _observed(self._on_error, "commit"):
            return await self._writer.commit()

    async def abort(self) -> None:
        with _observed(self._on_error, "abort"):
            await self._writer.abort()


class ObservedObjectStore:
    """``store``, with every ``ObjectStoreError`` but a missing key told to ``on_error``."""

    def __init__(self, store: ObjectStore, on_error: FailureObserver) -> None:
        self._store, self._on_error = store, on_error

    async def writer(self, key: str) -> ObjectWriter:
        with _observed(self._on_error, "writer"):
            return ObservedWriter(await self._store.writer(key), self._on_error)

    async def put(self, key: str, data: bytes) -> None:
        with _observed(self._on_error, "put"):
            await self._store.put(key, data)

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        with _observed(self._on_error, "read"):
            async for chunk in self._store.read(key, start, end):
                yield chunk

    async def size(self, key: str) -> int | None:
        with _observed(self._on_error, "size"):
            return await self._store.size(key)

    async def delete(self, key: str) -> None:
        with _observed(self._on_error, "delete"):
            await self._store.delete(key)

    async def keys(self, prefix: str) -> AsyncIterator[str]:
        with _observed(self._on_error, "keys"):
            async for key in self._store.keys(prefix):
                yield key

    async def reclaim_abandoned(self, older_than: float) -> int:
        with _observed(self._on_error, "reclaim_abandoned"):
            return await self._store.reclaim_abandoned(older_than)
