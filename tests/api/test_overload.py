"""Overload and outages are answered at once (503/429 + Retry-After), never queued, and
an upload that does not finish leaves nothing behind."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from upload_harness import RunningApi, fixture_bytes, serve, wait_reserved

from bundlestream.core.ans104 import parse_data_item
from bundlestream.settings import Settings
from tests.ports import refused_port

pytestmark = pytest.mark.stack

OCTET = {"Content-Type": "application/octet-stream"}
# How long a condition may take to hold: a bound for a loaded machine, not a timing.
EVENTUALLY_S = 120.0


async def open_partial_upload(api: RunningApi, declared: int, sent: bytes) -> asyncio.StreamWriter:
    """A raw HTTP/1.1 upload that declares ``declared`` bytes and sends only ``sent``."""
    host, port = api.url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    head = (
        f"POST /tx HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    writer.write(head.encode() + sent)
    await writer.drain()
    return writer


async def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + EVENTUALLY_S
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never: {what}")
        await asyncio.sleep(0.05)


async def test_client_disconnect_mid_upload_leaves_no_partial_object(api: RunningApi) -> None:
    raw = fixture_bytes("1ChunkStubDataItem")  # > inline size: goes to the object store
    writer = await open_partial_upload(api, len(raw), raw[: 200 * 1024])
    await eventually(lambda: len(api.stored_files()) == 1, "the writer opened its temp file")
    writer.close()
    await writer.wait_closed()
    await eventually(lambda: api.stored_files() == [], "the partial object was aborted")
    assert api.events() == []
    async with api.client() as client:  # and the id is not left claimed
        again = await client.post("/tx", content=raw, headers=OCTET)
    assert again.status_code == 200, again.text


async def test_too_large_by_content_length_is_refused_before_the_body(
    make_api: Callable[..., Any],
) -> None:
    async with make_api(api__max_data_item_size=1000) as api:
        host, port = api.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /v1/tx HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: 1000000000000\r\n\r\n"
        )
        await writer.drain()
        # The answer arrives although not one body byte was sent.
        status_line = await asyncio.wait_for(reader.readline(), 30)
        answer = await asyncio.wait_for(reader.read(4096), 30)
        writer.close()
    assert status_line.startswith(b"HTTP/1.1 400")
    assert b"Data item is too large, this service only accepts data items up to 1000" in answer


async def test_requests_beyond_the_in_flight_bound_get_503_with_retry_after(
    make_api: Callable[..., Any],
) -> None:
    async with make_api(api__max_inflight_requests=1, api__retry_after_s=3) as api:
        raw = fixture_bytes("stub1115ByteDataItem")
        holder = await open_partial_upload(api, len(raw), raw[:100])
        async with api.client() as client:
            await eventually_async(lambda: shed_once(client, raw))
            shed = await client.post("/tx", content=raw, headers=OCTET)
        holder.close()
        assert shed.status_code == 503
        assert shed.headers["retry-after"] == "3"


async def shed_once(client: Any, raw: bytes) -> bool:
    response = await client.post("/tx", content=raw, headers=OCTET)
    return bool(response.status_code == 503)


async def eventually_async(condition: Callable[[], Any]) -> None:
    deadline = asyncio.get_running_loop().time() + EVENTUALLY_S
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition never held")
        await asyncio.sleep(0.05)


async def test_per_ip_rate_limit_answers_429(make_api: Callable[..., Any]) -> None:
    # The limiter counts in fixed windows, [k*W, (k+1)*W) of the wall clock: with W = 60
    # the five requests straddled a boundary whenever one fell between them, and the count
    # started again. W = now puts now in the window [W, 2W), decades long, whatever the
    # clock reads.
    window_s = int(time.time())
    async with (
        make_api(api__rate_limit_requests=3, api__rate_limit_window_s=window_s) as api,
        api.client() as client,
    ):
        answers = [await client.get("/tx/" + "A" * 43 + "/status") for _ in range(5)]
    assert [a.status_code for a in answers] == [404, 404, 404, 429, 429]
    assert answers[-1].headers["retry-after"] == str(api.settings.api.retry_after_s)


async def test_broker_down_gives_503_and_no_receipt_and_no_object(
    settings: Settings,
) -> None:
    with refused_port() as port:
        # The broker-down answer only comes sooner with a shorter delivery timeout.
        dead = settings.updated(kafka__bootstrap=f"127.0.0.1:{port}", kafka__delivery_timeout_s=5.0)
        await assert_broker_down_answers(dead)


async def assert_broker_down_answers(dead: Settings) -> None:
    async with serve(dead, create_topics_first=False) as down:
        raw = fixture_bytes("1ChunkStubDataItem")
        async with down.client() as client:
            response = await client.post("/tx", content=raw, headers=OCTET)
            retried = await client.post("/tx", content=raw, headers=OCTET)
        assert response.status_code == 503
        assert "Event log is unreachable" in response.text
        assert response.headers["retry-after"] == str(dead.api.retry_after_s)
        assert retried.status_code == 503  # not 202: the failed attempt left no claim
        # No partial object; the committed one stays (the event's fate is unknown).
        assert [p.name for p in down.stored_files()] == [parse_data_item(raw).id]


async def test_bodies_beyond_the_in_flight_byte_budget_get_503(
    make_api: Callable[..., Any],
) -> None:
    raw = fixture_bytes("1ChunkStubDataItem")
    other = fixture_bytes("420KiBStubDataItem")
    async with make_api(api__max_inflight_bytes=len(raw) + 1000) as api:
        # Bytes count as they arrive, not as declared: the holder holds the 2000 it sent.
        holder = await open_partial_upload(api, len(other), other[:2000])
        async with api.client() as client:
            await wait_reserved(client, 2000)
            assert await shed_once(client, raw)
            small = await client.get("/tx/" + "A" * 43 + "/status")  # no body: not shed
            holder.close()
            await holder.wait_closed()
            await eventually_async(lambda: accepted_once(client, raw))
    assert small.status_code == 404


async def accepted_once(client: Any, raw: bytes) -> bool:
    response = await client.post("/tx", content=raw, headers=OCTET)
    return bool(response.status_code == 200)
