"""The gateways' retry policy against a real HTTP server that fails on purpose: how many
attempts, which waits (recorded, not slept: time is passed in), and a Retry-After read
from the real answer by the adapters' parser."""

from __future__ import annotations

from typing import Any

import pytest
from pipeline_harness import serving

from bundlestream.adapters.arweave_gateway import ArweaveGateway, GatewayError
from bundlestream.adapters.optical_bridge import OpticalBridge, OpticalPostError
from bundlestream.streams.retrying import call_with_retries, retrying

OK = (200, None)


class ScriptedGateway:
    """Answers request ``n`` with ``answers[n]`` (status, Retry-After), then 200 "12"."""

    def __init__(self, *answers: tuple[int, str | None]) -> None:
        self.answers = list(answers)
        self.requests = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from starlette.responses import Response

        if scope["type"] != "http":
            return
        status, retry_after = self.answers[self.requests] if self.answers[self.requests :] else OK
        self.requests += 1
        headers = {"retry-after": retry_after} if retry_after is not None else {}
        await Response("12" if status == 200 else "busy", status, headers)(scope, receive, send)


class Waits(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def test_backoff_doubles_from_the_base_and_a_longer_retry_after_wins() -> None:
    script = ScriptedGateway((503, None), (429, "7"), (429, "0.1"), (503, None))
    waits = Waits()
    async with serving(script) as url:
        gateway = ArweaveGateway(url)
        policy = retrying(8, 0.5, 30.0, (GatewayError,), sleep=waits)
        # A lambda, as the stages pass: its coroutine is awaited, not handed back.
        assert await call_with_retries(policy, lambda: gateway.price(1)) == 12
        await gateway.close()
    assert waits == [0.5, 7.0, 2.0, 4.0]
    assert script.requests == 5


async def test_the_last_attempts_error_propagates_with_no_wait_after_it() -> None:
    script = ScriptedGateway(*[(503, None)] * 5)
    waits = Waits()
    async with serving(script) as url:
        gateway = ArweaveGateway(url)
        with pytest.raises(GatewayError) as failed:
            policy = retrying(3, 10.0, 15.0, (GatewayError,), sleep=waits)
            await call_with_retries(policy, lambda: gateway.price(1))
        await gateway.close()
    assert failed.value.status == 503
    assert (script.requests, waits) == (3, [10.0, 15.0])


async def test_an_error_the_policy_does_not_retry_propagates_at_once() -> None:
    script = ScriptedGateway((503, None))
    waits = Waits()
    async with serving(script) as url:
        gateway = ArweaveGateway(url)
        with pytest.raises(GatewayError):
            policy = retrying(3, 0.5, 30.0, (OpticalPostError,), sleep=waits)
            await call_with_retries(policy, lambda: gateway.price(1))
        await gateway.close()
    assert (script.requests, waits) == (1, [])


async def test_the_optical_bridge_s_retry_after_is_honoured_too() -> None:
    script = ScriptedGateway((429, "3"))
    waits = Waits()
    async with serving(script) as url:
        bridge = OpticalBridge("key")
        policy = retrying(3, 0.5, 30.0, (OpticalPostError,), sleep=waits)
        await call_with_retries(policy, lambda: bridge.post(url, b"[]"))
        await bridge.close()
    assert (script.requests, waits) == (2, [3.0])
