"""Admission by what a process lacks (api/capacity.py), on real values."""

import asyncio
import time
from pathlib import Path

from bundlestream.api.capacity import BodyMemory, Capacity, free_bytes_under

GiB = 1024**3


def capacity(free: int | None = None, **changes: object) -> Capacity:
    values: dict[str, object] = {
        "memory": BodyMemory(1000),
        "max_requests": 2,
        "max_loop_lag_s": 1.0,
        "min_free_disk": GiB,
        **changes,
    }
    made = Capacity(**values)  # type: ignore[arg-type]
    made.free_disk = free
    return made


def test_an_idle_process_admits_anything_that_fits_its_disk() -> None:
    assert capacity(free=20 * GiB).refusal(True, 10 * GiB) is None


def test_each_scarce_resource_names_its_refusal() -> None:
    busy = capacity()
    busy.requests = 2
    lagging = capacity()
    lagging.loop_lag_s = 1.5
    full = capacity()
    full.memory.hold(1000)
    assert busy.refusal(False, None) == "requests"
    assert lagging.refusal(False, None) == "event loop"
    assert full.refusal(True, 10) == "memory"
    assert capacity(free=5 * GiB).refusal(True, 10 * GiB) == "disk"


def test_memory_and_disk_refuse_only_requests_with_a_body() -> None:
    full = capacity(free=0)
    full.memory.hold(5000)
    assert full.refusal(False, None) is None


def test_a_declared_size_is_never_reserved() -> None:
    """Many large uploads declared at once leave a small one admitted."""
    disk = capacity(free=12 * GiB)
    assert [disk.refusal(True, 10 * GiB) for _ in range(4)] == [None] * 4
    assert disk.refusal(True, 1024) is None


async def test_streaming_uploads_wait_at_high_water_and_go_on_when_memory_frees() -> None:
    memory = BodyMemory(1000)
    memory.hold(800)  # past 3/4 of the limit, below the limit
    assert not memory.full()
    waiting = asyncio.create_task(memory.wait_for_room())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    memory.release(100)
    await asyncio.wait_for(waiting, 30)
    assert memory.held == 700


async def test_a_busy_event_loop_is_measured_as_lag() -> None:
    """A loop that stays busy (half-second blocks, one after another) lags on every
    measurement: that is lag, and over the bound it refuses."""
    async with capacity().watching() as watched:
        await asyncio.sleep(0.15)
        for _ in range(100):
            time.sleep(0.5)  # the loop runs nothing for half a second, again and again
            await asyncio.sleep(0.01)
            if watched.loop_lag_s > 0.3:
                break
        assert watched.loop_lag_s > 0.3
        assert watched.refusal(False, None) is None  # under the 1 s bound
        for _ in range(100):
            time.sleep(1.2)
            await asyncio.sleep(0.01)
            if watched.refusal(False, None) is not None:
                break
        assert watched.refusal(False, None) == "event loop"


async def test_one_stall_that_has_ended_refuses_nothing() -> None:
    """A single stall of the loop (a long collection, one blocking call) is over when
    the loop runs again: the requests it held up are served, not refused."""
    async with capacity().watching() as watched:
        await asyncio.sleep(0.35)  # a few measurements of a loop with nothing to do
        time.sleep(1.5)  # beyond the 1 s bound, once
        await asyncio.sleep(0)
        seen = []
        for _ in range(6):
            seen.append(watched.refusal(False, None))
            await asyncio.sleep(0.05)
        assert seen == [None] * 6


def test_free_bytes_are_read_from_the_nearest_existing_directory(tmp_path: Path) -> None:
    free = free_bytes_under(tmp_path / "objects" / "not-yet")
    assert free is not None and free > 0
