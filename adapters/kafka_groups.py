"""Moving a consumer group's committed offsets: how a stage is re-driven from the log.

Kafka accepts such a commit only from outside an active group, so the stage's workers
must be stopped first (the broker refuses otherwise, and ``reset_offsets`` says so).
"""

from datetime import datetime

from confluent_kafka import Consumer, KafkaException, TopicPartition

from bundlestream.adapters.event_log import partitions_of
from bundlestream.adapters.kafka_config import KafkaConnection, consumer_config

_TIMEOUT_S = 30.0


class GroupActive(Exception):
    """The group has live members: stop its workers, then reset."""


def reset_offsets(
    kafka: KafkaConnection,
    group_id: str,
    topic: str,
    offset: int | None,
    since: datetime | None,
) -> list[TopicPartition]:
    """Commit, for every partition of ``topic``, ``offset`` or the first offset at ``since``.

    Returns what was committed. A time after the last message commits the end.
    """
    consumer = Consumer(consumer_config(kafka, group_id))  # commits only, never fetches
    try:
        partitions = partitions_of(consumer, topic)
        positions = _positions(consumer, topic, partitions, offset, since)
        try:
            consumer.commit(offsets=positions, asynchronous=False)
        except KafkaException as exc:
            raise GroupActive(f"{group_id}: {exc.args[0].str()}") from exc
        return positions
    finally:
        consumer.close()


def _positions(
    consumer: Consumer,
    topic: str,
    partitions: list[int],
    offset: int | None,
    since: datetime | None,
) -> list[TopicPartition]:
    if since is None:
        return [TopicPartition(topic, p, offset or 0) for p in partitions]
    wanted = [TopicPartition(topic, p, int(since.timestamp() * 1000)) for p in partitions]
    found = consumer.offsets_for_times(wanted, timeout=_TIMEOUT_S)
    return [
        TopicPartition(topic, tp.partition, tp.offset if tp.offset >= 0 else _end(consumer, tp))
        for tp in found
    ]


def _end(consumer: Consumer, tp: TopicPartition) -> int:
    _, high = consumer.get_watermark_offsets(
        TopicPartition(tp.topic, tp.partition), timeout=_TIMEOUT_S
    )
    return int(high)
