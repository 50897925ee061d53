"""Cleanup: BundleConfirmed → after ``cleanup_retention_s``, delete the bundle's local
copies (its items' raw objects and the bundle object) → BundleCleanedUp.

The agent only records a confirmed bundle in the table ``cleanup-pending`` (plan id →
due time, bundle id, partition) in the bundle's own partition of ``bundles.settled``. A
timer on every worker deletes the copies of the due bundles of the partitions it actively
owns, then writes BundleCleanedUp; a second agent reading that event in the same partition
removes the plan from the table (a Faust table changes only inside an agent). So the table
holds the bundles confirmed within the retention window, no more; nothing holds a message
while a retention runs; and a crash between the deletes and the removal only deletes
again (deleting a deleted object is a no-op) and repeats the event.

The plan and the signed transaction stay (small, and what a later audit reads), and so
does the marker ``permanent`` every stage checks before touching a plan's bytes: the
timer cleans only a plan whose marker the settle agent has written.
"""

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import faust
from faust.types import TP

from bundlestream.adapters.object_store import ObjectStoreError
from bundlestream.core.retention import cleanup_due_at, due_cleanups
from bundlestream.schemas import topics as catalogue
from bundlestream.schemas.events import BundleCleanedUp, BundleConfirmed
from bundlestream.streams.app import every
from bundlestream.streams.context import StageContext, unskipped
from bundlestream.streams.preparation import bundle_key, is_permanent
from bundlestream.streams.settlement import stored_plan

log = logging.getLogger(__name__)

_POLL_S = 1.0


class Cleaner:
    """Deletes the due bundles' copies of this worker's active partitions."""

    def __init__(self, app: faust.App, ctx: StageContext, table: Any) -> None:
        self.app, self.ctx, self.table = app, ctx, table
        self.settled_topic = ctx.topics.settled.get_topic_name()
        self.sent: set[str] = set()  # cleaned, waiting for the agent to drop them

    def owned(self, partition: int) -> bool:
        return TP(self.settled_topic, partition) in self.app.assignor.assigned_actives()

    async def poll(self, now: datetime) -> None:
        pending = [(k, v) for k, v in list(self.table.items()) if v is not None]
        self.sent &= {plan_id for plan_id, _ in pending}
        for plan_id, entry in due_cleanups(pending, now):
            if plan_id in self.sent or not self.owned(entry["partition"]):
                continue
            try:
                event = await self.clean(plan_id, entry)
            except ObjectStoreError as exc:  # tried again at the next poll
                log.warning("cleanup %s: %s", plan_id, exc)
                continue
            if event is not None:
                await self.ctx.topics.cleaned.send(key=plan_id, value=event)
                self.sent.add(plan_id)

    async def clean(self, plan_id: str, entry: Mapping[str, Any]) -> BundleCleanedUp | None:
        if not await is_permanent(self.ctx, plan_id):
            return None  # the settle agent has not written the marker yet
        plan = await stored_plan(self.ctx, plan_id)
        keys = [item.object_key for item in plan.items if item.object_key] if plan else []
        for key in [*keys, bundle_key(plan_id, "bundle")]:
            await self.ctx.store.delete(key)
        return BundleCleanedUp(
            plan_id=plan_id,
            bundle_id=entry["bundle_id"],
            deleted_objects=len(keys) + 1,
            confirmed_at=datetime.fromisoformat(entry["confirmed_at"]),
            cleaned_at=datetime.now(UTC),
        )


def pending_entry(
    confirmed: BundleConfirmed, partition: int, retention_s: float
) -> dict[str, object]:
    return {
        "due": cleanup_due_at(confirmed.confirmed_at, retention_s).isoformat(),
        "confirmed_at": confirmed.confirmed_at.isoformat(),
        "bundle_id": confirmed.bundle_id,
        "partition": partition,
    }


def register(app: faust.App, ctx: StageContext) -> None:
    if not ctx.settings.streams.cleanup_after_permanent:
        return
    pending = ctx.table(app, catalogue.CLEANUP_PENDING)
    cleaner = Cleaner(app, ctx, pending)
    retention_s = ctx.settings.streams.cleanup_retention_s

    @app.agent(ctx.topics.settled, name="cleanup")
    async def cleanup_agent(stream: faust.StreamT[object]) -> None:
        async for event in stream.events():
            confirmed = event.value
            with unskipped("cleanup"):
                if isinstance(confirmed, BundleConfirmed) and confirmed.plan_id not in pending:
                    entry = pending_entry(confirmed, event.message.partition, retention_s)
                    pending[confirmed.plan_id] = entry

    @app.agent(ctx.topics.cleaned, name="cleaned")
    async def cleaned_agent(stream: faust.StreamT[BundleCleanedUp]) -> None:
        async for cleaned in stream:
            with unskipped("cleaned"):
                pending.pop(cleaned.plan_id, None)

    @every(app, _POLL_S)
    async def cleanup_poll() -> None:
        await cleaner.poll(datetime.now(UTC))
