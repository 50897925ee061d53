"""A consumer-group member that reads one event topic in batches and commits by hand.

For a stage that must not share the Faust workers' consumer (whose buffers and commits
are shared by every agent of the app): it makes progress, lags and is re-driven on its
own. confluent-kafka, called from a worker thread (``asyncio.to_thread``); librdkafka's
prefetch is capped, so memory stays bounded.
"""

import logging
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException

from bundlestream.adapters.kafka_config import (
    BOUNDED_PREFETCH_KBYTES,
    KafkaConnection,
    Membership,
    consumer_config,
)
from bundlestream.schemas.codec import DecodeError, decode

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Consumed:
    partition: int
    offset: int
    event: object


class GroupConsumer:
    """Reads ``topic`` as a member of ``group_id``, from the earliest offset of a
    partition the group never committed. Not for concurrent use."""

    def __init__(
        self, kafka: KafkaConnection, group_id: str, topic: str, max_poll_interval_s: float
    ) -> None:
        # A batch is handled between two polls; past max_poll_interval_s the member is
        # evicted.
        config = consumer_config(
            kafka,
            group_id,
            prefetch_kbytes=BOUNDED_PREFETCH_KBYTES,
            membership=Membership(max_poll_interval_s),
        )
        self._consumer = Consumer(config)
        self._consumer.subscribe([topic])

    def poll(self, max_messages: int, timeout_s: float) -> list[Consumed]:
        """Up to ``max_messages`` decoded events; an undecodable message is logged and
        skipped (it names an event this process cannot know about)."""
        batch = []
        for message in self._consumer.consume(max_messages, timeout_s):
            if message.error() is not None:
                continue
            try:
                event = decode(message.value() or b"")
            except DecodeError as exc:
                log.warning("%s@%s: %s", message.topic(), message.offset(), exc)
                continue
            batch.append(Consumed(message.partition() or 0, message.offset() or 0, event))
        return batch

    def commit(self) -> bool:
        """Commit everything consumed so far; False when the broker refused (e.g. the
        partitions moved to another member, which then reads them again)."""
        try:
            self._consumer.commit(asynchronous=False)
        except KafkaException as exc:
            log.warning("commit refused: %s", exc)
            return False
        return True

    def close(self) -> None:
        self._consumer.close()
