"""Redrive of the dead-letter topic: messages that decode now go back where they came from.

A dead letter is a message some consumer could not decode (typically: written with a
schema version that consumer did not know yet). After the readers are upgraded,
``redrive`` consumes the dead-letter topic in its own consumer group: a message the
current reader decodes is produced again to its original topic (from the ``dlq.topic``
header) with its original key; one that still does not decode goes back to the end of
the dead-letter topic, so a later redrive sees it again. Offsets are committed only
after those writes are acknowledged.
"""

from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import Consumer, Message, Producer, TopicPartition

from bundlestream.adapters.event_log import partitions_of
from bundlestream.adapters.kafka_config import KafkaConnection, consumer_config
from bundlestream.adapters.kafka_producer import producer_config
from bundlestream.schemas.codec import DecodeError, decode
from bundlestream.schemas.topics import DEAD_LETTERS

_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Redriven:
    """What a redrive did."""

    returned: int  # produced again to their original topics
    kept: int  # still undecodable, appended to the dead-letter topic again


def _unreported(done: int, total: int) -> None:
    return None


def redrive(
    kafka: KafkaConnection,
    topic_prefix: str,
    dry_run: bool = False,
    report: Callable[[int, int], None] = _unreported,
) -> Redriven:
    """Drain the dead-letter topic once (what is there now); see the module doc.
    ``report`` hears (dead letters handled, dead letters to handle) as it goes."""
    topic = DEAD_LETTERS.full_name(topic_prefix)
    consumer = Consumer(consumer_config(kafka, f"{topic_prefix}dead-letters-redrive"))
    producer = Producer(producer_config(kafka))
    returned = kept = 0
    consumed: list[Message] = []
    try:
        # Only what is there now: re-appended dead letters are for the next redrive.
        left, total = _assign_up_to_end(consumer, topic)
        report(0, total)
        while left:
            message = consumer.poll(1.0)
            if message is None or message.error() is not None:
                continue
            tp = (str(message.topic()), message.partition() or 0)
            if (message.offset() or 0) >= left.get(tp, 0):
                continue
            if (message.offset() or 0) + 1 >= left[tp]:
                del left[tp]
            home = _origin(message)
            returned, kept = (returned + 1, kept) if home else (returned, kept + 1)
            if not dry_run and home:
                producer.produce(home, message.value(), message.key())
            elif not dry_run:
                producer.produce(topic, message.value(), message.key(), headers=message.headers())
            consumed.append(message)
            report(len(consumed), total)
        if not dry_run and consumed:
            if producer.flush(kafka.delivery_timeout_s) > 0:
                raise RuntimeError("redriven messages not acknowledged; offsets not committed")
            consumer.commit(offsets=_next_positions(consumed), asynchronous=False)
    finally:
        consumer.close()
    return Redriven(returned, kept)


def _assign_up_to_end(consumer: Consumer, topic: str) -> tuple[dict[tuple[str, int], int], int]:
    """Assign every partition from the group's committed offset; the ends to stop at, and
    how many offsets lie before them."""
    partitions = [TopicPartition(topic, p) for p in partitions_of(consumer, topic)]
    starts = consumer.committed(partitions, timeout=_TIMEOUT_S)
    left, total = {}, 0
    for start in starts:
        _, end = consumer.get_watermark_offsets(start, timeout=_TIMEOUT_S)
        begin = start.offset if start.offset >= 0 else 0
        if end > begin:
            left[(topic, start.partition)] = end
            total += end - begin
        start.offset = begin
    consumer.assign(starts)
    return left, total


def _origin(message: Message) -> str | None:
    """The original topic when the message decodes now, else None."""
    try:
        decode(message.value() or b"")
    except DecodeError:
        return None
    headers = message.headers() or []
    pairs = headers.items() if isinstance(headers, dict) else headers
    origin = dict(pairs).get("dlq.topic")
    if origin is None:
        return None
    return origin.decode() if isinstance(origin, bytes) else origin


def _next_positions(messages: list[Message]) -> list[TopicPartition]:
    ends: dict[tuple[str, int], int] = {}
    for m in messages:
        tp = (str(m.topic()), m.partition() or 0)
        ends[tp] = max(ends.get(tp, 0), (m.offset() or 0) + 1)
    return [TopicPartition(t, p, o) for (t, p), o in ends.items()]
