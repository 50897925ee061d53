"""Calls to gateways retried with tenacity: bounded exponential backoff that honours a
server's Retry-After (``core.retrying.backoff_delay`` says how long; the seconds come
from ``adapters.arweave_gateway.retry_after`` by way of the error).

The wait after the ``n``-th failed attempt is ``backoff_delay(n - 1, ...)``: base, then
doubling, capped at ``gateway_backoff_max_s``, or longer when the failed answer's
Retry-After asks for it. Nothing is waited after the last attempt.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from bundlestream.adapters.arweave_gateway import GatewayError
from bundlestream.core.retrying import backoff_delay
from bundlestream.streams.context import StageContext

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


def retry_after_of(state: RetryCallState) -> float | None:
    """The Retry-After of the failed attempt ``state`` describes, if it had one (the
    adapters' errors, GatewayError and OpticalPostError, carry it as ``retry_after_s``)."""
    error = state.outcome.exception() if state.outcome else None
    retry_after_s: float | None = getattr(error, "retry_after_s", None)
    return retry_after_s


def backoff_wait(base_s: float, max_s: float) -> Callable[[RetryCallState], float]:
    """tenacity's ``wait``: ``backoff_delay`` of the attempt that failed."""

    def wait(state: RetryCallState) -> float:
        return backoff_delay(state.attempt_number - 1, base_s, max_s, retry_after_of(state))

    return wait


def retrying(
    attempts: int,
    base_s: float,
    max_s: float,
    errors: tuple[type[BaseException], ...],
    sleep: Sleep = asyncio.sleep,
) -> AsyncRetrying:
    """At most ``attempts`` attempts while they raise one of ``errors`` (any other error
    propagates at once); the last attempt's error propagates as it is."""
    return AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=backoff_wait(base_s, max_s),
        retry=retry_if_exception_type(errors),
        sleep=sleep,
        reraise=True,
    )


async def call_with_retries(policy: AsyncRetrying, call: Callable[[], Awaitable[T]]) -> T:
    """``await call()`` under ``policy``. ``call`` may be any callable that returns an
    awaitable (a lambda, a partial): tenacity awaits only what it recognises as a
    coroutine function, and would hand back a lambda's coroutine unawaited."""

    async def attempt() -> T:
        return await call()

    result: T = await policy(attempt)
    return result


async def with_backoff(ctx: StageContext, call: Callable[[], Awaitable[T]]) -> T:
    """``call()`` until it succeeds, at most ``post_max_attempts`` times; the last
    GatewayError propagates. A 429's Retry-After is honoured."""
    s = ctx.settings
    policy = retrying(
        s.streams.post_max_attempts,
        s.arweave.gateway_backoff_base_s,
        s.arweave.gateway_backoff_max_s,
        (GatewayError,),
    )
    return await call_with_retries(policy, call)
