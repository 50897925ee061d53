"""Background tasks stop for sure, even when a cancellation is lost on the way."""

import asyncio
import contextlib
import threading

from redis.asyncio import Redis

from bundlestream.adapters.tasks import BlockingCalls, stop
from bundlestream.api.resources import redis_of
from bundlestream.settings import Settings
from tests.bounds import CONDITION_S

ROUNDS = 200


async def test_stop_ends_a_task_that_survives_its_first_cancel() -> None:
    async def stubborn() -> None:
        # What asyncio.wait_for does on Python 3.11 when its inner call is done.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Event().wait()
        await asyncio.Event().wait()

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(stop(task), CONDITION_S)
    assert task.cancelled()


async def test_stop_ends_loops_of_redis_calls(settings: Settings, redis_url: str) -> None:
    """The API's Redis client (a socket timeout, so every write goes through wait_for):
    a loop of calls lost single cancellations often enough to hang a shutdown."""
    redis: Redis = redis_of(settings)

    async def calls() -> None:
        while True:
            await redis.exists("bundlestream-test-stop")

    try:
        for _ in range(ROUNDS):
            task = asyncio.create_task(calls())
            await asyncio.sleep(0.001)
            await asyncio.wait_for(stop(task), CONDITION_S)
            assert task.done()
    finally:
        await redis.aclose()


async def test_close_waits_for_the_call_in_flight() -> None:
    calls = BlockingCalls()
    release = threading.Event()
    order: list[str] = []

    def slow() -> None:
        release.wait(CONDITION_S)
        order.append("call")

    caller = asyncio.create_task(calls.run(slow))
    await asyncio.sleep(0.01)
    caller.cancel()  # returns at once; the thread is still inside the call
    await asyncio.gather(caller, return_exceptions=True)
    closing = asyncio.create_task(calls.close(lambda: order.append("close")))
    await asyncio.sleep(0.01)
    assert order == []  # the close has not run under the call
    release.set()
    await asyncio.wait_for(closing, CONDITION_S)
    assert order == ["call", "close"]
