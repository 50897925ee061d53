"""An object store that is unreachable when the post stage checks a plan's permanence
ends the worker; the plan is posted (or dropped) by the worker that comes next, never
skipped. Faust acknowledges a message whose agent raised: a chaos run lost a 225-item
plan that way (its BundlePrepared was read during a 30 s s3rver outage and never
posted)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from confluent_kafka import Producer
from pipeline_harness import Workers, pipeline_settings, running_log, wait_for

from bench.chaos_gateway import GatewayProxy, free_port
from bundlestream.schemas.codec import encode
from bundlestream.schemas.events import BundlePrepared
from bundlestream.schemas.topics import topic_of
from bundlestream.settings import Settings

pytestmark = pytest.mark.stack

# What the post stage logs when it ends the worker, and what Faust logs when an agent
# raised (the message is then acknowledged and skipped).
STOPPED = b"post: stopping the worker"
SKIPPED = b"post_agent]: Crashed"


def prepared(plan_id: str) -> BundlePrepared:
    return BundlePrepared(
        plan_id=plan_id,
        bundle_id="b" * 43,
        bundle_object_key=f"bundles/{plan_id}/bundle",
        data_size=1,
        data_root="r" * 43,
        reward="0",
        anchor="a" * 43,
        item_count=1,
        tx_header=b'{"id": "not a transaction"}',
        prepared_at=datetime.now(UTC),
    )


def produce(settings: Settings, event: BundlePrepared) -> None:
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap, "acks": "all"})
    topic = topic_of("BundlePrepared").full_name(settings.kafka.topic_prefix)
    producer.produce(topic, key=event.plan_id.encode(), value=encode(event))
    assert producer.flush(30) == 0


async def until_logged(workers: Workers, needles: tuple[bytes, ...], timeout_s: float) -> bytes:
    deadline = asyncio.get_running_loop().time() + timeout_s
    log = workers.log_dir / "worker-1.log"
    while not any(n in (text := log.read_bytes()) for n in needles):
        assert asyncio.get_running_loop().time() < deadline, f"none of {needles} logged"
        await asyncio.sleep(0.2)
    return next(n for n in needles if n in text)


async def test_a_store_outage_at_the_permanence_check_does_not_skip_the_plan(
    settings: Settings, tmp_path: Path
) -> None:
    s3 = urlsplit(settings.object_store.s3_endpoint)
    proxy = GatewayProxy(s3.hostname or "127.0.0.1", s3.port or 4568, free_port())
    await proxy.start()
    own = pipeline_settings(
        tmp_path, object_store__backend="s3", object_store__s3_endpoint=proxy.url
    )
    plan_id = "p1-default-0-store-outage"
    with running_log(own) as log:
        workers = Workers(own)
        workers.start()
        try:
            await until_logged(workers, (b"[^Worker]: Ready",), 180)
            await proxy.stop()
            await asyncio.to_thread(produce, own, prepared(plan_id))
            assert await until_logged(workers, (STOPPED, SKIPPED), 120) == STOPPED
            await proxy.start()

            def settled() -> bool:
                outcomes = log.of("BundlePosted") + log.of("BundleDropped")
                return any(e.plan_id == plan_id for e in outcomes)

            await wait_for(log, settled, 180, "the plan posted or dropped")
        finally:
            workers.stop_all()
            await proxy.stop()
