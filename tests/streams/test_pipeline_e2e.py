"""End to end against arlocal: uploads through the API become mined, unbundled bundles."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline_checks import (
    assert_exactly_once,
    assert_nested_offsets,
    assert_unbundled,
    bundled_ids,
    distinct_plans,
    mixed_items,
    signers,
    upload_all,
    wait_all_confirmed,
    wait_finalized,
)
from pipeline_harness import pipeline_settings, running_pipeline, wait_for

from bundlestream.core.ans104.signing import sign_data_item

# 1,000 items (docs/streams.md, "End-to-end tests"), and a small maximum bundle size (one
# item above it) so that the run makes dozens of bundles.
ITEMS = 1_000
MAX_BUNDLE = 200_000
OVERSIZE = 450_000  # payload bytes: two 256 KiB chunks; under the free upload limit


async def test_1000_uploads_end_up_in_exactly_one_mined_bundle_each(tmp_path: Path) -> None:
    settings = pipeline_settings(tmp_path, streams__max_bundle_size=MAX_BUNDLE)
    items = mixed_items(ITEMS, oversize=OVERSIZE)
    async with running_pipeline(settings, projector=True) as run:
        ids = await upload_all(run.api_url, items, concurrency=32)
        assert len(ids) == len(items) == ITEMS + 2
        await wait_all_confirmed(run.log, ids, 600)
        assert_exactly_once(run.log, ids)
        assert_unbundled(run.log, ids)
        await wait_finalized(run.api_url, ids, 300)
        await assert_nested_offsets(run.api_url, items[-1])
        received = {e.data_item_id: e for e in run.log.of("DataItemReceived")}
        assert {e.signature_type for e in received.values()} == set(range(1, 8))
        inline_max = settings.api.inline_item_max_bytes
        stored = {i for i, e in received.items() if e.object_key is not None}
        assert stored == {i for i, e in received.items() if e.raw_size > inline_max}
        assert len(stored) >= ITEMS // 10
        plans = distinct_plans(run.log).values()
        oversize = [p for p in plans if any(i.raw_size > MAX_BUNDLE for i in p.items)]
        assert [[i.data_item_id for i in p.items] for p in oversize] == [[ids[-2]]]


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
