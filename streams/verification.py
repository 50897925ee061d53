"""Verify: BundleSeeded → poll GET /tx/{id}/status → BundleConfirmed | BundleDropped.

Polls until ``core.confirmation`` settles the bundle. The drop clock starts at the
anchor's block height (an anchor older than 50 blocks can no longer be mined); when the
gateway cannot say the anchor's height, at the height of the first check.
"""

import asyncio
import json
import logging
from datetime import UTC, datetime

import faust

from adapters.arweave_gateway import GatewayError
from core.confirmation import Confirmed, Dropped, judge_status
from schemas.events import BundleConfirmed, BundleDropped, BundleSeeded
from streams.context import StageContext
from streams.preparation import bundle_key, read_small

log = logging.getLogger(__name__)


async def _anchor_height(ctx: StageContext, plan_id: str) -> int | None:
    stored = await read_small(ctx, bundle_key(plan_id, "tx.json"))
    anchor = json.loads(stored)["last_tx"] if stored else None
    return await ctx.gateway.block_height(anchor) if anchor else None


async def watch(ctx: StageContext, seeded: BundleSeeded) -> BundleConfirmed | BundleDropped:
    s = ctx.settings
    anchor_height = await _anchor_height(ctx, seeded.plan_id)
    while True:
        try:
            status, height = (
                await ctx.gateway.tx_status(seeded.bundle_id),
                await ctx.gateway.height(),
            )
        except GatewayError as exc:
            log.warning("verify %s: %s", seeded.bundle_id, exc)
            await asyncio.sleep(s.verify_poll_s)
            continue
        anchor_height = height if anchor_height is None else anchor_height
        verdict = judge_status(
            status, anchor_height, height, s.required_confirmations, s.drop_after_blocks
        )
        if isinstance(verdict, Confirmed):
            return BundleConfirmed(
                plan_id=seeded.plan_id,
                bundle_id=seeded.bundle_id,
                block_height=verdict.block_height,
                block_id=verdict.block_id,
                confirmations=verdict.confirmations,
                confirmed_at=datetime.now(UTC),
            )
        if isinstance(verdict, Dropped):
            return BundleDropped(
                plan_id=seeded.plan_id,
                bundle_id=seeded.bundle_id,
                reason=verdict.reason,
                dropped_at=datetime.now(UTC),
                last_checked_height=height,
            )
        await asyncio.sleep(s.verify_poll_s)


def register(app: faust.App, ctx: StageContext) -> None:
    @app.agent(ctx.topics.seeded, name="verify")
    async def verify_agent(stream: faust.StreamT[BundleSeeded]) -> None:
        async for seeded in stream:
            settled = await watch(ctx, seeded)
            await ctx.topics.settled.send(key=seeded.plan_id, value=settled)
