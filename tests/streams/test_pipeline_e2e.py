"""End to end against arlocal: uploads through the API become mined, unbundled bundles."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
from pipeline_checks import (
    assert_exactly_once,
    assert_unbundled,
    bundled_ids,
    distinct_plans,
    mixed_items,
    signers,
    upload_all,
)
from pipeline_harness import pipeline_settings, running_pipeline, wait_for

from core.ans104.signing import sign_data_item


async def test_uploads_end_up_in_exactly_one_mined_bundle(tmp_path: Path) -> None:
    settings = pipeline_settings(tmp_path, max_bundle_size=200_000)
    items = mixed_items(40, oversize=250_000)
    async with running_pipeline(settings, projector=True) as run:
        ids = await upload_all(run.api_url, items)
        assert len(ids) == len(items)
        await wait_for(run.log, lambda: set(bundled_ids(run.log)) >= set(ids), 180, "confirmations")
        await wait_finalized(run.api_url, ids, 120)
        assert_exactly_once(run.log, ids)
        plans = distinct_plans(run.log).values()
        oversize = [p for p in plans if len(p.items) == 1 and p.items[0].raw_size > 200_000]
        assert len(oversize) == 1
        assert_unbundled(run.log, ids)
        offsets = {o.data_item_id: o for e in run.log.of("OffsetsRecorded") for o in e.items}
        nested = [o for o in offsets.values() if o.parent_data_item_id == ids[-1]]
        assert len(nested) == 3 and all(o.start_offset_in_parent_payload for o in nested)


async def wait_finalized(url: str, ids: list[str], timeout_s: float) -> None:
    """Until GET /tx/{id}/status answers FINALIZED for every id (projections behind it)."""
    pending = set(ids)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while pending:
            for item_id in sorted(pending):
                status = (await client.get(f"/tx/{item_id}/status")).json()
                if status.get("status") == "FINALIZED":
                    pending.discard(item_id)
            assert loop.time() < deadline, f"not FINALIZED: {sorted(pending)[:5]}, e.g. {status}"
            await asyncio.sleep(0.5)


async def test_the_same_item_uploaded_100_times_at_once_is_bundled_once(tmp_path: Path) -> None:
    settings = pipeline_settings(tmp_path)
    item = sign_data_item(signers()[1], os.urandom(2000))
    async with running_pipeline(settings) as run:
        ids = await upload_all(run.api_url, [item] * 100, concurrency=100)
        assert ids and set(ids) == {ids[0]}
        await wait_for(run.log, lambda: ids[0] in bundled_ids(run.log), 180, "confirmation")
        assert_exactly_once(run.log, ids[:1])
        assert_unbundled(run.log, ids[:1])
        accepted = {e.received_offset for e in run.log.of("DataItemAccepted")}
        assert len(accepted) == 1
