"""The ledger feed: applies the ledger topic to the spendable view, each event once.

Every API process runs one. It reads every partition of the ledger topic by assignment
(no group: each feed reads all of it), from the offset after the last one the view
applied; ``SpendableView.apply`` skips an offset already applied, so several feeds (or a
feed restarted after a crash) apply each event exactly once.

A view that Redis lost (no ``alive`` key) is rebuilt from offset 0. It becomes ``ready``
only once the feed has read to the end of every partition *and* one producer delivery
timeout has passed since the rebuild began: a charge reserved in the lost view is in the
log by then or never will be (librdkafka fails a send after ``delivery.timeout.ms``), so
no reservation in the new view can spend what such a charge already took.
"""

import asyncio
import logging
import time
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING as BEGINNING
from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from bundlestream.adapters.fresh_receipts import ViewUnavailable
from bundlestream.adapters.kafka_config import KafkaConnection, consumer_config
from bundlestream.adapters.spendable_view import SpendableView
from bundlestream.adapters.tasks import BlockingCalls
from bundlestream.core.spendable import ViewChange, view_change
from bundlestream.schemas.codec import decode

log = logging.getLogger(__name__)

_POLL_S = 0.2
_BATCH = 500
_RETRY_S = 1.0
# A fetch is answered once this much is new, or after the wait: every API process tails
# the ledger topic, and answering each produced charge with a fetch of its own cost the
# broker more CPU than the upload's produce did (docs/benchmarks.md). The wait bounds
# how late a credit or a charge reaches the view.
_FETCH_MIN_BYTES = 64 * 1024
_FETCH_WAIT_MS = 100


class LedgerFeed:
    """Feeds ``view`` from ``topic``; ``run`` until cancelled."""

    def __init__(
        self,
        kafka: KafkaConnection,
        topic: str,
        view: SpendableView,
        quiet_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._kafka = kafka
        self._topic = topic
        self._view = view
        self._quiet_s = quiet_s
        self._clock = clock
        self._rebuild_began: float | None = None
        self._calls = BlockingCalls()

    async def run(self) -> None:
        """Feed forever; Redis or broker trouble is logged and retried."""
        while True:
            config = consumer_config(
                self._kafka,
                f"ledger-feed-{id(self)}",
                fetch_min_bytes=_FETCH_MIN_BYTES,
                fetch_wait_ms=_FETCH_WAIT_MS,
            )
            consumer = Consumer(config)
            self._calls = BlockingCalls()
            try:
                await self._feed(consumer)
            except (ViewUnavailable, KafkaException) as exc:
                log.warning("ledger feed: %s; retrying", exc)
                await asyncio.sleep(_RETRY_S)
            finally:
                await self._calls.close(consumer.close)

    async def _feed(self, consumer: Consumer) -> None:
        partitions = await self._assign(consumer)
        while True:
            messages = await self._calls.run(consumer.consume, _BATCH, _POLL_S)
            if not messages:
                if not await self._view.is_alive():
                    return  # Redis lost the view: reassign from offset 0 and rebuild
                await self._at_end(consumer, partitions)
            elif await self._apply(messages) == "lost":
                return

    async def _assign(self, consumer: Consumer) -> list[int]:
        metadata = await self._calls.run(consumer.list_topics, self._topic, 10)
        partitions = sorted(metadata.topics[self._topic].partitions)
        if not await self._view.is_alive():
            # An empty log holds no credit, so no reservation (which needs one) can have
            # a charge in flight: no quiet period to wait.
            empty = await self._is_empty(consumer, partitions)
            self._rebuild_began = self._clock() - (self._quiet_s if empty else 0.0)
            await self._view.start_building()
        applied = await self._view.applied(partitions)
        consumer.assign(
            [
                TopicPartition(self._topic, p, applied[p] + 1 if applied[p] >= 0 else BEGINNING)
                for p in partitions
            ]
        )
        return partitions

    async def _is_empty(self, consumer: Consumer, partitions: list[int]) -> bool:
        for p in partitions:
            low, high = await self._calls.run(
                consumer.get_watermark_offsets, TopicPartition(self._topic, p), 5, False
            )
            if high > low:
                return False
        return True

    async def _apply(self, messages: list[Message]) -> str:
        """One script call per partition of the batch (a call per event costs a round
        trip each, and every API process's feed reads every charge)."""
        by_partition: dict[int, list[tuple[int, ViewChange]]] = {}
        for message in messages:
            if message.error() is not None:
                log.warning("ledger feed: %s", message.error())
                continue
            change = view_change(decode(message.value() or b""))
            by_partition.setdefault(message.partition() or 0, []).append(
                (message.offset() or 0, change)
            )
        for partition, changes in by_partition.items():
            if await self._view.apply(partition, changes) == "lost":
                return "lost"
        return "applied"

    async def _at_end(self, consumer: Consumer, partitions: list[int]) -> None:
        """Nothing arrived in a poll: if every partition is read to its end, say so."""
        now = self._clock()
        for p in partitions:
            low, high = await self._calls.run(
                consumer.get_watermark_offsets, TopicPartition(self._topic, p), 5, False
            )
            [position] = consumer.position([TopicPartition(self._topic, p)])
            if high > low and position.offset < high:
                return  # an invalid position (nothing read yet) is negative
        await self._view.mark_caught_up(now)
        began = self._rebuild_began
        if began is not None and now >= began + self._quiet_s:
            await self._view.mark_ready()
            self._rebuild_began = None
        elif began is None and not await self._view.is_ready() and await self._view.is_alive():
            self._rebuild_began = now  # another feed began; wait our own quiet period
