"""Kafka producer port on confluent-kafka: an awaitable, acknowledged ``send``.

``send`` resolves only once every in-sync replica has the message (acks=all) and the
producer is idempotent, so a retried send inside librdkafka never duplicates or reorders
a message. That acknowledgement is what the upload API waits for before it signs a
receipt. Keys are hashed with murmur2 (``murmur2_random``: the Java client's partitioner,
which aiokafka and therefore Faust use too) so a key lands on the same partition
whichever client produced it.

librdkafka reports deliveries from ``poll``; a daemon thread polls and, once every
message of a ``send_all`` batch is reported, wakes the waiting coroutine's loop with one
``call_soon_threadsafe`` (one loop wake-up per batch: an upload that produces its charge
beside its item event waits once, not twice).
"""

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from bundlestream.adapters.kafka_config import KafkaConfig, KafkaConnection

log = logging.getLogger(__name__)

# Seconds the poll thread blocks per call: bounds how long close() waits for it.
_POLL_INTERVAL_S = 0.1
# Beyond librdkafka's own delivery timeout, how long send() still waits for its report.
_REPORT_GRACE_S = 5.0


class BrokerUnavailable(Exception):
    """No acknowledgement: the message may or may not be in the log (retry is safe)."""


@dataclass(frozen=True)
class Outgoing:
    """One message to produce: its topic, its key (the partitioner hashes it), its bytes."""

    topic: str
    key: str
    value: bytes


@dataclass(frozen=True)
class Delivery:
    """Where an acknowledged message now is."""

    topic: str
    partition: int
    offset: int


def producer_config(kafka: KafkaConnection) -> KafkaConfig:
    """librdkafka configuration of every bundlestream producer."""
    return {
        "bootstrap.servers": kafka.bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "partitioner": "murmur2_random",
        "message.timeout.ms": int(kafka.delivery_timeout_s * 1000),
        "message.max.bytes": kafka.max_message_bytes,
        # A lone upload should not wait for a batch to fill.
        "linger.ms": 1,
    }


class EventProducer:
    """Send encoded events; each ``send`` waits for its acks=all acknowledgement.

    Safe to share between coroutines of one process (and between event loops). Call
    ``close`` once, at shutdown: it flushes what is in flight.
    """

    def __init__(self, kafka: KafkaConnection) -> None:
        self._config = producer_config(kafka)
        self._report_timeout_s = kafka.delivery_timeout_s + _REPORT_GRACE_S
        self._producer = Producer(self._config, logger=log)
        self._closed = threading.Event()
        self._fatal = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="kafka-producer", daemon=True)
        self._poller.start()

    async def send(self, topic: str, key: str, value: bytes) -> Delivery:
        """Produce one message; return where it is once acknowledged by all replicas.

        Raises BrokerUnavailable when there is no acknowledgement within the delivery
        timeout (``KafkaConnection.delivery_timeout_s``), when the local queue is full, or when the
        broker refuses the message.
        """
        [sent] = await self.send_all([Outgoing(topic, key, value)])
        if isinstance(sent, BrokerUnavailable):
            raise sent
        return sent

    async def send_all(self, messages: Sequence[Outgoing]) -> list[Delivery | BrokerUnavailable]:
        """Produce ``messages`` together and wait once for all their acknowledgements.

        One result per message, in order: where it is, or the BrokerUnavailable that says
        it has no acknowledgement (as ``send`` would raise). One delivery report reaches
        the loop for the whole batch, whatever its length.
        """
        if self._fatal.is_set():
            self._replace_producer()
        loop = asyncio.get_running_loop()
        batch = _Batch(loop, len(messages), self._fatal)
        with batch.lock:  # reports wait until every message is queued
            for n, message in enumerate(messages):
                self._produce(batch, n, message)
        try:
            async with asyncio.timeout(self._report_timeout_s):
                await batch.future
        except TimeoutError:
            pass
        return batch.outcomes()

    def _produce(self, batch: "_Batch", n: int, message: Outgoing) -> None:
        try:
            self._producer.produce(
                message.topic, message.value, message.key.encode(), on_delivery=batch.reporter(n)
            )
        except (BufferError, KafkaException) as exc:
            batch.fail(n, BrokerUnavailable(f"{message.topic}: not queued: {exc}"))

    async def close(self) -> None:
        """Flush in-flight messages (up to the delivery timeout), then stop polling."""
        await asyncio.to_thread(self._producer.flush, self._report_timeout_s)
        self._closed.set()
        await asyncio.to_thread(self._poller.join)

    def _poll(self) -> None:
        while not self._closed.is_set():
            self._producer.poll(_POLL_INTERVAL_S)

    def _replace_producer(self) -> None:
        """Swap in a fresh producer after a fatal error (the old one refuses all sends).

        An idempotent producer turns fatal when the broker's sequence state and its own
        disagree beyond repair; only a new producer id recovers. Whatever the old one
        still held is purged, so its senders get BrokerUnavailable.
        """
        log.warning("replacing the Kafka producer after a fatal error")
        self._fatal.clear()
        old, self._producer = self._producer, Producer(self._config, logger=log)
        old.purge()
        old.poll(0)


class _Batch:
    """The delivery reports of one ``send_all``: filled on the poll thread under
    ``lock``; the last one to arrive wakes the waiting coroutine, once."""

    def __init__(self, loop: asyncio.AbstractEventLoop, size: int, fatal: threading.Event):
        self.lock = threading.Lock()
        self.loop = loop
        self.fatal = fatal
        self.future: asyncio.Future[None] = loop.create_future()
        self.results: list[Delivery | BrokerUnavailable | None] = [None] * size
        self.pending = size
        if size == 0:
            self.future.set_result(None)

    def reporter(self, n: int) -> Callable[[KafkaError | None, Message], None]:
        """The delivery callback of message ``n``; runs on the poll thread."""

        def report(error: KafkaError | None, message: Message) -> None:
            if error is not None and error.fatal():
                log.error("fatal Kafka producer error: %s", error)
                self.fatal.set()
            with self.lock:
                self._record(n, _outcome(error, message))
                if self.pending == 0:
                    self.loop.call_soon_threadsafe(_wake, self.future)

        return report

    def fail(self, n: int, failure: BrokerUnavailable) -> None:
        """Message ``n`` was never queued (called on the loop, ``lock`` held)."""
        self._record(n, failure)
        if self.pending == 0:
            _wake(self.future)

    def _record(self, n: int, outcome: Delivery | BrokerUnavailable) -> None:
        self.results[n] = outcome
        self.pending -= 1

    def outcomes(self) -> list[Delivery | BrokerUnavailable]:
        """Every result; a message still unreported has none (the wait timed out)."""
        with self.lock:
            return [
                BrokerUnavailable("no delivery report") if r is None else r for r in self.results
            ]


def _wake(future: "asyncio.Future[None]") -> None:
    if not future.done():  # the sender gave up (timeout or cancellation) meanwhile
        future.set_result(None)


def _outcome(error: KafkaError | None, message: Message) -> Delivery | BrokerUnavailable:
    if error is not None:
        return BrokerUnavailable(f"{message.topic()}: {error.name()}: {error.str()}")
    return Delivery(str(message.topic()), message.partition() or 0, message.offset() or 0)
