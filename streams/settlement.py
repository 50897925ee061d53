"""After a bundle settles: repack the items of a dropped one, mark a permanent one.

Repack reads the plan that prepare stored beside the bundle and sends each owner's items
back to that owner's planner (or fails an item that has been in too many bundles). A
permanent bundle gets the marker ``bundles/<plan>/permanent``, which every stage checks
before touching a plan's bytes; deleting them is the cleanup stage's (``cleanup.py``).
"""

from datetime import UTC, datetime
from typing import Any

import faust

from bundlestream.adapters.object_store import ObjectStoreError
from bundlestream.core.repacking import repack
from bundlestream.schemas.codec import decode
from bundlestream.schemas.events import (
    BundleConfirmed,
    BundleDropped,
    BundlePlanned,
    DataItemsRepacked,
)
from bundlestream.streams.context import StageContext
from bundlestream.streams.crash import crash_worker
from bundlestream.streams.preparation import bundle_key, is_permanent, read_small


async def stored_plan(ctx: StageContext, plan_id: str) -> BundlePlanned | None:
    data = await read_small(ctx, bundle_key(plan_id, "plan"))
    plan = decode(data) if data is not None else None
    return plan if isinstance(plan, BundlePlanned) else None


async def on_dropped(ctx: StageContext, dropped: BundleDropped) -> None:
    if await is_permanent(ctx, dropped.plan_id):
        return  # a late verdict about a bundle that did become permanent
    plan = await stored_plan(ctx, dropped.plan_id)
    if plan is None:
        raise ObjectStoreError(f"plan {dropped.plan_id} not stored")
    for event in repack(
        plan, dropped, ctx.settings.streams.max_bundles_per_item, datetime.now(UTC)
    ):
        topic = (
            ctx.topics.deduplicated if isinstance(event, DataItemsRepacked) else ctx.topics.repacked
        )
        await topic.send(key=event.owner_address, value=event)


async def on_confirmed(ctx: StageContext, confirmed: BundleConfirmed) -> None:
    await ctx.store.put(bundle_key(confirmed.plan_id, "permanent"), confirmed.bundle_id.encode())


def register(app: faust.App, ctx: StageContext, watching: Any) -> None:
    """``watching``: verify's table of watched bundles, cleared here once settled."""

    @app.agent(ctx.topics.settled, name="settle")
    async def settle_agent(stream: faust.StreamT[object]) -> None:
        async for event in stream:
            if isinstance(event, BundleConfirmed | BundleDropped):
                watching.pop(event.plan_id, None)
            try:
                if isinstance(event, BundleDropped):
                    await on_dropped(ctx, event)
                elif isinstance(event, BundleConfirmed):
                    await on_confirmed(ctx, event)
            except ObjectStoreError as exc:
                crash_worker("settle", exc)
