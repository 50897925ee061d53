"""Kafka producer port on confluent-kafka: an awaitable, acknowledged ``send``.

``send`` resolves only once every in-sync replica has the message (acks=all) and the
producer is idempotent, so a retried send inside librdkafka never duplicates or reorders
a message. That acknowledgement is what the upload API waits for before it signs a
receipt. Keys are hashed with murmur2 (``murmur2_random``: the Java client's partitioner,
which aiokafka and therefore Faust use too) so a key lands on the same partition
whichever client produced it.

librdkafka reports deliveries from ``poll``; a daemon thread polls and hands each result
to the waiting coroutine's loop with ``call_soon_threadsafe``.
"""

import asyncio
import logging
import threading
from collections.abc import Callable
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
        if self._fatal.is_set():
            self._replace_producer()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Delivery] = loop.create_future()
        try:
            self._producer.produce(
                topic, value, key.encode(), on_delivery=self._reporter(loop, future)
            )
        except (BufferError, KafkaException) as exc:
            raise BrokerUnavailable(f"{topic}: not queued: {exc}") from exc
        try:
            async with asyncio.timeout(self._report_timeout_s):
                return await future
        except TimeoutError as exc:
            raise BrokerUnavailable(f"{topic}: no delivery report") from exc

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

    def _reporter(
        self, loop: asyncio.AbstractEventLoop, future: "asyncio.Future[Delivery]"
    ) -> Callable[[KafkaError | None, Message], None]:
        """The delivery callback of one message; runs on the poll thread."""

        def report(error: KafkaError | None, message: Message) -> None:
            if error is not None and error.fatal():
                log.error("fatal Kafka producer error: %s", error)
                self._fatal.set()
            loop.call_soon_threadsafe(_settle, future, error, message)

        return report


def _settle(future: "asyncio.Future[Delivery]", error: KafkaError | None, message: Message) -> None:
    if future.done():  # the sender gave up (timeout or cancellation) meanwhile
        return
    if error is not None:
        failure = f"{message.topic()}: {error.name()}: {error.str()}"
        future.set_exception(BrokerUnavailable(failure))
        return
    future.set_result(
        Delivery(str(message.topic()), message.partition() or 0, message.offset() or 0)
    )
