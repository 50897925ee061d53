"""Retention through the real pipeline: a permanent bundle's local copies stay for
``cleanup_retention_s`` after its confirmation, then go, and BundleCleanedUp says so."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline_checks import assert_exactly_once, signers, upload_all, wait_all_confirmed
from pipeline_harness import pipeline_settings, running_pipeline, wait_for

from bundlestream.adapters.object_store import ObjectStore
from bundlestream.core.ans104.signing import sign_data_item
from bundlestream.schemas.events import BundlePlanned
from bundlestream.streams.preparation import bundle_key
from bundlestream.wiring import open_object_store
from tests.bounds import CONDITION_S

# Long enough that the test looks at a bundle's copies before its retention is over even
# on a loaded machine (with 20 s, a box slow to return from the wait had nothing to check).
RETENTION_S = 60.0


def copies(plan: BundlePlanned) -> list[str]:
    """The object keys cleanup deletes: stored items (inline ones have none), the bundle."""
    items = [item.object_key for item in plan.items if item.object_key is not None]
    return [*items, bundle_key(plan.plan_id, "bundle")]


async def present(store: ObjectStore, keys: list[str]) -> list[bool]:
    return [await store.size(key) is not None for key in keys]


async def test_local_copies_stay_for_the_retention_then_go(tmp_path: Path) -> None:
    settings = pipeline_settings(tmp_path, streams__cleanup_retention_s=RETENTION_S)
    keys = signers()
    stored = [sign_data_item(keys[i % 3], os.urandom(70_000 + i)) for i in range(4)]
    inline = [sign_data_item(keys[i % 3], os.urandom(100 + i)) for i in range(3)]
    store = open_object_store(settings)
    async with running_pipeline(settings) as run:
        ids = await upload_all(run.api_url, stored + inline)
        await wait_all_confirmed(run.log, ids, 300)
        plans = {p.plan_id: p for p in run.log.of("BundlePlanned")}
        confirmed = {c.plan_id: c for c in run.log.of("BundleConfirmed")}
        checked = 0
        for plan_id, event in confirmed.items():
            found = await present(store, copies(plans[plan_id]))
            # Deletion cannot start before the retention is over: a look that ended
            # before then is sure, whatever it took.
            if datetime.now(UTC) < event.confirmed_at + timedelta(seconds=RETENTION_S):
                assert all(found), plan_id
                checked += 1
        assert checked, "no bundle was looked at before its retention ended"
        await wait_for(
            run.log,
            lambda: {e.plan_id for e in run.log.of("BundleCleanedUp")} >= set(confirmed),
            RETENTION_S + CONDITION_S,
            "cleanups",
        )
        assert_exactly_once(run.log, ids)
    for cleaned in run.log.of("BundleCleanedUp"):
        plan, event = plans[cleaned.plan_id], confirmed[cleaned.plan_id]
        assert cleaned.confirmed_at == event.confirmed_at
        assert cleaned.cleaned_at >= event.confirmed_at + timedelta(seconds=RETENTION_S)
        assert cleaned.deleted_objects == len(copies(plan))
        assert not any(await present(store, copies(plan)))
        kept = [bundle_key(plan.plan_id, name) for name in ("plan", "tx.json", "permanent")]
        assert all(await present(store, kept))
    assert sum(len(copies(plans[p])) - 1 for p in confirmed) == len(stored)
