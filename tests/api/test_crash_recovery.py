"""An upload that did not finish never makes its retry a false "already uploaded": not
after a kill -9 of the API in the middle of it, not while a forged copy of its header is
held open by someone who has seen its id. What a killed upload left on disk is reclaimed.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_process import ApiProcess, eventually, uvicorn_command
from upload_harness import MiB, free_port, read_events, signed_item

from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.core.ans104 import parse_data_item
from bundlestream.schemas.topics import DATA_ITEMS_RECEIVED
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout

pytestmark = pytest.mark.stack

OCTET = {"Content-Type": "application/octet-stream"}
# ANS-104 layout of an Ed25519 item (signature type 2): type (2), signature (64), owner (32).
OWNER = slice(2 + 64, 2 + 64 + 32)


def temp_files(settings: Settings) -> list[Path]:
    """Writers' temp files (``.<name>.<random>.part``) anywhere in the object store."""
    root = settings.object_store.dir
    return sorted(p for p in root.rglob(".*.part")) if root.exists() else []


async def send_part_of(url: str, declared: int, sent: bytes) -> asyncio.StreamWriter:
    """A raw HTTP/1.1 upload that declares ``declared`` bytes and sends only ``sent``."""
    host, port = url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    head = (
        f"POST /tx HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    )
    writer.write(head.encode() + sent)
    await writer.drain()
    return writer


async def test_retry_after_a_kill_9_mid_upload_is_accepted_and_the_orphan_reclaimed(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.updated(
        api__port=free_port(),
        api__free_upload_limit_bytes=1 << 40,
        # Short enough to see it happen; a live upload writes every MiB, far sooner.
        api__abandoned_write_age_s=5.0,
        api__sweep_interval_s=0.2,
    )
    await asyncio.to_thread(create_topics, kafka_connection(settings), topic_layout(settings))
    raw = signed_item(4 * MiB)
    item_id = parse_data_item(raw).id
    killed = ApiProcess(settings, uvicorn_command(settings.api.port), tmp_path / "api.log")
    try:
        await killed.ready()
        connection = await send_part_of(killed.url, len(raw), raw[: 2 * MiB])
        await eventually(lambda: temp_files(settings) != [], "the upload is being written")
        killed.kill()
        connection.close()
    finally:
        killed.stop()
    orphans = temp_files(settings)
    restarted = ApiProcess(settings, uvicorn_command(settings.api.port), tmp_path / "api.log")
    try:
        await restarted.ready()
        async with httpx.AsyncClient(base_url=restarted.url, timeout=60) as client:
            retry = await client.post("/tx", content=raw, headers=OCTET)
            status = await client.get(f"/tx/{item_id}/status")
        assert retry.status_code == 200, retry.text
        await eventually(lambda: not any(p.exists() for p in orphans), "the orphan reclaimed")
    finally:
        restarted.stop()
    events = read_events(settings, DATA_ITEMS_RECEIVED.full_name(settings.kafka.topic_prefix))
    assert orphans != []
    assert retry.json()["id"] == item_id
    assert status.status_code == 200
    assert [event.data_item_id for event in events] == [item_id]
    assert (settings.object_store.dir / "raw" / item_id).read_bytes() == raw
    assert "reclaimed 1 abandoned writes" in restarted.log()


async def test_a_forged_header_held_open_does_not_turn_the_genuine_upload_into_a_202(
    make_api: Any,
) -> None:
    raw = signed_item(2 * MiB)
    forged = raw[: OWNER.start] + os.urandom(32) + raw[OWNER.stop :]
    item_id = parse_data_item(raw).id
    release = asyncio.Event()

    async def held_open() -> AsyncIterator[bytes]:
        yield forged[: 256 * 1024]
        await release.wait()
        yield forged[256 * 1024 :]

    async with make_api(api__free_upload_limit_bytes=1 << 40) as api, api.client() as client:
        holder = asyncio.create_task(client.post("/tx", content=held_open(), headers=OCTET))
        await eventually(lambda: api.stored_files() != [], "the forged upload is being written")
        genuine = await client.post("/tx", content=raw, headers=OCTET)
        release.set()
        refused = await holder
        events = api.events()
        stored = api.stored_files()
    assert genuine.status_code == 200, genuine.text
    assert genuine.json()["id"] == item_id
    assert (refused.status_code, refused.text) == (400, "Invalid Data Item!")
    assert [event.data_item_id for event in events] == [item_id]
    assert [p.name for p in stored] == [item_id]
    assert stored[0].read_bytes() == raw
