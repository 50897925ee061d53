"""Calls to the gateway with bounded exponential backoff (``core.retrying``)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bundlestream.adapters.arweave_gateway import GatewayError
from bundlestream.streams.context import StageContext

T = TypeVar("T")


async def with_backoff(ctx: StageContext, call: Callable[[], Awaitable[T]]) -> T:
    """``call()`` until it succeeds, at most ``post_max_attempts`` times; the last
    GatewayError propagates. A 429's Retry-After is honoured."""
    from bundlestream.core.retrying import backoff_delay

    s = ctx.settings
    for attempt in range(s.streams.post_max_attempts):
        try:
            return await call()
        except GatewayError as exc:
            if attempt + 1 == s.streams.post_max_attempts:
                raise
            delay = backoff_delay(
                attempt,
                s.arweave.gateway_backoff_base_s,
                s.arweave.gateway_backoff_max_s,
                exc.retry_after_s,
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
