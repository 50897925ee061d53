"""Connection hygiene against a real server: what a hostile client sends cannot hold a
connection, a request slot or the byte budget, and oversized header sections get 431.

Waits below are bounds on a server that must act by itself (a timeout of a fraction of
a second is configured, the test waits up to 30 s): nothing here asserts a timing.
"""

import asyncio
import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from upload_harness import RunningApi, fixture_bytes, free_port, wait_buffered

from bundlestream.api.server import raise_open_file_limit
from tests.bounds import CONDITION_S, HTTP_REQUEST_S

pytestmark = pytest.mark.stack

OCTET = {"Content-Type": "application/octet-stream"}
BOUND_S = 30.0
FAST = {
    "api__http_header_timeout_s": 0.5,
    "api__http_body_interval_s": 0.5,
    "api__http_body_min_bytes": 1,
}


@contextlib.asynccontextmanager
async def raw_connection(
    api: RunningApi,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    host, port = api.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port), limit=1 << 20)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def upload_head(headers: str = "", length: int | None = None) -> bytes:
    framing = (
        f"Content-Length: {length}\r\n" if length is not None else "Transfer-Encoding: chunked\r\n"
    )
    return (
        f"POST /tx HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
        f"{framing}{headers}\r\n"
    ).encode()


def chunk(data: bytes) -> bytes:
    """One chunk of the chunked transfer coding, RFC 9112 §7.1."""
    return b"%x\r\n%s\r\n" % (len(data), data)


async def answer_of(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection."""
    return await asyncio.wait_for(reader.read(), BOUND_S)


async def status_of(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.readline(), BOUND_S)


async def eventually(condition: Callable[[], Any]) -> None:
    for _ in range(300):
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition never held")


# ---------------------------------------------------------------- admission by arrival


async def test_a_declared_10_gib_body_that_sends_nothing_does_not_block_uploads(
    api: RunningApi,
) -> None:
    raw = fixture_bytes("stub1115ByteDataItem")
    async with raw_connection(api) as (_, holder), api.client() as client:
        holder.write(upload_head(length=10 * 1024**3) + raw[:100])
        await holder.drain()
        await asyncio.sleep(0.5)  # the holder's request is in the app, not an assertion
        fresh = await client.post("/tx", content=raw, headers=OCTET)
    assert fresh.status_code == 200, fresh.text


async def test_chunked_bodies_count_against_the_memory_bound(
    make_api: Callable[..., Any],
) -> None:
    raw = fixture_bytes("1ChunkStubDataItem")
    other = fixture_bytes("420KiBStubDataItem")
    async with (
        make_api(api__max_buffered_bytes=1000) as api,
        raw_connection(api) as (_, holder),
        api.client() as client,
    ):
        holder.write(upload_head() + chunk(other[:2000]))
        await holder.drain()
        await wait_buffered(client, 2000)  # no Content-Length, and yet counted
        shed = await client.post("/tx", content=raw, headers=OCTET)
    assert shed.status_code == 503
    assert "(memory)" in shed.text


# ---------------------------------------------------------------- refusals before the body


async def test_a_refused_upload_reads_its_503_while_it_is_still_sending_its_body(
    make_api: Callable[..., Any],
) -> None:
    """The refusal comes before the body is read; the client, still sending, reads all of
    it (status, Retry-After, Connection: close, body) and then an orderly end, no reset."""
    raw = fixture_bytes("stub1115ByteDataItem")
    async with (
        make_api(api__max_inflight_requests=1, api__retry_after_s=3) as api,
        raw_connection(api) as (_, holder),
        raw_connection(api) as (reader, writer),
    ):
        holder.write(upload_head(length=len(raw)) + raw[:100])
        await holder.drain()
        await eventually(lambda: in_flight(api, 1))
        size = 64 * 1024 * 1024
        writer.write(upload_head(length=size))
        sending = asyncio.create_task(keep_sending(writer, size))
        answer = await answer_of(reader)  # raises on a reset
        sending.cancel()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 "), answer[:200]
    assert b"retry-after: 3" in head.lower()
    assert b"connection: close" in head.lower()
    assert body == b"Upload Service is overloaded (requests)"


async def test_a_refused_upload_that_expects_100_continue_gets_417(
    make_api: Callable[..., Any],
) -> None:
    raw = fixture_bytes("stub1115ByteDataItem")
    async with (
        make_api(api__max_inflight_requests=1) as api,
        raw_connection(api) as (_, holder),
        raw_connection(api) as (reader, writer),
    ):
        holder.write(upload_head(length=len(raw)) + raw[:100])
        await holder.drain()
        await eventually(lambda: in_flight(api, 1))
        writer.write(upload_head("Expect: 100-continue\r\n", len(raw)))
        await writer.drain()
        answer = await answer_of(reader)
    assert answer.startswith(b"HTTP/1.1 417 "), answer[:200]
    assert b"100 Continue" not in answer  # the body was never asked for
    assert b"retry-after: " in answer.lower()
    assert b"connection: close" in answer.lower()


async def in_flight(api: RunningApi, count: int) -> bool:
    async with api.client() as client:
        metrics = (await client.get("/metrics")).text
    return f"bundlestream_inflight_requests {float(count)}" in metrics


async def keep_sending(writer: asyncio.StreamWriter, size: int) -> None:
    """Send ``size`` body bytes as fast as the server takes them; stop when it closes."""
    block = bytes(1024 * 1024)
    with contextlib.suppress(ConnectionError):
        for _ in range(size // len(block)):
            writer.write(block)
            await writer.drain()


async def test_a_chunked_upload_beyond_the_free_tier_gets_402_before_its_body_ends(
    make_api: Callable[..., Any],
) -> None:
    raw = fixture_bytes("1ChunkStubDataItem")
    async with make_api(api__free_upload_limit_bytes=1000) as api:
        async with raw_connection(api) as (reader, writer):
            writer.write(upload_head() + chunk(raw[: 200 * 1024]))
            await writer.drain()  # and never the rest, nor the last chunk
            status = await status_of(reader)
        assert status.startswith(b"HTTP/1.1 402"), status

        async def nothing_kept() -> bool:
            return api.stored_files() == []

        await eventually(nothing_kept)
    assert api.events() == []


# ---------------------------------------------------------------- timeouts


async def test_a_connection_that_sends_nothing_is_closed(make_api: Callable[..., Any]) -> None:
    async with make_api(**FAST) as api, raw_connection(api) as (reader, _):
        assert await answer_of(reader) == b""


async def test_a_half_sent_header_gets_408_and_is_closed(make_api: Callable[..., Any]) -> None:
    async with make_api(**FAST) as api, raw_connection(api) as (reader, writer):
        writer.write(b"POST /tx HTTP/1.1\r\nHost: x\r\nContent-Le")
        await writer.drain()
        answer = await answer_of(reader)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in answer


async def test_a_stalled_body_gets_408_and_frees_its_request_slot(
    make_api: Callable[..., Any],
) -> None:
    raw = fixture_bytes("1ChunkStubDataItem")
    async with make_api(api__max_inflight_requests=1, **FAST) as api:
        async with raw_connection(api) as (reader, writer):
            writer.write(upload_head(length=len(raw)) + raw[:100_000])
            await writer.drain()
            answer = await answer_of(reader)
        assert answer.startswith(b"HTTP/1.1 408 ")
        async with api.client() as client:
            again = await client.post("/tx", content=raw, headers=OCTET)
        assert again.status_code == 200, again.text  # slot, claim and bytes all released
        assert [p.name for p in api.stored_files()] == [again.json()["id"]]


async def test_a_keep_alive_connection_that_sends_a_blank_line_is_still_closed(
    make_api: Callable[..., Any],
) -> None:
    async with make_api(**FAST) as api, raw_connection(api) as (reader, writer):
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        assert (await status_of(reader)).startswith(b"HTTP/1.1 200")
        await reader.readuntil(b"OK")
        writer.write(b"\r\n")  # RFC 9112 §2.2: ignored before a request line; not activity
        await writer.drain()
        assert await answer_of(reader) == b""


# ---------------------------------------------------------------- header limits


async def test_2000_paid_by_headers_get_431(api: RunningApi) -> None:
    raw = fixture_bytes("stub1115ByteDataItem")
    payers = "".join(f"x-paid-by: {'A' * 39}{i:04d}\r\n" for i in range(2000))
    async with raw_connection(api) as (reader, writer):
        writer.write(upload_head(payers, len(raw)) + raw)
        await writer.drain()
        answer = await answer_of(reader)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert api.events() == []


async def test_a_4_mib_header_gets_431(api: RunningApi) -> None:
    async with raw_connection(api) as (reader, writer):
        writer.write(upload_head(f"x-big: {'a' * 4 * 1024 * 1024}\r\n", 10))
        with contextlib.suppress(ConnectionError):  # the server may close while we send
            await writer.drain()
        answer = await answer_of(reader)
    assert answer.startswith(b"HTTP/1.1 431 ")


async def test_more_paid_by_addresses_than_the_limit_get_400(api: RunningApi) -> None:
    raw = fixture_bytes("stub1115ByteDataItem")
    limit = api.settings.api.max_paid_by_entries
    payers = ",".join(f"{'B' * 39}{i:04d}" for i in range(limit + 1))
    async with api.client() as client:
        refused = await client.post("/tx", content=raw, headers={**OCTET, "x-paid-by": payers})
        same_twice = ",".join([f"{'B' * 39}0000"] * (limit + 1))
        accepted = await client.post("/tx", content=raw, headers={**OCTET, "x-paid-by": same_twice})
    assert refused.status_code == 400
    assert f"at most {limit}" in refused.text
    assert accepted.status_code == 200, accepted.text
    [event] = api.events()
    assert event.paid_by == (f"{'B' * 39}0000",)


# ---------------------------------------------------------------- many connections


async def test_routes_answer_with_1000_idle_connections_and_a_stalled_10_gib_upload(
    api: RunningApi,
) -> None:
    raise_open_file_limit()  # the server runs in this process: both ends are our files
    raw = fixture_bytes("stub1115ByteDataItem")
    async with contextlib.AsyncExitStack() as stack:
        for i in range(1000):
            _, writer = await stack.enter_async_context(raw_connection(api))
            if i % 2:
                writer.write(b"GET /tx/x/status HTTP/1.1\r\nHost: x\r\n")
        _, stalled = await stack.enter_async_context(raw_connection(api))
        stalled.write(upload_head(length=10 * 1024**3) + raw[:100])
        await stalled.drain()
        await asyncio.sleep(0.5)  # the stalled request is in the app, not an assertion
        async with api.client() as client:
            upload = await client.post("/tx", content=raw, headers=OCTET)
            status = await client.get("/tx/" + "A" * 43 + "/status")
            session = await client.get("/chunks/arweave/-1/-1")
    assert upload.status_code == 200, upload.text
    assert status.status_code == 404
    assert session.status_code == 200, session.text


def open_files_limits(pid: int) -> tuple[str, str]:
    line = next(
        x for x in Path(f"/proc/{pid}/limits").read_text().splitlines() if "open files" in x
    )
    soft, hard = line.split()[3:5]
    return soft, hard


def test_bundlestream_api_raises_its_open_file_limit_to_the_hard_one(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "BUNDLESTREAM_API_PORT": str(port),
        "BUNDLESTREAM_OBJECT_STORE_DIR": str(tmp_path),
    }
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "bundlestream.cli", "api"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard)),
    )
    try:
        status = None
        deadline = time.monotonic() + CONDITION_S
        while status is None and time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                url = f"http://127.0.0.1:{port}/health"
                status = httpx.get(url, timeout=HTTP_REQUEST_S).status_code
            time.sleep(0.25)
        assert status == 200
        # The supervisor raises it, so the server it starts inherits the raised limit.
        soft_now, hard_now = open_files_limits(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)
    assert soft_now == hard_now == str(hard)
