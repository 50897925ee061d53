"""Verify: watch seeded bundles until GET /tx/{id}/status settles them.

The agent only records a seeded bundle in the table ``watching`` (in the bundle's own
partition) and moves on; a timer on every worker polls the gateway for the watched
bundles of the partitions that worker actively owns, and writes BundleConfirmed or
BundleDropped. The settle agent, reading that event in the same partition, removes the
bundle from the table. So no message is held for minutes (which would stall every
rebalance of the group), and a crash between the verdict and the removal only repeats
the verdict, which every reader of it tolerates.

The drop clock starts at the anchor's block height (an anchor older than 50 blocks can
no longer be mined); when the gateway cannot say it, at the height of the first check.
"""

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

import faust
from faust.types import TP

from bundlestream.adapters.arweave_gateway import GatewayError
from bundlestream.adapters.object_store import ObjectStoreError
from bundlestream.core.confirmation import Confirmed, Dropped, Verdict, judge_status
from bundlestream.schemas import topics as catalogue
from bundlestream.schemas.events import BundleConfirmed, BundleDropped, BundleSeeded
from bundlestream.streams.app import every
from bundlestream.streams.context import StageContext, unskipped
from bundlestream.streams.preparation import bundle_key, read_small

log = logging.getLogger(__name__)

# Status requests in flight at once per worker: hundreds of bundles await confirmation.
_CONCURRENT_CHECKS = 16


class Watcher:
    """Polls the watched bundles of this worker's active partitions."""

    def __init__(self, app: faust.App, ctx: StageContext, table: Any) -> None:
        self.app, self.ctx, self.table = app, ctx, table
        self.seeded_topic = ctx.topics.seeded.get_topic_name()
        self.anchor_heights: dict[str, int] = {}  # per process: a restart re-learns them

    def owned(self, partition: int) -> bool:
        return TP(self.seeded_topic, partition) in self.app.assignor.assigned_actives()

    async def anchor_height(self, plan_id: str, current: int) -> int:
        if plan_id not in self.anchor_heights:
            stored = await read_small(self.ctx, bundle_key(plan_id, "tx.json"))
            anchor = json_field(stored, "last_tx")
            known = await self.ctx.gateway.block_height(anchor) if anchor else None
            self.anchor_heights[plan_id] = current if known is None else known
        return self.anchor_heights[plan_id]

    async def check(self, plan_id: str, watched: dict[str, Any], height: int) -> None:
        s = self.ctx.settings
        status = await self.ctx.gateway.tx_status(watched["bundle_id"])
        anchor = await self.anchor_height(plan_id, height)
        verdict = judge_status(
            status, anchor, height, s.streams.required_confirmations, s.streams.drop_after_blocks
        )
        event = settled_event(plan_id, watched["bundle_id"], verdict, height)
        if event is not None:
            await self.ctx.topics.settled.send(key=plan_id, value=event)

    async def poll(self) -> None:
        mine = [(k, v) for k, v in list(self.table.items()) if v and self.owned(v["partition"])]
        if not mine:
            return
        try:
            height = await self.ctx.gateway.height()
        except GatewayError as exc:
            log.warning("verify: gateway: %s", exc)
            return
        gate = asyncio.Semaphore(_CONCURRENT_CHECKS)

        async def check(plan_id: str, watched: dict[str, Any]) -> None:
            async with gate:
                try:
                    await self.check(plan_id, watched, height)
                except GatewayError as exc:
                    log.warning("verify %s: gateway: %s", plan_id, exc)
                except ObjectStoreError as exc:  # its anchor is read again at the next poll
                    log.warning("verify %s: object store: %s", plan_id, exc)

        await asyncio.gather(*(check(plan_id, watched) for plan_id, watched in mine))


def json_field(data: bytes | None, name: str) -> str | None:
    value = json.loads(data).get(name) if data else None
    return value if isinstance(value, str) else None


def settled_event(
    plan_id: str, bundle_id: str, verdict: Verdict, height: int
) -> BundleConfirmed | BundleDropped | None:
    now = datetime.now(UTC)
    if isinstance(verdict, Confirmed):
        return BundleConfirmed(
            plan_id=plan_id,
            bundle_id=bundle_id,
            block_height=verdict.block_height,
            block_id=verdict.block_id,
            confirmations=verdict.confirmations,
            confirmed_at=now,
        )
    if isinstance(verdict, Dropped):
        return BundleDropped(
            plan_id=plan_id,
            bundle_id=bundle_id,
            reason=verdict.reason,
            dropped_at=now,
            last_checked_height=height,
        )
    return None


def register(app: faust.App, ctx: StageContext) -> Any:
    """Register the agent and the poller; returns the table the settle agent clears."""
    watching = ctx.table(app, catalogue.VERIFY_WATCHING)
    watcher = Watcher(app, ctx, watching)

    @app.agent(ctx.topics.seeded, name="verify")
    async def verify_agent(stream: faust.StreamT[BundleSeeded]) -> None:
        async for event in stream.events():
            seeded = event.value
            watched = {"bundle_id": seeded.bundle_id, "partition": event.message.partition}
            with unskipped("verify"):
                watching[seeded.plan_id] = watched

    @every(app, ctx.settings.streams.verify_poll_s)
    async def verify_poll() -> None:
        await watcher.poll()

    return watching
