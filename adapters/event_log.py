"""Reading the event log by position or time, as JSON, for people and tools.

Backs ``bundlestream events show|tail|redrive`` and ``bundlestream replay``. Reads with
confluent-kafka consumers that never join a group (explicit ``assign``), so inspecting
the log never disturbs the pipeline's consumer groups.
"""

import base64
import dataclasses
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, Message, TopicPartition

from bundlestream.adapters.kafka_config import KafkaConnection, consumer_config
from bundlestream.schemas.codec import DecodeError, decode
from bundlestream.schemas.topics import CATALOGUE

_TIMEOUT_S = 30.0


class UnknownTopic(Exception):
    """Neither a catalogue topic nor a topic on the broker."""


def full_topic_name(topic_prefix: str, name: str) -> str:
    """A catalogue name (``bundles.planned``) under the prefix, or a full name as given."""
    catalogued = {topic.name for topic in CATALOGUE}
    return topic_prefix + name if name in catalogued else name


def reader(kafka: KafkaConnection) -> Consumer:
    """A consumer for explicit assignments: no group membership, no commits.

    An offset past a partition's end resets to the end (``start_positions``' promise).
    """
    # The group is never joined (assign only); librdkafka requires one all the same.
    return Consumer(consumer_config(kafka, "bundlestream-event-reader", offset_reset="latest"))


def partitions_of(consumer: Consumer, topic: str) -> list[int]:
    metadata = consumer.list_topics(topic, timeout=_TIMEOUT_S).topics.get(topic)
    if metadata is None or metadata.error is not None:
        raise UnknownTopic(topic)
    return sorted(metadata.partitions)


def start_positions(
    consumer: Consumer,
    topic: str,
    partition: int | None,
    offset: int | None,
    since: datetime | None,
) -> list[TopicPartition]:
    """Where to start reading: an offset, the first offset at or after a time, or the start.

    An offset past the end, or a time after the last message, starts at the end.
    """
    chosen = [partition] if partition is not None else partitions_of(consumer, topic)
    if since is not None:
        wanted = [TopicPartition(topic, p, int(since.timestamp() * 1000)) for p in chosen]
        found = consumer.offsets_for_times(wanted, timeout=_TIMEOUT_S)
        return [TopicPartition(topic, tp.partition, _or_end(tp.offset)) for tp in found]
    start = OFFSET_BEGINNING if offset is None else offset
    return [TopicPartition(topic, p, start) for p in chosen]


def _or_end(offset: int) -> int:
    return OFFSET_END if offset < 0 else offset


def end_positions(consumer: Consumer, topics: list[str]) -> list[TopicPartition]:
    return [
        TopicPartition(topic, p, OFFSET_END)
        for topic in topics
        for p in partitions_of(consumer, topic)
    ]


def read(
    consumer: Consumer, positions: list[TopicPartition], limit: int | None, follow: bool
) -> Iterator[Message]:
    """Messages from ``positions``; stops after ``limit``, or when idle unless ``follow``."""
    consumer.assign(positions)
    count, idle = 0, 0
    while limit is None or count < limit:
        message = consumer.poll(1.0)
        if message is None:
            idle += 1
            if not follow and idle >= 3:
                return
            continue
        idle = 0
        if message.error() is None:
            count += 1
            yield message


def message_json(message: Message) -> dict[str, Any]:
    """Where a message is, its key, and its event (name and fields) or why it is unreadable."""
    _, timestamp = message.timestamp()
    key = message.key()
    body: dict[str, Any] = {
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "timestamp": timestamp,
        "key": key.decode(errors="replace") if key is not None else None,
    }
    headers = message.headers()
    if headers:
        pairs = headers.items() if isinstance(headers, dict) else headers
        body["headers"] = {k: _text(v) for k, v in pairs}
    try:
        event = decode(message.value() or b"")
    except DecodeError as exc:
        return {**body, "error": str(exc)}
    return {**body, "event": type(event).__name__, "fields": _plain(dataclasses.asdict(event))}


def _text(value: str | bytes | None) -> str | None:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()  # standard base64, as Avro JSON tools print
    return value
