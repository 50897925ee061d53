"""A fresh cluster: every table's changelog is made with the catalogue topics, and a
verify stage whose table write fails loses no bundle it was handed: once the changelog
is right, the bundle seeded meanwhile settles."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic
from pipeline_checks import signers, upload_all, wait_all_confirmed
from pipeline_harness import (
    EventLog,
    GatedMiner,
    Workers,
    api_server,
    pipeline_settings,
    wait_for,
)

from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.adapters.tasks import stop
from bundlestream.core.ans104.signing import sign_data_item
from bundlestream.schemas.topics import TABLES, VERIFY_WATCHING
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout


def _admin(settings: Settings) -> AdminClient:
    return AdminClient({"bootstrap.servers": settings.kafka.bootstrap})


def _partition_counts(settings: Settings) -> dict[str, int]:
    topics = _admin(settings).list_topics(timeout=30).topics
    return {name: len(meta.partitions) for name, meta in topics.items()}


def _create(admin: AdminClient, name: str, partitions: int) -> None:
    """Create ``name``, waiting out a deletion of the same name still under way."""
    deadline = time.monotonic() + 60
    while True:
        future = admin.create_topics([NewTopic(name, num_partitions=partitions)])[name]
        try:
            future.result(timeout=30)
            return
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            assert time.monotonic() < deadline, error.str()
            time.sleep(0.5)


def test_topics_create_makes_every_table_changelog_like_its_source(tmp_path: Path) -> None:
    settings = pipeline_settings(tmp_path)
    create_topics(kafka_connection(settings), topic_layout(settings))
    counts = _partition_counts(settings)
    changelogs = {t.changelog_name(settings.streams.app_id) for t in TABLES}
    assert {name: counts.get(name) for name in changelogs} == dict.fromkeys(
        changelogs, settings.kafka.topic_partitions
    )


async def _pipeline_uploads(settings: Settings, workers: Workers) -> list[str]:
    workers.start()
    items = [sign_data_item(signer, os.urandom(1000)) for signer in signers()[:3]]
    async with api_server(settings) as url:
        return await upload_all(url, items)


async def test_a_bundle_seeded_while_verify_crashes_still_settles(tmp_path: Path) -> None:
    settings = pipeline_settings(tmp_path)
    create_topics(kafka_connection(settings), topic_layout(settings))
    # A verify changelog that disagrees with its source: the table's first write raises.
    admin, changelog = _admin(settings), VERIFY_WATCHING.changelog_name(settings.streams.app_id)
    admin.delete_topics([changelog])[changelog].result(timeout=30)
    _create(admin, changelog, 1)
    log, workers = EventLog(settings), Workers(settings)
    miner = GatedMiner(settings.arweave.gateway_url, log)
    mining = asyncio.create_task(miner.run())
    worker_log = workers.log_dir / "worker-1.log"
    try:
        ids = await _pipeline_uploads(settings, workers)
        await wait_for(log, lambda: log.of("BundleSeeded"), 240, "a seeded bundle")
        crashing = lambda: b"PartitionsMismatch" in worker_log.read_bytes()  # noqa: E731
        await wait_for(log, crashing, 120, "verify failing")
        admin.delete_topics([changelog])[changelog].result(timeout=30)
        _create(admin, changelog, settings.kafka.topic_partitions)
        await wait_all_confirmed(log, ids, 300)
    finally:
        await stop(mining)
        workers.stop_all()
        log.close()
