"""Inline data items read back from ``data-items.received`` by partition and offset.

Small items travel inside their DataItemReceived event instead of the object store
(the upload path's one durable write is then the Kafka write). Prepare needs their bytes
again: a plan's items all come from one owner partition, mostly in offset order, so one
consumer reads forward through that partition and seeks only when the next wanted
offset lies behind it. librdkafka's prefetch is capped, so memory stays bounded.
"""

from collections.abc import Iterator

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from bundlestream.adapters.kafka_config import (
    BOUNDED_PREFETCH_KBYTES,
    KafkaConnection,
    consumer_config,
)
from bundlestream.schemas.codec import DecodeError, decode
from bundlestream.schemas.events import DataItemReceived
from bundlestream.schemas.topics import DATA_ITEMS_RECEIVED

_POLL_S = 1.0
_MAX_EMPTY_POLLS = 30
# Messages the reader skips through rather than seek (other owners' items in between).
_READ_AHEAD = 5000


class ReceivedItemError(Exception):
    """The event at that position is missing, unreadable, or carries no inline item."""


class ReceivedItemReader:
    """Sequential random access to one process's reads; not for concurrent use."""

    def __init__(self, kafka: KafkaConnection, topic_prefix: str, group_id: str) -> None:
        """``group_id``: never joined (assign only), so never committed to."""
        self._topic = DATA_ITEMS_RECEIVED.full_name(topic_prefix)
        # An offset out of range (truncated away) resets to the log's start, past it:
        # ``_message_at`` then fails at once instead of waiting at the end.
        config = consumer_config(
            kafka, group_id, prefetch_kbytes=BOUNDED_PREFETCH_KBYTES, fetch_wait_ms=20
        )
        self._consumer = Consumer(config)
        self._next: tuple[int, int] | None = None  # (partition, offset) the consumer is at

    def read(self, partition: int, offset: int) -> bytes:
        """The inline item of the DataItemReceived at ``partition``/``offset``."""
        at = self._next
        if at is None or at[0] != partition or not 0 <= offset - at[1] < _READ_AHEAD:
            self._consumer.assign([TopicPartition(self._topic, partition, offset)])
        message = self._message_at(offset)
        self._next = (partition, offset + 1)
        try:
            event = decode(message.value() or b"")
        except DecodeError as exc:
            raise ReceivedItemError(f"{self._topic}/{partition}@{offset}: {exc}") from exc
        if not isinstance(event, DataItemReceived) or event.inline_item is None:
            raise ReceivedItemError(f"{self._topic}/{partition}@{offset}: no inline item")
        return event.inline_item

    def _message_at(self, offset: int) -> Message:
        empty = 0
        while empty < _MAX_EMPTY_POLLS:
            try:
                message = self._consumer.poll(_POLL_S)
            except KafkaException as exc:
                raise ReceivedItemError(str(exc)) from exc
            if message is None or message.error() is not None:
                empty += 1
                continue
            if message.offset() == offset:
                return message
            if (message.offset() or 0) > offset:  # compacted or truncated away: cannot be
                break
        self._next = None
        raise ReceivedItemError(f"{self._topic}: offset {offset} not read")

    def items(self, positions: list[tuple[int, int]]) -> Iterator[bytes]:
        """Inline items at ``positions``, in that order."""
        for partition, offset in positions:
            yield self.read(partition, offset)

    def close(self) -> None:
        self._consumer.close()
