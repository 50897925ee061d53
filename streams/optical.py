"""Optical post: DataItemAccepted → each accepted item's signed header to every AR.IO
gateway in ``optical_urls`` (off when the list is empty).

Its own consumer group (``<app id>-optical``) on ``data-items.deduplicated``, outside
Faust's consumer: the agents of the app share one consumer, its buffers and its commits,
so a slow or failing gateway here would hold the planner's messages back. This stage
only lags behind on its own. Batches of up to ``_BATCH`` acceptances: their headers are
read (the range ``[0, payload_start)`` of the stored item, or the inline item read back
from ``data-items.received``) and signed ``_CONCURRENT_HEADERS`` at a time, then posted
as one JSON array to every URL at once, each with at most ``optical_max_attempts``
attempts and exponential backoff; then the batch is committed, whatever the outcome.

Promises: at least one delivery attempt per acceptance while the stage is on; a final
failure is logged and counted, never retried later and never an error of the pipeline.
Duplicate uploads (DataItemDuplicateRejected) are never posted. A header is posted again
only when its acceptance is read again: a dedup re-run after a crash repeats it (this
process remembers the last ``_RECENT_IDS`` ids it posted and skips those), or a batch
that was being posted when its worker died or its partitions moved is redelivered.
Gateways index headers by id, so a repeat is harmless.
"""

import asyncio
import logging
from typing import Any

import faust

from bundlestream.adapters.group_consumer import Consumed, GroupConsumer
from bundlestream.adapters.object_store import ObjectStoreError
from bundlestream.adapters.optical_bridge import OpticalBridge, OpticalPostError
from bundlestream.adapters.received_items import ReceivedItemError
from bundlestream.adapters.tasks import BlockingCalls
from bundlestream.core.ans104.errors import Ans104Error
from bundlestream.core.optical import RecentIds, optical_body, parse_item_header, signed_header
from bundlestream.schemas.events import DataItemAccepted
from bundlestream.streams.app import at_start
from bundlestream.streams.context import StageContext
from bundlestream.streams.retrying import call_with_retries, retrying
from bundlestream.wiring import kafka_connection, received_item_reader

log = logging.getLogger(__name__)

_BATCH = 100
_POLL_S = 1.0
_CONCURRENT_HEADERS = 8
_RECENT_IDS = 100_000
_TIMEOUT_S = 10.0


class OpticalPoster:
    """One process's optical stage; ``posted``/``failed``/``unreadable`` count headers
    (a header refused by two gateways counts twice in ``failed``)."""

    def __init__(self, ctx: StageContext) -> None:
        s = ctx.settings
        self.ctx, self.urls = ctx, list(s.streams.optical_urls)
        worst_batch_s = s.streams.optical_max_attempts * (
            _TIMEOUT_S + s.arweave.gateway_backoff_max_s
        )
        self.consumer = GroupConsumer(
            kafka_connection(s),
            f"{s.streams.app_id}-optical",
            ctx.topics.deduplicated.get_topic_name(),
            max_poll_interval_s=max(300.0, 2 * worst_batch_s),
        )
        self.calls = BlockingCalls()  # the consumer's: close waits for a poll in flight
        self.bridge = OpticalBridge(ctx.key.owner, _TIMEOUT_S)
        self.inline = received_item_reader(s)  # its own: prepare's is not for concurrent use
        self.inline_lock = asyncio.Lock()
        self.recent = RecentIds(_RECENT_IDS)
        self.posted = self.failed = self.unreadable = 0

    async def run(self) -> None:
        while True:
            batch = await self.calls.run(self.consumer.poll, _BATCH, _POLL_S)
            if batch:
                await self.handle(batch)
                await self.calls.run(self.consumer.commit)

    async def close(self) -> None:
        await self.calls.close(self.consumer.close)
        await asyncio.to_thread(self.inline.close)
        await self.bridge.close()

    async def handle(self, batch: list[Consumed]) -> None:
        accepted = _accepted(batch, self.recent)
        gate = asyncio.Semaphore(_CONCURRENT_HEADERS)

        async def header(item: DataItemAccepted) -> dict[str, Any] | None:
            async with gate:
                return await self.header(item)

        headers = [h for h in await asyncio.gather(*map(header, accepted)) if h is not None]
        if not headers:
            return
        body = optical_body(headers)
        await asyncio.gather(*(self.post(url, body, len(headers)) for url in self.urls))
        for item in headers:
            self.recent.add(item["id"])

    async def header(self, item: DataItemAccepted) -> dict[str, Any] | None:
        """The signed header of ``item``; None (logged, counted) when its bytes are gone
        (cleaned up after permanence) or unreadable."""
        try:
            parsed = parse_item_header(await self.header_bytes(item))
        except (ObjectStoreError, ReceivedItemError, Ans104Error) as exc:
            self.unreadable += 1
            log.warning("optical: header of %s not read: %s", item.data_item_id, exc)
            return None
        size = item.raw_size - item.payload_start
        # RSA signing is CPU work: off the event loop the pipeline's agents run on.
        return await asyncio.to_thread(signed_header, self.ctx.key, parsed, size, item.received_at)

    async def header_bytes(self, item: DataItemAccepted) -> bytes:
        if item.object_key is None:  # travelled inside its DataItemReceived
            async with self.inline_lock:
                raw = await asyncio.to_thread(
                    self.inline.read, item.received_partition, item.received_offset
                )
            return raw[: item.payload_start]
        read = self.ctx.store.read(item.object_key, 0, item.payload_start)
        return b"".join([piece async for piece in read])

    async def post(self, url: str, body: bytes, count: int) -> None:
        s = self.ctx.settings
        attempts = retrying(
            s.streams.optical_max_attempts,
            s.arweave.gateway_backoff_base_s,
            s.arweave.gateway_backoff_max_s,
            (OpticalPostError,),
        )
        try:
            if s.streams.optical_max_attempts < 1:
                raise OpticalPostError("no attempt made")
            await call_with_retries(attempts, lambda: self.bridge.post(url, body))
        except OpticalPostError as error:
            self.failed += count
            log.error(
                "optical: %d headers not posted to %s after %d attempts (%d failed so far): %s",
                count,
                url,
                s.streams.optical_max_attempts,
                self.failed,
                error,
            )
            return
        self.posted += count


def _accepted(batch: list[Consumed], recent: RecentIds) -> list[DataItemAccepted]:
    """The batch's acceptances not posted lately, each id once."""
    chosen: dict[str, DataItemAccepted] = {}
    for consumed in batch:
        event = consumed.event
        if isinstance(event, DataItemAccepted) and event.data_item_id not in recent:
            chosen.setdefault(event.data_item_id, event)
    return list(chosen.values())


def register(app: faust.App, ctx: StageContext) -> None:
    if not ctx.settings.streams.optical_urls:
        return

    @at_start(app)
    async def optical_post() -> None:
        poster = OpticalPoster(ctx)
        log.info("optical: posting accepted items' headers to %s", poster.urls)
        try:
            await poster.run()
        finally:
            await poster.close()
