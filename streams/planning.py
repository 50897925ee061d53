"""Plan: the planner's input log (verdicts, repacks, clock ticks) → BundlePlanned.

Per partition and lane, the table ``planner`` keeps the lane's state (``core.planning``)
with the offset of the last input it applied, and the items of the open plan one slot
per key (so a growing plan writes one small changelog record per item, not the whole
plan again). Writes of one input go in a fixed order: slots and item marks first, the
lane state (with the applied offset) last. After a crash the table is a prefix of those
writes, so an input is either fully applied (skipped on redelivery by its offset) or
applied again from the same lane state to the same result: the same plans, the same
plan ids. Downstream stages treat a repeated plan id as the same plan.
"""

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import faust

from bundlestream.core.planning import (
    Cut,
    LaneState,
    OpenPlan,
    Place,
    PlanLimits,
    Step,
    plan_id,
    plan_item,
    plan_tick,
)
from bundlestream.schemas import topics as catalogue
from bundlestream.schemas.events import (
    BundlePlanned,
    DataItemAccepted,
    DataItemsRepacked,
    PlannedItem,
    PlannerTicked,
)
from bundlestream.streams.app import every
from bundlestream.streams.context import StageContext, unskipped


def limits_of(ctx: StageContext) -> PlanLimits:
    s = ctx.settings
    return PlanLimits(
        s.streams.max_bundle_size,
        s.streams.max_items_per_bundle,
        timedelta(seconds=s.streams.plan_overdue_s),
    )


def accepted_item(accepted: DataItemAccepted) -> PlannedItem:
    return PlannedItem(
        data_item_id=accepted.data_item_id,
        owner_address=accepted.owner_address,
        raw_size=accepted.raw_size,
        payload_start=accepted.payload_start,
        received_partition=accepted.received_partition,
        received_offset=accepted.received_offset,
        object_key=accepted.object_key,
    )


class PartitionPlanner:
    """The planner of one partition over the shared table (keys carry the partition)."""

    def __init__(self, ctx: StageContext, table: Any, partition: int, offset: int) -> None:
        self.ctx, self.table, self.partition, self.offset = ctx, table, partition, offset
        self.limits = limits_of(ctx)

    # --- table layout -------------------------------------------------------------
    def _lane_key(self, lane: str) -> str:
        return f"{self.partition}/lane/{lane}"

    def _slot_key(self, lane: str, seq: int, index: int) -> str:
        return f"{self.partition}/slot/{lane}/{seq}/{index}"

    def lanes(self) -> list[str]:
        return list(self.table.get(f"{self.partition}/lanes") or [])

    def load(self, lane: str) -> tuple[LaneState, int]:
        raw = self.table.get(self._lane_key(lane))
        if raw is None:
            return LaneState(), -1
        open_ = raw["open"]
        plan = None
        if open_ is not None:
            at = datetime.fromisoformat(open_["oldest_at"])
            plan = OpenPlan(open_["seq"], open_["count"], open_["size"], at)
        return LaneState(raw["next_seq"], plan), raw["applied"]

    def save(self, lane: str, state: LaneState) -> None:
        plan = state.open
        open_: dict[str, int | str] | None = None
        if plan is not None:
            open_ = {"seq": plan.seq, "count": plan.count, "size": plan.size}
            open_["oldest_at"] = plan.oldest_at.isoformat()
        self.table[self._lane_key(lane)] = {
            "next_seq": state.next_seq,
            "open": open_,
            "applied": self.offset,
        }

    # --- decisions ----------------------------------------------------------------
    async def items(self, lane: str, items: list[PlannedItem], at: datetime) -> None:
        """Place items of one input (an acceptance or a repack) in ``lane``."""
        state, applied = self.load(lane)
        if applied >= self.offset:
            return
        if lane not in self.lanes():
            self.table[f"{self.partition}/lanes"] = [*self.lanes(), lane]
        cut: list[Cut] = []
        for item in items:
            state, steps = plan_item(state, item.raw_size, at, self.limits)
            cut += self._place(lane, steps, item)
        await self._emit(lane, cut, at)
        self.save(lane, state)
        self._forget(lane, cut)

    async def tick(self, now: datetime) -> None:
        for lane in self.lanes():
            state, applied = self.load(lane)
            if applied >= self.offset:
                continue
            state, steps = plan_tick(state, now, self.limits)
            if steps:
                cut = [step for step in steps if isinstance(step, Cut)]
                await self._emit(lane, cut, now)
                self.save(lane, state)
                self._forget(lane, cut)

    def _place(self, lane: str, steps: list[Step], item: PlannedItem) -> list[Cut]:
        for step in steps:
            if isinstance(step, Place):
                self.table[self._slot_key(lane, step.seq, step.index)] = asdict(item)
        return [step for step in steps if isinstance(step, Cut)]

    async def _emit(self, lane: str, cuts: list[Cut], at: datetime) -> None:
        for cut in cuts:
            slots = [self.table[self._slot_key(lane, cut.seq, i)] for i in range(cut.count)]
            items = tuple(PlannedItem(**slot) for slot in slots)
            ids = [item.data_item_id for item in items]
            pid = plan_id(self.ctx.namespace, self.partition, lane, cut.seq, ids)
            plan = BundlePlanned(plan_id=pid, items=items, planned_at=at, premium_feature_type=lane)
            await self.ctx.topics.planned.send(key=pid, value=plan)

    def _forget(self, lane: str, cuts: list[Cut]) -> None:
        for cut in cuts:
            for index in range(cut.count):
                self.table.pop(self._slot_key(lane, cut.seq, index), None)


def _mark(stored: object) -> tuple[int, str | None] | None:
    """An item mark as stored: the planner-log offset of the acceptance that placed the
    item (an int), ``[offset, plan id]`` for a repack, or the dict older workers wrote."""
    if isinstance(stored, int):
        return stored, None
    if isinstance(stored, list):
        return int(stored[0]), stored[1]
    if isinstance(stored, dict):
        return int(stored["offset"]), stored.get("from")
    return None


def _fresh(table: Any, item_id: str, offset: int, from_plan: str | None) -> bool:
    """Whether this input places the item: not a repeated verdict or repack of it.

    One mark per item ever accepted (as ``dedup-seen``): kept as small as it can be, an
    int for the common case (a dict cost twice the memory per item).
    """
    mark = _mark(table.get(f"item/{item_id}"))
    # A later acceptance of a placed item is a repeat whatever happened to it since (a
    # dedup replay after its repack must not plan it a second time); a repack places it
    # again unless it is the same repack written twice.
    if mark is not None and mark[0] != offset and (from_plan is None or mark[1] == from_plan):
        return False
    table[f"item/{item_id}"] = offset if from_plan is None else [offset, from_plan]
    return True


async def handle(planner: PartitionPlanner, value: object) -> None:
    """Route one input of the planner's log to the partition planner."""
    if isinstance(value, PlannerTicked):
        await planner.tick(value.ticked_at)
    elif isinstance(value, DataItemAccepted):
        if _fresh(planner.table, value.data_item_id, planner.offset, None):
            await planner.items(
                value.premium_feature_type, [accepted_item(value)], value.accepted_at
            )
    elif isinstance(value, DataItemsRepacked):
        fresh = [
            i
            for i in value.items
            if _fresh(planner.table, i.data_item_id, planner.offset, value.plan_id)
        ]
        await planner.items(value.premium_feature_type, fresh, value.repacked_at)


def register(app: faust.App, ctx: StageContext) -> None:
    table = ctx.table(app, catalogue.PLANNER)
    partitions = ctx.settings.kafka.topic_partitions

    @app.agent(ctx.topics.deduplicated, name="plan")
    async def plan(stream: faust.StreamT[object]) -> None:
        async for event in stream.events():
            with unskipped("plan"):
                planner = PartitionPlanner(
                    ctx, table, event.message.partition, event.message.offset
                )
                await handle(planner, event.value)

    @every(app, ctx.settings.streams.planner_tick_s)
    async def tick() -> None:
        now = datetime.now(UTC)
        for partition in range(partitions):
            tick = PlannerTicked(
                owner_address=f"tick-{partition}", partition=partition, ticked_at=now
            )
            await ctx.topics.deduplicated.send(
                key=tick.owner_address, value=tick, partition=partition
            )
