"""Dedup: DataItemReceived → DataItemAccepted | DataItemDuplicateRejected, exactly.

The table ``dedup-seen`` (id → [partition, offset] of the first sighting) lives in the
owner's partition with its changelog; there is no time window. Inline items stay in
their event: prepare reads them back from the log by that same partition and offset.
"""

from datetime import UTC, datetime

import faust

from bundlestream.core.dedup import Sighting, judge
from bundlestream.schemas import topics as catalogue
from bundlestream.schemas.events import DataItemReceived
from bundlestream.streams.context import StageContext, unskipped


def _sighting(stored: object) -> Sighting | None:
    if isinstance(stored, list) and len(stored) == 2:
        return Sighting(int(stored[0]), int(stored[1]))
    return None


def register(app: faust.App, ctx: StageContext) -> None:
    seen = ctx.table(app, catalogue.DEDUP_SEEN)

    @app.agent(ctx.topics.received, name="dedup")
    async def dedup(stream: faust.StreamT[DataItemReceived]) -> None:
        async for event in stream.events():
            with unskipped("dedup"):
                received, at = event.value, Sighting(event.message.partition, event.message.offset)
                first_seen = _sighting(seen.get(received.data_item_id))
                verdict = judge(received, at, first_seen, received.object_key, datetime.now(UTC))
                await ctx.topics.deduplicated.send(key=received.owner_address, value=verdict)
                if first_seen is None:
                    seen[received.data_item_id] = [at.partition, at.offset]
