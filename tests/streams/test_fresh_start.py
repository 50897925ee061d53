"""A worker on a fresh cluster: its tables' changelogs made before any agent runs, and a
verify stage that fails is restarted without losing the bundle it was handed."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from pathlib import Path

from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.core.ans104.signing import sign_data_item
from bundlestream.schemas.topics import TABLES, VERIFY_WATCHING
from bundlestream.streams.context import CRASH_EXIT_STATUS
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

from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout


def _admin(settings: Settings) -> AdminClient:
    return AdminClient({"bootstrap.servers": settings.kafka_bootstrap})


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
    changelogs = {t.changelog_name(settings.streams_app_id) for t in TABLES}
    assert {name: counts.get(name) for name in changelogs} == dict.fromkeys(
        changelogs, settings.topic_partitions
    )


async def _pipeline_uploads(settings: Settings, workers: Workers, log: EventLog) -> list[str]:
    workers.start()
    items = [sign_data_item(signer, os.urandom(1000)) for signer in signers()[:3]]
    async with api_server(settings) as url:
        return await upload_all(url, items)


async def test_a_worker_started_before_its_changelogs_exist_settles_every_bundle(
    tmp_path: Path,
) -> None:
    # As the stack started before: the event topics only, the changelogs left to Faust.
    settings = pipeline_settings(tmp_path)
    events_only = dataclasses.replace(topic_layout(settings), app_id=None)
    create_topics(kafka_connection(settings), events_only)
    log, workers = EventLog(settings), Workers(settings)
    miner = GatedMiner(settings.gateway_url, log)
    mining = asyncio.create_task(miner.run())
    try:
        ids = await _pipeline_uploads(settings, workers, log)
        await wait_all_confirmed(log, ids, 240)
    finally:
        mining.cancel()
        workers.stop_all()
        log.close()


async def test_a_bundle_seeded_while_verify_crashes_still_settles(tmp_path: Path) -> None:
    settings = pipeline_settings(tmp_path)
    create_topics(kafka_connection(settings), topic_layout(settings))
    # A verify changelog that disagrees with its source: the table's first write raises.
    admin, changelog = _admin(settings), VERIFY_WATCHING.changelog_name(settings.streams_app_id)
    admin.delete_topics([changelog])[changelog].result(timeout=30)
    _create(admin, changelog, 1)
    log, workers = EventLog(settings), Workers(settings)
    miner = GatedMiner(settings.gateway_url, log)
    mining = asyncio.create_task(miner.run())
    worker_log = workers.log_dir / "worker-1.log"
    crashed = f"exited with status {CRASH_EXIT_STATUS}".encode()
    try:
        ids = await _pipeline_uploads(settings, workers, log)
        await wait_for(log, lambda: log.of("BundleSeeded"), 240, "a seeded bundle")
        await wait_for(log, lambda: crashed in worker_log.read_bytes(), 120, "verify crashing")
        admin.delete_topics([changelog])[changelog].result(timeout=30)
        _create(admin, changelog, settings.topic_partitions)
        await wait_all_confirmed(log, ids, 300)
    finally:
        mining.cancel()
        workers.stop_all()
        log.close()
