"""What one API process can still take on, measured from what is actually scarce.

A request is admitted or refused before its body is read, by the process's state, never
by what its headers declare: the bytes of request bodies the process holds in memory,
the lag of its event loop, and the free space under the object store. Declared sizes
only decide whether one item can fit on the disk at all; they are never reserved, so a
large upload in flight never makes a small one refused.

Memory per upload is bounded by the upload path (a staged batch of about 1 MiB, or
an inline item); ``BodyMemory`` adds those up. Uploads already streaming never fail on
it: once the total passes its high-water mark they wait, holding nothing, before reading
more, and the kernel's flow control slows their clients. New requests are refused only
at the limit, above the high-water mark, so the room between the two is kept for them.
"""

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from bundlestream.adapters.tasks import stop

# Streaming uploads wait at 3/4 of the limit; new requests are refused at the limit.
HIGH_WATER = 0.75
# How often the loop's lag and the disk's free space are measured.
WATCH_INTERVAL_S = 0.1


class BodyMemory:
    """Bytes of request bodies this process holds (staged, being parsed or written)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self._room = asyncio.Event()
        self._room.set()

    @classmethod
    def unbounded(cls) -> "BodyMemory":
        return cls(1 << 62)

    def hold(self, size: int) -> None:
        self.held += size
        if self.held >= self.limit * HIGH_WATER:
            self._room.clear()

    def release(self, size: int) -> None:
        self.held -= size
        if self.held < self.limit * HIGH_WATER:
            self._room.set()

    def full(self) -> bool:
        """New requests with a body are refused while this holds."""
        return self.held >= self.limit

    async def wait_for_room(self) -> None:
        """Return once the total is under the high-water mark; call it holding nothing."""
        await self._room.wait()


def free_bytes_under(directory: Path) -> int | None:
    """Free bytes of the filesystem holding ``directory`` (or its nearest existing
    parent: the store creates its directory on first write); None when unreadable."""
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            with contextlib.suppress(OSError):
                return shutil.disk_usage(candidate).free
            return None
    return None


@dataclass
class Capacity:
    """One process's admission state; ``watch`` keeps lag and free disk current."""

    memory: BodyMemory
    max_requests: int
    max_loop_lag_s: float
    min_free_disk: int
    # A declared size above the largest item is the upload route's 400, not a disk matter.
    max_item_size: int = 1 << 62
    # Free bytes under the object store; None: it is not on a local disk (S3).
    disk_free: Callable[[], int | None] = lambda: None
    requests: int = 0
    loop_lag_s: float = 0.0
    free_disk: int | None = None

    def refusal(self, has_body: bool, declared: int | None) -> str | None:
        """Why a new request must be refused now (the metric's reason), or None."""
        if self.requests >= self.max_requests:
            return "requests"
        if self.loop_lag_s > self.max_loop_lag_s:
            return "event loop"
        if not has_body:
            return None
        if self.memory.full():
            return "memory"
        size = declared if declared is not None and declared <= self.max_item_size else 0
        return "disk" if self._disk_short(size) else None

    def _disk_short(self, declared: int) -> bool:
        free = self.free_disk
        return free is not None and free - declared < self.min_free_disk

    async def _watch(self) -> None:
        """The lag is the smaller of the last two measurements: a loop that is busy lags
        on every one, while one stall that has ended (a long collection, a blocking
        call) lags on one only, and refusing after it would refuse a loop that is free."""
        loop = asyncio.get_running_loop()
        previous = 0.0
        while True:
            self.free_disk = self.disk_free()  # one statvfs: microseconds
            started = loop.time()
            await asyncio.sleep(WATCH_INTERVAL_S)
            lag = max(0.0, loop.time() - started - WATCH_INTERVAL_S)
            self.loop_lag_s, previous = min(lag, previous), lag

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator["Capacity"]:
        """Measure lag and free disk for as long as the block runs."""
        self.free_disk = self.disk_free()
        task = asyncio.create_task(self._watch())
        try:
            yield self
        finally:
            await stop(task)


def object_store_disk(backend: str, directory: Path) -> Callable[[], int | None]:
    """The free-space probe of the configured store: the fs backend's disk, else none."""
    if backend != "fs":
        return lambda: None
    return lambda: free_bytes_under(Path(os.path.abspath(directory)))
