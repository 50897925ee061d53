"""Status and offsets from the projections: a real API, broker, projector and Postgres.

After the receipt the fresh view answers (new → CONFIRMED); once the pipeline's events
are projected the same routes answer FINALIZED with the bundle and its offsets, and
FAILED with upstream's reason for a failed item.
"""

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from upload_harness import fixture_bytes

from bench.event_story import Keyed, keyed, produce
from bundlestream.core.ans104 import parse_data_item
from bundlestream.projections import postgres
from bundlestream.projections.migrator import migrate
from bundlestream.projections.projector import Projector
from bundlestream.projections.rebuild import remaining
from bundlestream.schemas import events as ev
from bundlestream.settings import Settings
from tests.bounds import CONDITION_S

pytestmark = pytest.mark.stack

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
OCTET = {"Content-Type": "application/octet-stream"}
DEADLINE_S = CONDITION_S


def lifecycle(item: ev.DataItemReceived, plan_id: str, tx: str) -> Iterator[Keyed]:
    """What the pipeline writes for one item, up to permanence."""
    planned = ev.PlannedItem(
        data_item_id=item.data_item_id,
        owner_address=item.owner_address,
        raw_size=item.raw_size,
        payload_start=item.payload_start,
        received_partition=0,
        received_offset=0,
        object_key=item.object_key,
    )
    yield keyed(ev.BundlePlanned(plan_id=plan_id, items=(planned,), planned_at=NOW))
    yield keyed(
        ev.BundlePrepared(
            plan_id=plan_id,
            bundle_id=tx,
            bundle_object_key="b",
            data_size=96 + item.raw_size,
            data_root="r",
            reward="1",
            anchor="a",
            item_count=1,
            tx_header=b"{}",
            prepared_at=NOW,
        )
    )
    offset = ev.ItemOffset(
        data_item_id=item.data_item_id,
        start_offset_in_root_bundle=96,
        raw_content_length=item.raw_size,
        payload_data_start=item.payload_start,
        payload_content_type=item.content_type,
    )
    yield keyed(
        ev.OffsetsRecorded(plan_id=plan_id, root_bundle_id=tx, items=(offset,), recorded_at=NOW)
    )
    yield keyed(
        ev.BundleConfirmed(
            plan_id=plan_id,
            bundle_id=tx,
            block_height=7,
            block_id="blk",
            confirmations=18,
            confirmed_at=NOW,
        )
    )


def project_all(settings: Settings) -> None:
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        migrate(conn, settings.postgres.projections_schema)
    projector = Projector(
        settings, settings.postgres.projections_schema, f"{settings.kafka.topic_prefix}proj"
    )
    try:
        targets = projector.end_offsets()
        projector.start()
        deadline, positions = time.monotonic() + DEADLINE_S, {}
        while remaining(targets, positions) > 0:
            assert time.monotonic() < deadline, "projector did not catch up"
            batch = projector.project_batch()
            positions = batch.positions if batch else positions
    finally:
        projector.close()


async def test_status_and_offsets_follow_the_projection(
    settings: Settings, make_api: Callable[..., Any], unique_name: str
) -> None:
    own = settings.updated(postgres__projections_schema=unique_name.replace("-", "_"))
    raw = fixture_bytes("integrationStubDataItem1")
    parsed = parse_data_item(raw)
    try:
        async with (
            make_api(postgres__projections_schema=own.postgres.projections_schema) as api,
            api.client() as client,
        ):
            receipt = (await client.post("/tx", content=raw, headers=OCTET)).json()
            fresh = (await client.get(f"/tx/{receipt['id']}/status")).json()
            [received] = api.events()
            failed_id = "F" * 43
            failing = ev.DataItemReceived(
                **{
                    **{f: getattr(received, f) for f in received.__dataclass_fields__},
                    "data_item_id": failed_id,
                }
            )
            story = [
                *lifecycle(received, "plan-1", "T" * 43),
                keyed(failing),
                keyed(
                    ev.DataItemFailed(
                        data_item_id=failed_id,
                        owner_address=failing.owner_address,
                        reason="dropped from 10 bundles",
                        failed_bundles=10,
                        failed_at=NOW,
                    )
                ),
            ]
            await asyncio.to_thread(produce, own, story)
            await asyncio.to_thread(project_all, own)
            status = (await client.get(f"/tx/{receipt['id']}/status")).json()
            offsets = (await client.get(f"/v1/tx/{receipt['id']}/offsets")).json()
            failed = (await client.get(f"/tx/{failed_id}/status")).json()
    finally:
        with postgres.connect(own.postgres.dsn.get_secret_value()) as conn:
            postgres.drop_schema(conn, own.postgres.projections_schema)
    assert (fresh["status"], fresh["info"], fresh["bundleId"]) == ("CONFIRMED", "new", None)
    assert status == {
        "status": "FINALIZED",
        "bundleId": "T" * 43,
        "info": "permanent",
        "winc": receipt["winc"],
        "rawContentLength": len(raw),
        "payloadDataStart": parsed.header.payload_start,
        "payloadContentType": "text/plain",
        "payloadContentLength": parsed.payload_size,
    }
    assert offsets == {
        "rootBundleId": "T" * 43,
        "startOffsetInRootBundle": 96,
        "rawContentLength": len(raw),
        "payloadDataStart": parsed.header.payload_start,
        "payloadContentType": "text/plain",
        "payloadContentLength": parsed.payload_size,
    }
    assert (failed["status"], failed["info"], failed["reason"]) == (
        "FAILED",
        "failed",
        "dropped from 10 bundles",
    )
