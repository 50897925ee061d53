"""The Turbo SDK's chunked protocol: chunks in parallel and out of order, one item however
many times it is finalized, progress in status."""

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from upload_harness import MiB, RunningApi, signed_item

from bundlestream.core.ans104 import parse_data_item
from bundlestream.core.receipts import verify_receipt
from tests.bounds import CONDITION_S

pytestmark = pytest.mark.stack

CHUNK = 5 * MiB
OCTET = {"Content-Type": "application/octet-stream"}


async def start_upload(client: Any, chunk_size: int = CHUNK) -> str:
    created = await client.get(f"/chunks/arweave/-1/-1?chunkSize={chunk_size}")
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["chunkSize"] == chunk_size
    assert (body["min"], body["max"]) == (5 * MiB, 500 * MiB)
    return str(body["id"])


async def send_chunks_out_of_order(client: Any, upload_id: str, raw: bytes) -> None:
    offsets = list(range(0, len(raw), CHUNK))[::-1]

    async def send(offset: int) -> None:
        part = raw[offset : offset + CHUNK]
        answer = await client.post(
            f"/v1/chunks/arweave/{upload_id}/{offset}", content=part, headers=OCTET
        )
        assert answer.status_code == 200, answer.text

    await asyncio.gather(*(send(offset) for offset in offsets))


@pytest.fixture
def generous(make_api: Callable[..., Any]) -> Any:
    return make_api(api__free_upload_limit_bytes=1 << 40)


async def test_sync_finalize_twice_gives_one_item_and_the_same_receipt(generous: Any) -> None:
    raw = signed_item(12 * MiB + 123)
    item = parse_data_item(raw)
    async with generous as api, api.client() as client:
        upload_id = await start_upload(client)
        await send_chunks_out_of_order(client, upload_id, raw)
        listing = (await client.get(f"/chunks/arweave/{upload_id}/-1")).json()
        first = await client.post(f"/chunks/arweave/{upload_id}/-1")
        second = await client.post(f"/chunks/arweave/{upload_id}/-1")
        status = (await client.get(f"/chunks/arweave/{upload_id}/status")).json()
        sse = await client.get(f"/chunks/arweave/{upload_id}/events")
        [event] = api.events()
    [data] = [line for line in sse.text.splitlines() if line.startswith("data: ")]
    assert sse.headers["content-type"].startswith("text/event-stream")
    assert json.loads(data.removeprefix("data: "))["status"] == "FINALIZED"
    assert listing["chunks"] == [[0, CHUNK], [CHUNK, CHUNK], [2 * CHUNK, len(raw) - 2 * CHUNK]]
    assert first.status_code == 200, first.text
    assert first.json()["id"] == item.id
    assert verify_receipt(first.json())
    assert second.json() == first.json()
    assert status["status"] == "FINALIZED"
    assert status["receipt"] == first.json()
    assert status["bytesReceived"] == len(raw)
    assert event.data_item_id == item.id
    [stored] = api.stored_files()
    assert stored.read_bytes() == raw


async def test_async_finalize_answers_202_then_status_reaches_finalized(generous: Any) -> None:
    raw = signed_item(11 * MiB)
    async with generous as api, api.client() as client:
        upload_id = await start_upload(client)
        await send_chunks_out_of_order(client, upload_id, raw)
        progress = (await client.get(f"/chunks/arweave/{upload_id}/status")).json()
        answers = await asyncio.gather(
            client.post(f"/chunks/arweave/{upload_id}/finalize", content=b"", headers=OCTET),
            client.post(f"/chunks/arweave/{upload_id}/finalize", content=b"", headers=OCTET),
        )
        status = await poll_until_settled(client, upload_id)
        events = api.events()
    assert (progress["status"], progress["bytesReceived"]) == ("ASSEMBLING", len(raw))
    assert sorted(a.status_code for a in answers)[0] == 202
    assert status["status"] == "FINALIZED"
    assert verify_receipt(status["receipt"])
    assert [e.data_item_id for e in events] == [status["receipt"]["id"]]


async def poll_until_settled(client: Any, upload_id: str) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + CONDITION_S
    while True:
        status: dict[str, Any] = (await client.get(f"/chunks/arweave/{upload_id}/status")).json()
        if status["status"] not in ("ASSEMBLING", "VALIDATING", "FINALIZING"):
            return status
        assert asyncio.get_running_loop().time() < deadline, f"{upload_id} never settled: {status}"
        await asyncio.sleep(0.1)


async def test_invalid_item_through_chunks_ends_invalid_and_keeps_nothing(generous: Any) -> None:
    raw = bytearray(signed_item(10 * MiB + 1))
    raw[-5] ^= 1
    async with generous as api, api.client() as client:
        upload_id = await start_upload(client)
        await send_chunks_out_of_order(client, upload_id, bytes(raw))
        answer = await client.post(f"/chunks/arweave/{upload_id}/-1")
        status = (await client.get(f"/chunks/arweave/{upload_id}/status")).json()
        assert api.stored_files() == []
        assert api.events() == []
    assert (answer.status_code, answer.text) == (400, "Invalid Data Item!")
    assert status["status"] == "INVALID"


async def test_chunk_size_out_of_bounds_and_unknown_upload(api: RunningApi) -> None:
    async with api.client() as client:
        small = await client.get("/chunks/arweave/-1/-1?chunkSize=1024")
        unknown = await client.get("/chunks/arweave/nope/status")
    assert small.status_code == 400
    assert small.json() == {"error": "Invalid chunk size", "min": 5 * MiB, "max": 500 * MiB}
    assert unknown.status_code == 404


async def test_chunks_of_an_item_already_uploaded_finalize_to_its_first_receipt(
    generous: Any,
) -> None:
    raw = signed_item(10 * MiB + 7, seed=11)
    async with generous as api, api.client() as client:
        direct = await client.post("/tx", content=raw, headers=OCTET)
        upload_id = await start_upload(client)
        await send_chunks_out_of_order(client, upload_id, raw)
        finalized = await client.post(f"/chunks/arweave/{upload_id}/-1")
        events = api.events()
    assert direct.status_code == 200
    assert (finalized.status_code, finalized.json()) == (200, direct.json())
    assert len(events) == 1
