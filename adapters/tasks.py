"""Stopping background tasks for sure, and blocking client calls that a stop cannot tear.

One ``Task.cancel()`` is not always enough on Python 3.11: ``asyncio.wait_for`` returns
the inner result when the inner awaitable finishes in the same loop step as the
cancellation, and the cancellation is lost (CPython gh-86296, fixed in 3.12). redis-py
wraps every socket write in ``wait_for`` when a socket timeout is set, so a loop of Redis
calls survives a single cancel about half the time and a shutdown that waits for it
waits forever. ``stop`` cancels again until the task has ended.

A cancelled ``await asyncio.to_thread(...)`` returns at once while the thread goes on
running the call. Closing a librdkafka client while another thread is inside one of its
calls is not safe, so ``BlockingCalls`` lets a close wait for the call in flight.
"""

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# How long a task gets to end after a cancellation before it is cancelled again.
RECANCEL_S = 0.5


async def stop(*tasks: "asyncio.Task[Any]") -> None:
    """Cancel ``tasks`` and wait until every one has ended (their errors are dropped)."""
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_S)
    await asyncio.gather(*tasks, return_exceptions=True)


class BlockingCalls:
    """The blocking calls of one client that is not safe to close under a running call,
    run one at a time in a worker thread."""

    def __init__(self) -> None:
        self._last: asyncio.Future[Any] | None = None

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)`` in a thread; a cancellation leaves it to finish on its own."""
        future: asyncio.Future[T] = asyncio.ensure_future(asyncio.to_thread(call, *args))
        self._last = future
        return await asyncio.shield(future)

    async def close(self, close: Callable[[], object]) -> None:
        """Run ``close`` in a thread once the call in flight has returned. A cancellation
        of the caller does not interrupt it: the close still happens."""

        async def closing() -> None:
            if self._last is not None:
                await asyncio.wait({self._last})
            await asyncio.to_thread(close)

        await asyncio.shield(asyncio.ensure_future(closing()))
