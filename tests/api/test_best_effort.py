"""A best-effort cleanup runs to its end even when its caller is cancelled, and its
failure is logged, never raised over the outcome being reported."""

import asyncio
import logging

import pytest

from bundlestream.api.best_effort import quietly


async def test_a_cleanup_runs_to_its_end_when_the_caller_is_cancelled() -> None:
    started, go_on, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def cleanup() -> None:
        started.set()
        await go_on.wait()
        finished.set()

    step = asyncio.ensure_future(cleanup())
    caller = asyncio.create_task(quietly(step))
    await started.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller  # the caller's cancellation still propagates
    go_on.set()
    await step
    assert finished.is_set() and not step.cancelled()


async def test_a_failed_cleanup_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def cleanup() -> None:
        raise OSError("disk gone")

    with caplog.at_level(logging.WARNING, logger="bundlestream.api.best_effort"):
        await quietly(cleanup())
    assert [r.getMessage() for r in caplog.records] == ["cleanup step failed: disk gone"]
