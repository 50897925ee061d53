"""Post: BundlePrepared → POST /tx → BundlePosted (or BundleDropped when refused).

Bounded exponential backoff, honouring a 429's Retry-After. A transaction the gateway
already has (a redelivery, or an earlier attempt whose answer was lost) counts as posted.
"""

import asyncio
from datetime import UTC, datetime

import faust

from bundlestream.adapters.arweave_gateway import GatewayError
from bundlestream.adapters.object_store import ObjectStoreError
from bundlestream.core.retrying import backoff_delay
from bundlestream.schemas.events import BundleDropped, BundlePosted, BundlePrepared
from bundlestream.streams.context import StageContext
from bundlestream.streams.crash import crash_worker
from bundlestream.streams.preparation import is_permanent
from bundlestream.streams.retrying import with_backoff


async def _known(ctx: StageContext, bundle_id: str) -> bool:
    try:
        return (await ctx.gateway.tx_status(bundle_id)).known
    except GatewayError:
        return False


async def _posted(ctx: StageContext, prepared: BundlePrepared, already: bool) -> BundlePosted:
    height = await with_backoff(ctx, ctx.gateway.height)
    return BundlePosted(
        plan_id=prepared.plan_id,
        bundle_id=prepared.bundle_id,
        posted_height=height,
        posted_at=datetime.now(UTC),
        already_known=already,
    )


async def post(ctx: StageContext, prepared: BundlePrepared) -> BundlePosted | BundleDropped:
    """Post the transaction; the event that says how it went."""
    s, error = ctx.settings, None
    for attempt in range(s.streams.post_max_attempts):
        try:
            await ctx.gateway.post_tx(prepared.tx_header)
            return await _posted(ctx, prepared, already=False)
        except GatewayError as exc:
            error = exc
            if await _known(ctx, prepared.bundle_id):
                return await _posted(ctx, prepared, already=True)
        retry_after = error.retry_after_s if error else None
        await asyncio.sleep(
            backoff_delay(
                attempt,
                s.arweave.gateway_backoff_base_s,
                s.arweave.gateway_backoff_max_s,
                retry_after,
            )
        )
    return BundleDropped(
        plan_id=prepared.plan_id,
        bundle_id=prepared.bundle_id,
        reason=f"not posted after {s.streams.post_max_attempts} attempts: {error}",
        dropped_at=datetime.now(UTC),
    )


def register(app: faust.App, ctx: StageContext) -> None:
    @app.agent(ctx.topics.prepared, name="post")
    async def post_agent(stream: faust.StreamT[BundlePrepared]) -> None:
        async for prepared in stream:
            # The permanence check reads the object store: inside the try, so that an
            # unreachable store ends the worker instead of raising out of the agent,
            # which Faust acknowledges (a chaos run lost a 225-item plan that way).
            try:
                if await is_permanent(ctx, prepared.plan_id):
                    continue
                event = await post(ctx, prepared)
            except (GatewayError, ObjectStoreError) as exc:
                crash_worker("post", exc)
            topic = ctx.topics.posted if isinstance(event, BundlePosted) else ctx.topics.settled
            await topic.send(key=prepared.plan_id, value=event)
