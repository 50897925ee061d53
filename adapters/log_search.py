"""Every event of the log that mentions an id (an item, a bundle, an owner), in order.

The log has no index by id, so each catalogue topic is read by explicit assignment
(``event_log.reader``: no group, no commits) from its first to its current last offset.
A message is kept when its key is the id or its raw value contains it: Avro writes a
string as its length and its UTF-8 bytes (Avro 1.11 specification, "Binary
Encoding"), so an id inside any field is a substring of the value. The cost grows with
the log; docs/benchmarks.md has it measured.

Every partition is read in one pass: each topic's metadata (asked for by name: the
whole cluster's metadata took 2 s on a broker with many test topics) and every
watermark before anything is assigned, then one assignment of all the non-empty
partitions consumed in batches. Read a partition at a time, each read ended by a fetch
left waiting at the partition's end (librdkafka's ``fetch.wait.max.ms``, 500 ms), and
the next partition's watermark query queued behind that fetch: a lookup of a
6,549-event log took 25 s, nearly all of it waiting (measured, docs/benchmarks.md).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, Message, TopicPartition

from bundlestream.adapters.event_log import UnknownTopic, message_json, partitions_of, reader
from bundlestream.adapters.kafka_config import KafkaConnection
from bundlestream.schemas.topics import CATALOGUE

_TIMEOUT_S = 10.0
_BATCH = 1000
_POLL_S = 0.2


@dataclass(frozen=True)
class Mentions:
    """The newest decoded messages that mention the ids, oldest first, and how many
    messages mention them in all."""

    events: list[dict[str, Any]]
    total: int


def events_mentioning(
    kafka: KafkaConnection, topic_prefix: str, needles: list[str], newest: int | None = None
) -> Mentions:
    """The messages of every catalogue topic whose key or value holds one of
    ``needles``, ordered by broker timestamp, then by the catalogue's stage order; only
    the ``newest`` last of them decoded (an owner's story can run to thousands)."""
    wanted = [needle.encode() for needle in needles]
    stage = {topic.full_name(topic_prefix): i for i, topic in enumerate(CATALOGUE)}
    consumer = reader(kafka)
    try:
        found = [
            message
            for message in read_whole(consumer, *stage)
            if any(w == message.key() or w in (message.value() or b"") for w in wanted)
        ]
    finally:
        consumer.close()
    found.sort(key=lambda m: (m.timestamp()[1], stage[m.topic() or ""], m.offset() or 0))
    shown = found if newest is None else found[-newest:] if newest > 0 else []
    return Mentions([message_json(m) for m in shown], len(found))


def read_whole(consumer: Consumer, *topics: str) -> Iterator[Message]:
    """Every message of ``topics`` up to each partition's last offset now (a topic that
    does not exist has none), in no order across partitions."""
    ends = {}
    for topic in topics:
        try:
            partitions = partitions_of(consumer, topic)
        except UnknownTopic:
            continue
        for partition in partitions:
            where = TopicPartition(topic, partition)
            low, high = consumer.get_watermark_offsets(where, timeout=_TIMEOUT_S)
            if high > low:
                ends[(topic, partition)] = (low, high)
    if not ends:
        return
    consumer.assign([TopicPartition(t, p, low) for (t, p), (low, _) in ends.items()])
    yield from _until_ends(consumer, {where: high for where, (_, high) in ends.items()})


def _until_ends(consumer: Consumer, ends: dict[tuple[str, int], int]) -> Iterator[Message]:
    """Messages until every partition's position reaches its end. The last offsets may
    hold no message (a transaction's commit marker takes an offset, KIP-98), so waiting
    for the message at ``high - 1`` could wait for ever: the consumer's position says
    when a partition is past its end."""
    while ends:
        done = []
        for message in consumer.consume(_BATCH, _POLL_S):
            if message.error() is not None:
                continue
            where = (message.topic() or "", message.partition() or 0)
            end = ends.get(where)
            if end is None:
                continue  # a partition already read to its end
            if (message.offset() or 0) < end:
                yield message
            if (message.offset() or 0) >= end - 1:
                done.append(where)
        done += _past_end(consumer, ends)
        for where in set(done):
            ends.pop(where, None)
        if done:
            consumer.pause([TopicPartition(t, p) for t, p in set(done)])


def _past_end(consumer: Consumer, ends: dict[tuple[str, int], int]) -> list[tuple[str, int]]:
    positions = consumer.position([TopicPartition(t, p) for t, p in ends])
    return [
        (tp.topic, tp.partition) for tp in positions if tp.offset >= ends[(tp.topic, tp.partition)]
    ]
