"""One contract suite for the event-log publish port, run against Kafka (the producer
the API uses) and the in-memory fake the upload-path tests use."""

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from confluent_kafka import Consumer, TopicPartition

from bundlestream.adapters.kafka_producer import EventProducer
from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.api.resources import publisher
from bundlestream.api.upload_path import Publish, PublishFailed
from bundlestream.schemas.codec import decode
from bundlestream.schemas.events import DataItemReceived
from bundlestream.schemas.topics import DATA_ITEMS_RECEIVED
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout
from tests.fakes import MemoryEventLog

Messages = list[tuple[str, DataItemReceived]]


@dataclass
class Log:
    """A publish port, what its log holds now (key, event), and a port whose log is down."""

    publish: Publish
    read: Callable[[], Awaitable[Messages]]
    down: Publish


def received(n: int, owner: str) -> DataItemReceived:
    return DataItemReceived(
        data_item_id=f"item-{n}".ljust(43, "0"),
        owner_address=owner.ljust(43, "o"),
        signature_type=2,
        raw_size=1100 + n,
        payload_start=1000,
        payload_size=100 + n,
        received_at=datetime(2026, 12, 1, 0, 0, n, tzinfo=UTC),
        deadline_height=1_500_000 + n,
        winc="0",
        inline_item=bytes([n]) * (1100 + n),
        paid_by=("payer",),
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_topic(settings: Settings, topic: str) -> Messages:
    """Everything on ``topic``, partition by partition, read up to its high watermark."""
    consumer = Consumer(
        {"bootstrap.servers": settings.kafka.bootstrap, "group.id": "contract-reader"}
    )
    found: Messages = []
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        for partition in sorted(partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), 10)
            consumer.assign([TopicPartition(topic, partition, low)])
            for _ in range(low, high):
                message = consumer.poll(10)
                assert message is not None and message.error() is None
                event = decode(message.value() or b"")
                assert isinstance(event, DataItemReceived)
                found.append(((message.key() or b"").decode(), event))
        return found
    finally:
        consumer.close()


@pytest.fixture
async def kafka_log(
    settings: Settings, kafka_bootstrap: str, unique_name: str
) -> AsyncIterator[Log]:
    own = settings.updated(kafka__topic_prefix=f"{unique_name}.", kafka__topic_partitions=2)
    await asyncio.to_thread(create_topics, kafka_connection(own), topic_layout(own))
    topic = DATA_ITEMS_RECEIVED.full_name(own.kafka.topic_prefix)
    producer = EventProducer(kafka_connection(own))
    unreachable = own.updated(
        kafka__bootstrap=f"127.0.0.1:{closed_port()}", kafka__delivery_timeout_s=1.0
    )
    dead = EventProducer(kafka_connection(unreachable))
    yield Log(
        publisher(producer, topic),
        lambda: asyncio.to_thread(read_topic, own, topic),
        publisher(dead, topic),
    )
    await producer.close()
    await dead.close()


def memory_log() -> Log:
    log, dead = MemoryEventLog(), MemoryEventLog()
    dead.down = True

    async def read() -> Messages:
        return list(log.messages)

    return Log(log.publish, read, dead.publish)


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.stack)])
def log(request: pytest.FixtureRequest) -> Log:
    if request.param == "memory":
        return memory_log()
    kafka: Log = request.getfixturevalue("kafka_log")
    return kafka


async def test_a_published_event_is_in_the_log_keyed_by_its_owner(log: Log) -> None:
    event = received(1, "alice")
    await log.publish(event)
    assert await log.read() == [(event.owner_address, event)]


async def test_an_owners_events_keep_their_order(log: Log) -> None:
    events = [received(n, owner) for n, owner in enumerate("abaabba")]
    for event in events:
        await log.publish(event)
    messages = await log.read()
    for owner in "ab":
        key = owner.ljust(43, "o")
        assert [e for k, e in messages if k == key] == [e for e in events if e.owner_address == key]
    assert len(messages) == len(events)


async def test_a_log_that_is_down_raises_publish_failed(log: Log) -> None:
    with pytest.raises(PublishFailed):
        await log.down(received(2, "carol"))
    assert await log.read() == []
