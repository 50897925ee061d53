"""Chunked uploads cannot fill the disk: the parts of sessions that expired are reclaimed
by the sweeper, which counts them."""

from pathlib import Path
from typing import Any

import pytest
from api_process import eventually
from upload_harness import RunningApi

pytestmark = pytest.mark.stack

OCTET = {"Content-Type": "application/octet-stream"}


def parts_on_disk(api: RunningApi) -> list[Path]:
    """Every file under the multipart prefix, temp files included."""
    return [
        p for p in api.stored_files() if "mpu" in p.relative_to(api.settings.object_store_dir).parts
    ]


async def new_session(client: Any) -> str:
    created = await client.get("/chunks/arweave/-1/-1")
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


async def test_the_parts_of_an_expired_session_are_reclaimed_and_counted(make_api: Any) -> None:
    async with make_api(multipart_ttl_s=1, sweep_interval_s=0.2) as api, api.client() as client:
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
