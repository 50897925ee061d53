"""Helpers of the console tests: a real console (uvicorn) on the real stack, with its own
topics, projections schema, accounts schema and session key."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import uvicorn
from confluent_kafka import Producer

from bench.event_story import Keyed, keyed
from bundlestream.adapters.operator_accounts import add_operator
from bundlestream.console.app import create_app
from bundlestream.projections import postgres
from bundlestream.projections.migrator import migrate
from bundlestream.projections.projector import Projector
from bundlestream.projections.rebuild import remaining
from bundlestream.schemas import events as ev
from bundlestream.schemas.topics import DATA_ITEMS_RECEIVED, DEAD_LETTERS
from bundlestream.settings import Settings
from tests.api.upload_harness import free_port

PASSWORD = "correct horse battery staple"
DEADLINE_S = 60.0
NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def lifecycle(item: ev.DataItemReceived, plan_id: str, tx: str) -> Iterator[Keyed]:
    """What the pipeline writes for one item, up to permanence (as test_projected_status)."""
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


def console_settings(tmp_path: Path) -> Settings:
    """Stack addresses from the environment; topics, schemas and key private to the test."""
    own = uuid.uuid4().hex[:10]
    return Settings().updated(
        kafka__topic_prefix=f"t-{own}-",
        kafka__topic_partitions=2,
        object_store__dir=tmp_path / "objects",
        arweave__receipt_key_path=tmp_path / "wallet.json",
        arweave__receipt_key_size=2048,
        postgres__projections_schema=f"proj_{own}",
        postgres__projector_group_id=f"t-{own}-projector",
        console__schema_name=f"console_{own}",
        console__secret_path=tmp_path / "console-secret",
        console__login_user_limit=3,
        console__login_ip_limit=10,
    )


def add_operators(settings: Settings, *names: str) -> None:
    """The test's projections schema (migrated, empty) and these operators."""
    with psycopg.connect(settings.postgres.dsn.get_secret_value(), autocommit=True) as conn:
        migrate(conn, settings.postgres.projections_schema)  # type: ignore[arg-type]
        for name in names:
            add_operator(conn, settings.console.schema_name, name, PASSWORD)


def drop_schemas(settings: Settings) -> None:
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        postgres.drop_schema(conn, settings.postgres.projections_schema)
        postgres.drop_schema(conn, settings.console.schema_name)


def project_all(settings: Settings) -> None:
    """Run the projector of the test's schema until it has every event of its topics."""
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        migrate(conn, settings.postgres.projections_schema)
    projector = Projector(
        settings, settings.postgres.projections_schema, settings.postgres.projector_group_id
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


@contextlib.asynccontextmanager
async def serve_console(settings: Settings) -> AsyncIterator[str]:
    """The console on a free port; its URL once the login page answers."""
    port = free_port()
    config = uvicorn.Config(create_app(settings), port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            for _ in range(300):
                assert not task.done(), "console stopped while starting"
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/login")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
        yield url
    finally:
        server.should_exit = True
        await task


def dead_letter(settings: Settings, event_bytes: bytes, key: str) -> None:
    """A message that once failed to decode, as the projector dead-letters it."""
    origin = DATA_ITEMS_RECEIVED.full_name(settings.kafka.topic_prefix)
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap})
    headers = [("dlq.topic", origin), ("dlq.error", "unknown schema version")]
    producer.produce(
        DEAD_LETTERS.full_name(settings.kafka.topic_prefix),
        event_bytes,
        key.encode(),
        headers=headers,
    )
    assert producer.flush(10) == 0
