"""Consumer lag of a group on a topic: the log's end minus the group's committed offsets,
and how long the oldest message the group has not committed has waited.

Read with consumers that never join the group (``committed`` only asks the group
coordinator; the oldest waiting message is read by explicit assignment), so measuring
lag never rebalances the stage it measures.
"""

import time
from dataclasses import dataclass

from confluent_kafka import Consumer, TopicPartition

from bundlestream.adapters.event_log import UnknownTopic, partitions_of, reader
from bundlestream.adapters.kafka_config import KafkaConnection, consumer_config

_TIMEOUT_S = 10.0
# Reading the first uncommitted message of each waiting partition: at most this long.
_OLDEST_READ_S = 3.0
_POLL_S = 0.2


@dataclass(frozen=True)
class Backlog:
    """What a group has not committed on one topic: how many messages, and the broker
    timestamp (epoch ms) of the oldest of them (None: none waiting, or not read)."""

    lag: int
    oldest_ms: int | None


def group_lag(kafka: KafkaConnection, group_id: str, topics: list[str]) -> dict[str, int]:
    """Per topic: messages the group has not committed yet (a partition it never
    committed counts from the partition's start)."""
    consumer = Consumer(consumer_config(kafka, group_id))
    try:
        return {topic: sum(lag for _, lag in _waiting(consumer, topic)) for topic in topics}
    finally:
        consumer.close()


def group_backlog(kafka: KafkaConnection, group_id: str, topics: list[str]) -> dict[str, Backlog]:
    """Per topic: the group's lag and the timestamp of its oldest uncommitted message."""
    consumer = Consumer(consumer_config(kafka, group_id))
    try:
        waiting = {topic: _waiting(consumer, topic) for topic in topics}
    finally:
        consumer.close()
    firsts = [tp for found in waiting.values() for tp, lag in found if lag > 0]
    stamps = _timestamps_at(kafka, firsts) if firsts else {}
    return {
        topic: Backlog(
            sum(lag for _, lag in found),
            min((stamps[_where(tp)] for tp, _ in found if _where(tp) in stamps), default=None),
        )
        for topic, found in waiting.items()
    }


def _waiting(consumer: Consumer, topic: str) -> list[tuple[TopicPartition, int]]:
    """Each partition at the group's first uncommitted offset, with its lag."""
    try:
        partitions = [TopicPartition(topic, p) for p in partitions_of(consumer, topic)]
    except UnknownTopic:
        return []  # not created yet: nothing to consume
    found = []
    for committed in consumer.committed(partitions, timeout=_TIMEOUT_S):
        low, high = consumer.get_watermark_offsets(committed, timeout=_TIMEOUT_S)
        start = committed.offset if committed.offset >= 0 else low
        found.append((TopicPartition(topic, committed.partition, start), high - start))
    return found


def _where(tp: TopicPartition) -> tuple[str, int]:
    return tp.topic, tp.partition


def _timestamps_at(
    kafka: KafkaConnection, positions: list[TopicPartition]
) -> dict[tuple[str, int], int]:
    """The broker timestamp of the first message at or after each position (a partition
    whose message does not arrive within ``_OLDEST_READ_S`` is left out)."""
    consumer = reader(kafka)
    stamps: dict[tuple[str, int], int] = {}
    try:
        consumer.assign(positions)
        deadline = time.monotonic() + _OLDEST_READ_S
        while len(stamps) < len(positions) and time.monotonic() < deadline:
            message = consumer.poll(_POLL_S)
            if message is None or message.error() is not None:
                continue
            where = (message.topic() or "", message.partition() or 0)
            if where not in stamps:
                stamps[where] = message.timestamp()[1]
                consumer.pause([TopicPartition(*where)])
    finally:
        consumer.close()
    return stamps
