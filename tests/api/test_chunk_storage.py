"""Chunked uploads cannot fill the disk: a session's parts are capped at the maximum item
size, a chunk that arrives once finalize has begun is refused and its bytes deleted, and
the parts of sessions that expired are reclaimed by the sweeper, which counts them."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from api_process import eventually
from upload_harness import MiB, RunningApi, signed_item

from bundlestream.core.ans104 import parse_data_item

pytestmark = pytest.mark.stack

OCTET = {"Content-Type": "application/octet-stream"}


def parts_on_disk(api: RunningApi) -> list[Path]:
    """Every file under the multipart prefix, temp files included."""
    return [
        p for p in api.stored_files() if "mpu" in p.relative_to(api.settings.object_store.dir).parts
    ]


async def new_session(client: Any) -> str:
    created = await client.get("/chunks/arweave/-1/-1")
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


async def test_a_sessions_parts_are_capped_at_the_maximum_item_size(make_api: Any) -> None:
    limit = 2 * MiB
    too_large = f"Data item is too large, this service only accepts data items up to {limit} bytes!"
    async with make_api(api__max_data_item_size=limit) as api, api.client() as client:
        upload_id = await new_session(client)

        async def chunk(offset: int, size: int) -> tuple[int, str]:
            url = f"/chunks/arweave/{upload_id}/{offset}"
            answer = await client.post(url, content=b"c" * size, headers=OCTET)
            return answer.status_code, answer.text

        first, second = await chunk(0, MiB), await chunk(MiB, MiB)
        again = await chunk(0, MiB)  # sent again: replaces its part, is not counted twice
        beyond = await chunk(2 * MiB, MiB)
        overlapping = await chunk(MiB // 2, MiB)
        whole = await chunk(0, 5 * MiB)
        listing = (await client.get(f"/chunks/arweave/{upload_id}/-1")).json()
    assert [first, second, again] == [(200, "")] * 3
    assert [beyond, overlapping, whole] == [(400, too_large)] * 3
    assert listing["chunks"] == [[0, MiB], [MiB, MiB]]
    assert sum(p.stat().st_size for p in parts_on_disk(api)) == limit


async def test_a_chunk_arriving_during_finalize_is_refused_and_its_bytes_deleted(
    make_api: Any,
) -> None:
    raw = signed_item(600 * 1024)
    release = asyncio.Event()

    async def late_chunk() -> AsyncIterator[bytes]:
        yield b"L" * (64 * 1024)
        await release.wait()
        yield b"L" * (64 * 1024)

    async with make_api(api__free_upload_limit_bytes=1 << 40) as api, api.client() as client:
        upload_id = await new_session(client)
        whole = await client.post(f"/chunks/arweave/{upload_id}/0", content=raw, headers=OCTET)
        late_headers = {**OCTET, "Content-Length": str(128 * 1024)}
        late_url = f"/chunks/arweave/{upload_id}/{len(raw)}"
        late = asyncio.create_task(
            client.post(late_url, content=late_chunk(), headers=late_headers)
        )
        await eventually(lambda: len(parts_on_disk(api)) == 2, "the late chunk is being written")
        finalized = await client.post(f"/chunks/arweave/{upload_id}/-1")
        release.set()
        refused = await late
        listing = (await client.get(f"/chunks/arweave/{upload_id}/-1")).json()
        events = api.events()
    assert whole.status_code == 200, whole.text
    assert finalized.status_code == 200, finalized.text
    assert finalized.json()["id"] == parse_data_item(raw).id
    assert (refused.status_code, refused.text) == (400, "Invalid chunk.")
    assert [e.data_item_id for e in events] == [finalized.json()["id"]]
    assert listing["chunks"] == [[0, len(raw)]]
    assert parts_on_disk(api) == []


async def test_the_parts_of_an_expired_session_are_reclaimed_and_counted(make_api: Any) -> None:
    async with (
        make_api(api__multipart_ttl_s=1, api__sweep_interval_s=0.2) as api,
        api.client() as client,
    ):
        upload_id = await new_session(client)
        for offset in (0, 100_000):
            url = f"/chunks/arweave/{upload_id}/{offset}"
            stored = await client.post(url, content=b"p" * 100_000, headers=OCTET)
            assert stored.status_code == 200, stored.text
        assert len(parts_on_disk(api)) == 2
        await eventually(lambda: parts_on_disk(api) == [], "the expired session's parts reclaimed")
        gone = await client.get(f"/chunks/arweave/{upload_id}/-1")
        metrics = (await client.get("/metrics")).text
    assert gone.status_code == 404
    assert 'bundlestream_reclaimed_objects_total{kind="expired_part"} 2.0' in metrics
