"""Dead letters, redrive, events show and replay against the real broker."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from bench.event_story import produce, story
from bundlestream.adapters.kafka_producer import producer_config
from bundlestream.cli import main
from bundlestream.projections import postgres
from bundlestream.projections.migrator import migrate
from bundlestream.projections.projector import Projector
from bundlestream.projections.rebuild import remaining
from bundlestream.schemas.codec import encode
from bundlestream.schemas.topics import BUNDLES_PLANNED, DATA_ITEMS_RECEIVED, DEAD_LETTERS
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection
from tests.bounds import BROKER_REQUEST_S, CONDITION_S

pytestmark = pytest.mark.stack

DEADLINE_S = CONDITION_S


def send_raw(
    settings: Settings, topic: str, value: bytes, headers: list[tuple[str, bytes]] | None = None
) -> None:
    producer = Producer(producer_config(kafka_connection(settings)))
    producer.produce(topic, value, b"k", headers=headers)
    assert producer.flush(30) == 0


def project_to_end(settings: Settings) -> None:
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


def dead_letters(settings: Settings) -> list[tuple[bytes, dict[str, bytes]]]:
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap, "group.id": "x"})
    topic = DEAD_LETTERS.full_name(settings.kafka.topic_prefix)
    consumer.assign([TopicPartition(topic, p, 0) for p in range(settings.kafka.topic_partitions)])
    found, idle = [], 0
    while idle < 3:
        message = consumer.poll(1.0)
        if message is None:
            idle += 1
        elif message.error() is None:
            found.append((message.value(), dict(message.headers() or [])))
    consumer.close()
    return found


def received_count(settings: Settings) -> int:
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        row = conn.execute(
            f'SELECT count(*) FROM "{settings.postgres.projections_schema}".received_items'
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_an_undecodable_message_is_a_dead_letter_and_redrive_returns_what_decodes(
    own: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    received = DATA_ITEMS_RECEIVED.full_name(own.kafka.topic_prefix)
    first = list(story(bundles=1, items_per_bundle=5))
    produce(own, first)
    send_raw(own, received, b"\xc3\x01not an event")
    project_to_end(own)
    [(value, headers)] = dead_letters(own)
    assert value == b"\xc3\x01not an event"
    assert headers["dlq.topic"] == received.encode()
    assert b"unknown schema fingerprint" in headers["dlq.error"]
    assert received_count(own) == 5  # the projector went past it

    # A dead letter that decodes now (its reader was upgraded since) goes home.
    late = next(
        k.event
        for k in list(story(bundles=2, items_per_bundle=5))[len(first) :]
        if k.topic == DATA_ITEMS_RECEIVED.name
    )
    dead = DEAD_LETTERS.full_name(own.kafka.topic_prefix)
    send_raw(own, dead, encode(late), [("dlq.topic", received.encode())])
    monkeypatch.setenv("BUNDLESTREAM_TOPIC_PREFIX", own.kafka.topic_prefix)
    assert main(["events", "redrive"]) == 0
    assert "returned 1 to their topics; 1 still undecodable" in capsys.readouterr().out
    project_to_end(own)
    assert received_count(own) == 6
    # The undecodable one is back at the end of the dead letters, the redriven one is not.
    assert [v for v, _ in dead_letters(own)].count(b"\xc3\x01not an event") == 2


def test_events_show_decodes_from_an_offset_or_a_time(
    own: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    produce(own, story(bundles=3, items_per_bundle=2, drop_every=0))
    monkeypatch.setenv("BUNDLESTREAM_TOPIC_PREFIX", own.kafka.topic_prefix)
    assert main(["events", "show", "bundles.planned", "--offset", "0"]) == 0
    shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(s["fields"]["plan_id"] for s in shown) == sorted(
        k.event.plan_id for k in story(3, 2, drop_every=0) if k.topic == BUNDLES_PLANNED.name
    )
    assert all(s["event"] == "BundlePlanned" and s["key"] == s["fields"]["plan_id"] for s in shown)
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert main(["events", "show", "bundles.planned", "--since", future]) == 0
    assert capsys.readouterr().out == ""
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert main(["events", "show", "bundles.planned", "--partition", "0", "--since", past]) == 0
    assert all(json.loads(line)["partition"] == 0 for line in capsys.readouterr().out.splitlines())


def test_replay_moves_a_stage_group_back_on_its_input_topic(
    own: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    produce(own, story(bundles=4, items_per_bundle=2, drop_every=0))
    planned = BUNDLES_PLANNED.full_name(own.kafka.topic_prefix)
    group = f"{own.kafka.topic_prefix}streams"
    probe = Consumer({"bootstrap.servers": own.kafka.bootstrap, "group.id": group})
    partitions = [TopicPartition(planned, p) for p in range(own.kafka.topic_partitions)]
    ends = [probe.get_watermark_offsets(tp, timeout=BROKER_REQUEST_S)[1] for tp in partitions]
    probe.close()
    monkeypatch.setenv("BUNDLESTREAM_TOPIC_PREFIX", own.kafka.topic_prefix)
    assert (
        main(["replay", "prepare", "--group", group, "--since", "2100-01-01T00:00:00+00:00"]) == 0
    )
    assert committed(own, group, partitions) == ends  # a time after the log: the end
    assert main(["replay", "prepare", "--group", group, "--offset", "0"]) == 0
    assert committed(own, group, partitions) == [0] * own.kafka.topic_partitions


def committed(settings: Settings, group: str, partitions: list[TopicPartition]) -> list[int]:
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap, "group.id": group})
    try:
        return [tp.offset for tp in consumer.committed(partitions, timeout=BROKER_REQUEST_S)]
    finally:
        consumer.close()


def test_events_tail_prints_what_arrives_after_it_starts(
    own: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    produce(own, story(bundles=1, items_per_bundle=1, drop_every=0))  # before: not shown
    monkeypatch.setenv("BUNDLESTREAM_TOPIC_PREFIX", own.kafka.topic_prefix)
    tail = threading.Thread(target=main, args=(["events", "tail", "--count", "1"],))
    tail.start()
    later = list(story(bundles=2, items_per_bundle=1, drop_every=0))[-1:]
    deadline = time.monotonic() + DEADLINE_S
    while tail.is_alive():  # until tail has seen one: it may start after the first send
        assert time.monotonic() < deadline, "events tail printed nothing"
        produce(own, later)
        tail.join(1.0)
    [line] = capsys.readouterr().out.splitlines()
    shown = json.loads(line)
    assert shown["event"] == type(later[0].event).__name__ == "BundleConfirmed"
    assert shown["topic"] == f"{own.kafka.topic_prefix}bundles.settled"
