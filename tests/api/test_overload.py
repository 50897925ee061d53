"""Overload and outages are answered at once (503/429 + Retry-After), never queued, and
an upload that does not finish leaves nothing behind."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from upload_harness import RunningApi, fixture_bytes, serve, signed_item, wait_buffered

from bench.upload_client import Connection, LargeItem, MiB, item_chunks, large_item
from bundlestream.core.ans104 import parse_data_item
from bundlestream.core.ans104.signing import Ed25519Signer
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


async def test_bodies_held_in_memory_beyond_the_bound_refuse_new_uploads_before_their_body(
    make_api: Callable[..., Any],
) -> None:
    raw = fixture_bytes("1ChunkStubDataItem")
    other = fixture_bytes("420KiBStubDataItem")
    async with make_api(api__max_buffered_bytes=1000) as api:
        # The holder's first 2000 bytes are staged in memory until its header is whole.
        holder = await open_partial_upload(api, len(other), other[:2000])
        async with api.client() as client:
            await wait_buffered(client, 2000)
            shed = await client.post("/tx", content=raw, headers=OCTET)
            small = await client.get("/tx/" + "A" * 43 + "/status")  # no body: not shed
            holder.close()
            await holder.wait_closed()
            await eventually_async(lambda: accepted_once(client, raw))
    assert shed.status_code == 503
    assert "(memory)" in shed.text
    assert shed.headers["retry-after"] == str(api.settings.api.retry_after_s)
    assert shed.headers["connection"] == "close"
    assert small.status_code == 404


async def test_small_uploads_are_accepted_while_a_large_one_streams_past_512_mib(
    make_api: Callable[..., Any],
) -> None:
    """On the default bounds: a large upload in flight holds about 1 MiB of memory,
    however much of it has arrived, so it never makes a small upload refused."""
    size = 640 * MiB  # beyond what a whole-process byte budget of 512 MiB would admit
    item, _ = large_item(size, Ed25519Signer(Ed25519PrivateKey.generate()), nonce=1)
    async with make_api(api__free_upload_limit_bytes=size) as api:  # free, not paid
        await assert_small_ones_accepted_during(api, item)


async def assert_small_ones_accepted_during(api: RunningApi, item: LargeItem) -> None:
    past, resume = asyncio.Event(), asyncio.Event()
    large = asyncio.create_task(upload_large_slowing(api, item, 600 * MiB, past, resume))
    await asyncio.wait_for(past.wait(), EVENTUALLY_S)
    async with api.client() as client:
        smalls = [
            await client.post("/tx", content=signed_item(1024, s), headers=OCTET) for s in range(5)
        ]
    resume.set()
    status, body = await asyncio.wait_for(large, EVENTUALLY_S)
    assert [r.status_code for r in smalls] == [200] * 5, [r.text for r in smalls]
    assert status == 200, body


async def upload_large_slowing(
    api: RunningApi, item: LargeItem, slow_after: int, past: asyncio.Event, resume: asyncio.Event
) -> tuple[int, bytes]:
    """Stream ``item``; once ``slow_after`` bytes are sent, set ``past`` and send 64 KiB
    per 0.1 s (so the upload stays in flight, above the server's minimum body rate)
    until ``resume`` is set, then the rest at full speed."""
    conn = await Connection.open(api.url)

    async def chunks() -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in item_chunks(item):
            if sent < slow_after or resume.is_set():
                yield chunk
            else:
                past.set()
                for at in range(0, len(chunk), 64 * 1024):
                    yield chunk[at : at + 64 * 1024]
                    if not resume.is_set():
                        await asyncio.sleep(0.1)
            sent += len(chunk)

    try:
        return await conn.post_stream("/tx", item.size, chunks())
    finally:
        conn.close()


async def accepted_once(client: Any, raw: bytes) -> bool:
    response = await client.post("/tx", content=raw, headers=OCTET)
    return bool(response.status_code == 200)
