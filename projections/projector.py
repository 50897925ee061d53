"""The projector: a batched confluent-kafka consumer that feeds the read models.

Each batch is decoded, turned into rows by the read models' evolve functions and
written with the consumed offsets in one Postgres transaction (``postgres.write_batch``).
The offsets in Postgres are the truth: on assignment the consumer seeks to them, and a
redelivered message below them is skipped, so a crash at any point neither loses nor
repeats a row. Undecodable messages go to the dead-letter topic, acknowledged before
the batch that skips them commits.
"""

import gc
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    Message,
    Producer,
    TopicPartition,
)

from bundlestream.adapters.kafka_config import consumer_config
from bundlestream.adapters.kafka_producer import producer_config
from bundlestream.projections import postgres
from bundlestream.projections.projection import project
from bundlestream.projections.records import EventRecord, decode_record
from bundlestream.projections.rows import Position
from bundlestream.schemas.codec import DecodeError
from bundlestream.schemas.topics import CATALOGUE, DEAD_LETTERS
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection

log = logging.getLogger(__name__)

_POLL_TIMEOUT_S = 0.5


Events = list[tuple[EventRecord, Position]]
DeadLetters = list[tuple[Message, str]]


@dataclass
class BatchReport:
    """What one batch did: events projected, dead letters, and the partitions' positions;
    the events by name, and the seconds from their arrival to the commit."""

    events: int
    dead_letters: int
    positions: postgres.Offsets
    by_event: dict[str, int]
    elapsed_s: float


@contextmanager
def garbage_collected_per_batch() -> Iterator[Callable[[], None]]:
    """Cyclic GC for the batches of a projector or a replay: call the function yielded
    after each batch. GC state is restored on exit (a replay may run in the caller's
    process).

    A batch allocates hundreds of thousands of short-lived dicts and tuples, none in a
    cycle, and refcounting frees them. The collector's own schedule scans them anyway:
    ~15 % of a replay's CPU at the default threshold (700), still ~1.3 µs an event at
    100,000 (measured, bench and in process). So automatic collection is off inside,
    what exists on entry is frozen (never scanned again), and one collection after each
    batch, when its objects are gone, finds whatever cycles there are among the few
    survivors.
    """
    was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield _collect
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def _collect() -> None:
    gc.collect()


def projected_topics(settings: Settings) -> list[str]:
    """Every catalogue topic but the dead letters, under the deployment prefix."""
    return [t.full_name(settings.kafka.topic_prefix) for t in CATALOGUE if t is not DEAD_LETTERS]


class Projector:
    """Consume the event topics into the read models of ``schema``."""

    def __init__(self, settings: Settings, schema: str, group_id: str, bulk: bool = False) -> None:
        """``bulk``: the schema is being bulk-loaded (``postgres.begin_bulk_load``)."""
        self._settings = settings
        self._schema = schema
        self._bulk = bulk
        self._conn = postgres.connect(settings.postgres.dsn.get_secret_value())
        self._expected: postgres.Offsets = {}
        self._kafka = kafka_connection(settings)
        # Postgres holds the offsets; Kafka's copy (committed per batch) is for lag
        # dashboards only.
        self._consumer = Consumer(consumer_config(self._kafka, group_id), logger=log)
        self._dead_letters: Producer | None = None
        self._dead_letter_topic = DEAD_LETTERS.full_name(settings.kafka.topic_prefix)

    def start(self, topics: list[str] | None = None) -> None:
        """Subscribe; partitions start where Postgres says they were projected to."""
        self._consumer.subscribe(
            topics or projected_topics(self._settings), on_assign=self._on_assign
        )

    def assign(self, topics: list[str]) -> None:
        """Read every partition of ``topics`` without joining a group (a replay): no
        rebalance to wait for, and partitions start where Postgres says."""
        partitions = [TopicPartition(t, p) for t, p in self.end_offsets(topics)]
        self._on_assign(self._consumer, partitions)

    def close(self) -> None:
        self._consumer.close()
        self._conn.close()
        if self._dead_letters is not None:
            self._dead_letters.flush(30)

    def end_offsets(self, topics: list[str] | None = None) -> postgres.Offsets:
        """The high watermark of every partition of ``topics``: where the log ends now."""
        ends: postgres.Offsets = {}
        for topic in topics or projected_topics(self._settings):
            metadata = self._consumer.list_topics(topic, timeout=30).topics[topic]
            if metadata.error is not None:
                raise RuntimeError(f"{topic}: {metadata.error}")
            for partition in metadata.partitions:
                _, high = self._consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=30
                )
                ends[(topic, partition)] = high
        return ends

    def run(self, stop: Callable[[], bool], on_batch: Callable[[BatchReport], None]) -> None:
        """Project batches until ``stop()`` is true."""
        with garbage_collected_per_batch() as collect_garbage:
            while not stop():
                report = self.project_batch()
                if report is not None:
                    collect_garbage()
                    on_batch(report)

    def project_batch(self, at_most: int | None = None) -> BatchReport | None:
        """Consume, project and commit one batch; None when nothing arrived.

        ``at_most``: fewer messages than a full batch (a replay asks for what is left of
        its topic, so that its last batch does not wait out the poll timeout).
        """
        size = self._settings.postgres.projector_batch_size
        messages = self._consumer.consume(min(size, at_most or size), _POLL_TIMEOUT_S)
        started = time.perf_counter()
        events, dead, next_offsets = self._decode(messages)
        if not next_offsets:
            return None
        self._send_dead_letters(dead)
        try:
            postgres.write_batch(
                self._conn,
                self._schema,
                project(events),
                {tp: self._expected.get(tp, 0) for tp in next_offsets},
                next_offsets,
                self._bulk,
            )
        except postgres.OffsetsMoved as moved:
            self._rewind(next_offsets, moved.tracked)
            return None
        self._expected.update(next_offsets)
        self._consumer.commit(offsets=_partitions(next_offsets), asynchronous=True)
        return BatchReport(
            len(events),
            len(dead),
            dict(self._expected),
            dict(Counter(event.name for event, _ in events)),
            time.perf_counter() - started,
        )

    def _decode(self, messages: list[Message]) -> tuple[Events, DeadLetters, postgres.Offsets]:
        """The batch's new messages decoded (or dead), and each partition's next offset.

        One pass, per-message work kept to the minimum: it runs for every event.
        Messages below the tracked offset were projected already (a redelivery).
        """
        events: Events = []
        dead: DeadLetters = []
        next_offsets: postgres.Offsets = {}
        expected = self._expected
        for message in messages:
            if message.error() is not None:
                _log_error(message)
                continue
            tp = (message.topic() or "", message.partition() or 0)
            offset = message.offset() or 0
            if offset < expected.get(tp, 0):
                continue
            try:
                event = decode_record(message.value() or b"")
            except DecodeError as exc:
                dead.append((message, str(exc)))
            else:
                events.append((event, Position(tp[0], tp[1], offset)))
            next_offsets[tp] = offset + 1  # a partition's messages arrive in offset order
        return events, dead, next_offsets

    def _send_dead_letters(self, dead: list[tuple[Message, str]]) -> None:
        """Produce and wait: a dead letter is in Kafka before its offset is committed."""
        if not dead:
            return
        if self._dead_letters is None:
            self._dead_letters = Producer(producer_config(self._kafka), logger=log)
        for message, error in dead:
            log.error(
                "dead letter %s/%s@%s: %s",
                message.topic(),
                message.partition(),
                message.offset(),
                error,
            )
            self._dead_letters.produce(
                self._dead_letter_topic,
                message.value(),
                message.key(),
                headers=dead_letter_headers(message, error),
            )
        if self._dead_letters.flush(self._kafka.delivery_timeout_s) > 0:
            raise RuntimeError("dead letters not acknowledged; not committing the batch")

    def _rewind(self, batch: postgres.Offsets, tracked: postgres.Offsets) -> None:
        """Nothing of the batch was written: read its partitions again from Postgres' view."""
        for tp in batch:
            self._expected[tp] = tracked.get(tp, self._expected.get(tp, 0))
            log.info("rewinding %s[%s] to %s", tp[0], tp[1], self._expected[tp])
            self._consumer.seek(TopicPartition(tp[0], tp[1], self._expected[tp]))

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        tracked = postgres.tracked_offsets(self._conn, self._schema)
        for partition in partitions:
            tp = (partition.topic, partition.partition)
            self._expected[tp] = tracked.get(tp, 0)
            partition.offset = tracked.get(tp, OFFSET_BEGINNING)
        consumer.assign(partitions)


def dead_letter_headers(message: Message, error: str) -> list[tuple[str, str | bytes | None]]:
    """Where a dead letter came from and why it could not be read."""
    return [
        ("dlq.topic", str(message.topic()).encode()),
        ("dlq.partition", str(message.partition()).encode()),
        ("dlq.offset", str(message.offset()).encode()),
        ("dlq.error", error.encode()),
    ]


def _log_error(message: Message) -> None:
    error = message.error()
    if error is not None and error.code() != KafkaError._PARTITION_EOF:
        log.warning("consumer error: %s", error)


def _partitions(offsets: postgres.Offsets) -> list[TopicPartition]:
    return [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
