"""Events through a real Kafka broker: confluent-kafka producer, Faust agent, catalogue.

Each test works under its own topic prefix, so tests never see each other's messages.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import faust
import pytest
from aiokafka.partitioner import DefaultPartitioner
from confluent_kafka import Consumer, Message, TopicPartition
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # re-exported, not in __all__
    AdminClient,
    ConfigResource,
)

from bundlestream.adapters.kafka_producer import (
    BrokerUnavailable,
    Delivery,
    EventProducer,
    Outgoing,
)
from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.cli import main
from bundlestream.schemas.codec import decode, encode
from bundlestream.schemas.events import DataItemAccepted, DataItemReceived
from bundlestream.schemas.topics import CATALOGUE, DATA_ITEMS_DEDUPLICATED, DATA_ITEMS_RECEIVED
from bundlestream.settings import Settings
from bundlestream.streams.app import create_app, event_topic
from bundlestream.wiring import kafka_connection, topic_layout
from tests.ports import refused_port

pytestmark = pytest.mark.stack

# Upper bound on waiting for messages: a broken pipeline fails instead of hanging.
READ_DEADLINE_S = 180.0


@pytest.fixture
def own_topics(
    settings: Settings, kafka_bootstrap: str, unique_name: str, tmp_path: Path
) -> Settings:
    """Settings whose topics (all created) and Faust group belong to this test only."""
    own = settings.updated(
        kafka__topic_prefix=f"{unique_name}.",
        streams__app_id=unique_name,
        stack__dir=tmp_path,
    )
    create_topics(kafka_connection(own), topic_layout(own))
    return own


@pytest.fixture
async def producer(own_topics: Settings) -> AsyncIterator[EventProducer]:
    events = EventProducer(kafka_connection(own_topics))
    yield events
    await events.close()


def owner(n: int) -> str:
    """A distinct 43-character owner address per n."""
    return uuid.UUID(int=n).hex.ljust(43, "x")


def received(n: int) -> DataItemReceived:
    return DataItemReceived(
        data_item_id=f"item-{n:06d}".ljust(43, "0"),
        owner_address=owner(n),
        signature_type=1 + n % 7,
        raw_size=1100 + n,
        payload_start=1044,
        payload_size=56 + n,
        inline_item=bytes([n % 256]) * (1100 + n),
        received_at=datetime(2026, 11, 29, 2, n % 60, tzinfo=UTC),
        deadline_height=1_600_000 + n,
        winc=str(n * 10**12),
    )


def read_messages(bootstrap: str, topic: str, partitions: int, count: int) -> list[Message]:
    """Read ``count`` messages of a topic from the beginning of every partition."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{uuid.uuid4().hex}"})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    messages: list[Message] = []
    give_up = time.monotonic() + READ_DEADLINE_S
    try:
        while len(messages) < count and time.monotonic() < give_up:
            for message in consumer.consume(count - len(messages), timeout=1.0):
                assert message.error() is None, message.error()
                messages.append(message)
    finally:
        consumer.close()
    return messages


async def test_topics_create_is_idempotent_and_keeps_events_forever(
    own_topics: Settings,
) -> None:
    assert create_topics(kafka_connection(own_topics), topic_layout(own_topics)) == []
    admin = AdminClient({"bootstrap.servers": own_topics.kafka.bootstrap})
    names = [topic.full_name(own_topics.kafka.topic_prefix) for topic in CATALOGUE]
    metadata = admin.list_topics(timeout=READ_DEADLINE_S).topics
    for name in names:
        assert len(metadata[name].partitions) == own_topics.kafka.topic_partitions
    resource = ConfigResource(ConfigResource.Type.TOPIC, names[0])
    config = admin.describe_configs([resource])[resource].result(timeout=READ_DEADLINE_S)
    assert config["retention.ms"].value == "-1"
    assert config["retention.bytes"].value == "-1"
    assert config["cleanup.policy"].value == "delete"


async def test_an_event_round_trips_through_the_broker(
    own_topics: Settings, producer: EventProducer
) -> None:
    event = received(7)
    topic = DATA_ITEMS_RECEIVED.full_name(own_topics.kafka.topic_prefix)
    delivery = await producer.send(topic, event.owner_address, encode(event))
    assert delivery.topic == topic
    [message] = await asyncio.to_thread(
        read_messages, own_topics.kafka.bootstrap, topic, own_topics.kafka.topic_partitions, 1
    )
    assert (message.partition(), message.offset()) == (delivery.partition, delivery.offset)
    assert message.key() == event.owner_address.encode()
    assert decode(message.value() or b"") == event


async def test_send_all_acknowledges_each_message_of_a_batch_across_topics(
    own_topics: Settings, producer: EventProducer
) -> None:
    """One wait for two topics' messages: each result says where its message is."""
    prefix, events = own_topics.kafka.topic_prefix, [received(8), received(9)]
    topics = [DATA_ITEMS_RECEIVED.full_name(prefix), DATA_ITEMS_DEDUPLICATED.full_name(prefix)]
    sent = await producer.send_all(
        [Outgoing(t, e.owner_address, encode(e)) for t, e in zip(topics, events, strict=True)]
    )
    assert all(isinstance(d, Delivery) for d in sent)
    assert [d.topic for d in sent if isinstance(d, Delivery)] == topics
    for topic, event, delivery in zip(topics, events, sent, strict=True):
        partitions = own_topics.kafka.topic_partitions
        [message] = await asyncio.to_thread(
            read_messages, own_topics.kafka.bootstrap, topic, partitions, 1
        )
        assert isinstance(delivery, Delivery) and message.offset() == delivery.offset
        assert decode(message.value() or b"") == event


async def test_send_all_reports_a_refused_message_beside_an_acknowledged_one(
    own_topics: Settings, producer: EventProducer
) -> None:
    """A message the producer refuses to queue (above ``message.max.bytes``) fails alone:
    the batch's other message is still sent and acknowledged."""
    topic = DATA_ITEMS_RECEIVED.full_name(own_topics.kafka.topic_prefix)
    event = received(10)
    too_big = b"x" * (own_topics.kafka.max_message_bytes + 1)
    sent = await producer.send_all(
        [Outgoing(topic, owner(1), too_big), Outgoing(topic, owner(2), encode(event))]
    )
    assert isinstance(sent[0], BrokerUnavailable)
    assert isinstance(sent[1], Delivery)
    [message] = await asyncio.to_thread(
        read_messages, own_topics.kafka.bootstrap, topic, own_topics.kafka.topic_partitions, 1
    )
    assert decode(message.value() or b"") == event


async def test_confluent_and_faust_put_a_key_on_the_same_partition(
    own_topics: Settings, producer: EventProducer
) -> None:
    topic = DATA_ITEMS_RECEIVED.full_name(own_topics.kafka.topic_prefix)
    # The partitioner aiokafka (so Faust) uses when a message has a key and no partition.
    faust_partition = DefaultPartitioner()
    all_partitions = list(range(own_topics.kafka.topic_partitions))
    keys = [owner(n) for n in range(200)]
    deliveries = await asyncio.gather(
        *(producer.send(topic, key, encode(received(n))) for n, key in enumerate(keys))
    )
    for key, delivery in zip(keys, deliveries, strict=True):
        expected = faust_partition(key.encode(), all_partitions, all_partitions)
        assert delivery.partition == expected, key
    assert {d.partition for d in deliveries} == set(all_partitions)


async def test_a_faust_agent_decodes_and_emits_events(
    own_topics: Settings, producer: EventProducer
) -> None:
    """confluent-kafka → Faust agent (decode, decide, emit) → confluent-kafka reader.

    The agent re-keys nothing: each output lands on the partition its input came from,
    which holds only if Faust and confluent-kafka hash keys alike.
    """
    app = create_app(own_topics)
    source = event_topic(app, own_topics, DATA_ITEMS_RECEIVED)
    sink = event_topic(app, own_topics, DATA_ITEMS_DEDUPLICATED)
    add_accepting_agent(app, source, sink)
    await app.start()
    try:
        events = [received(n) for n in range(24)]
        deliveries = [
            await producer.send(source.get_topic_name(), e.owner_address, encode(e)) for e in events
        ]
        messages = await asyncio.to_thread(
            read_messages,
            own_topics.kafka.bootstrap,
            sink.get_topic_name(),
            own_topics.kafka.topic_partitions,
            len(events),
        )
    finally:
        await app.stop()
    assert_accepted(events, deliveries, messages)
    assert len({d.partition for d in deliveries}) > 1


def add_accepting_agent(app: faust.App, source: faust.TopicT, sink: faust.TopicT) -> None:
    """An agent that accepts every received item, as dedup will for first sightings."""

    @app.agent(source)
    async def accept(stream: faust.StreamT[DataItemReceived]) -> None:
        async for event in stream.events():
            item: DataItemReceived = event.value
            accepted = DataItemAccepted(
                data_item_id=item.data_item_id,
                owner_address=item.owner_address,
                raw_size=item.raw_size,
                payload_start=item.payload_start,
                received_partition=event.message.partition,
                received_offset=event.message.offset,
                received_at=item.received_at,
                accepted_at=item.received_at,
            )
            await sink.send(key=event.key, value=accepted)


def assert_accepted(
    events: list[DataItemReceived], deliveries: list[Delivery], messages: list[Message]
) -> None:
    by_id: dict[str, tuple[DataItemAccepted, Message]] = {}
    for message in messages:
        accepted = decode(message.value() or b"")
        assert isinstance(accepted, DataItemAccepted)
        by_id[accepted.data_item_id] = (accepted, message)
    assert len(by_id) == len(events) == len(messages)
    for event, delivery in zip(events, deliveries, strict=True):
        accepted, message = by_id[event.data_item_id]
        assert accepted.owner_address == event.owner_address
        assert (accepted.received_partition, accepted.received_offset) == (
            delivery.partition,
            delivery.offset,
        )
        assert message.key() == event.owner_address.encode()
        assert message.partition() == delivery.partition


async def test_send_without_a_broker_raises_broker_unavailable(settings: Settings) -> None:
    with refused_port() as port:  # held for the test: nobody else can start listening on it
        nowhere = settings.updated(
            kafka__bootstrap=f"127.0.0.1:{port}", kafka__delivery_timeout_s=1.0
        )
        producer = EventProducer(kafka_connection(nowhere))
        try:
            with pytest.raises(BrokerUnavailable):
                await producer.send("anything", owner(1), encode(received(1)))
        finally:
            await producer.close()


def test_the_topics_create_command_creates_each_topic_once(
    kafka_bootstrap: str,
    unique_name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BUNDLESTREAM_TOPIC_PREFIX", f"{unique_name}.")
    assert main(["topics", "create"]) == 0
    first = capsys.readouterr().out
    assert main(["topics", "create"]) == 0
    second = capsys.readouterr().out
    for topic in CATALOGUE:
        assert topic.full_name(f"{unique_name}.") in first
    assert "none (all exist)" in second
