"""Every event of the log that mentions an id (an item, a bundle, an owner), in order.

The log has no index by id, so each catalogue topic is read by explicit assignment
(``event_log.reader``: no group, no commits) from its first to its current last offset.
A message is kept when its key is the id or its raw value contains it: Avro writes a
string as its length and its UTF-8 bytes (Avro 1.11 specification, "Binary
Encoding"), so an id inside any field is a substring of the value. The cost grows with
the log; docs/benchmarks.md has it measured.
"""

from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer, Message, TopicPartition

from bundlestream.adapters.event_log import message_json, partitions_of, reader
from bundlestream.adapters.kafka_config import KafkaConnection
from bundlestream.schemas.topics import CATALOGUE

_TIMEOUT_S = 10.0
_POLL_S = 0.2


def events_mentioning(
    kafka: KafkaConnection, topic_prefix: str, needles: list[str]
) -> list[dict[str, Any]]:
    """The decoded messages of every catalogue topic whose key or value holds one of
    ``needles``, ordered by broker timestamp, then by the catalogue's stage order."""
    wanted = [needle.encode() for needle in needles]
    stage = {topic.full_name(topic_prefix): i for i, topic in enumerate(CATALOGUE)}
    consumer = reader(kafka)
    try:
        found = [
            message_json(message)
            for topic in stage
            for message in read_whole(consumer, topic)
            if any(w == message.key() or w in (message.value() or b"") for w in wanted)
        ]
    finally:
        consumer.close()
    return sorted(found, key=lambda m: (m["timestamp"], stage[m["topic"]], m["offset"]))


def read_whole(consumer: Consumer, topic: str) -> Iterator[Message]:
    """Every message of ``topic`` up to its last offset now, partition by partition."""
    for partition in partitions_of(consumer, topic):
        low, high = consumer.get_watermark_offsets(
            TopicPartition(topic, partition), timeout=_TIMEOUT_S
        )
        if high <= low:
            continue
        consumer.assign([TopicPartition(topic, partition, low)])
        yield from _until(consumer, TopicPartition(topic, partition), high)


def _until(consumer: Consumer, where: TopicPartition, high: int) -> Iterator[Message]:
    """Messages until the position reaches ``high``. The last offsets may hold no message
    (a transaction's commit marker takes an offset, KIP-98), so waiting for the message
    at ``high - 1`` could wait for ever: the consumer's position says when it is past."""
    while True:
        message = consumer.poll(_POLL_S)
        if message is not None and message.error() is None:
            yield message
        [position] = consumer.position([where])
        if position.offset >= high:
            return
