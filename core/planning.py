"""First-fit bundle planning of one owner partition, one lane per premium feature type.

A lane holds at most one open plan. Items join it in upload order; the plan is cut when
the next item would not fit (bytes or count), when it is full, or when its oldest item
is older than the overdue threshold at a clock reading. An item that alone exceeds the
maximum bundle size becomes a plan of its own (upstream had no path for it).

Decisions are a pure function of the lane state and the input; the stream edge stores
the items of an open plan slot by slot and acts on the returned steps. Times come from
the events (acceptance time, clock ticks in the log), never from a clock, so a replay of
the log decides the same cuts.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bundlestream.core.ans104.bundle_header import COUNT_BYTES, ENTRY_BYTES
from bundlestream.core.encoding import b64url_encode


@dataclass(frozen=True)
class PlanLimits:
    """``max_bytes`` counts the whole bundle: its header and every item."""

    max_bytes: int
    max_items: int
    overdue: timedelta


@dataclass(frozen=True)
class OpenPlan:
    seq: int
    count: int
    size: int  # bundle bytes so far, header included
    oldest_at: datetime


@dataclass(frozen=True)
class LaneState:
    next_seq: int = 0
    open: OpenPlan | None = None


@dataclass(frozen=True)
class Place:
    """Store the item as entry ``index`` of plan ``seq``."""

    seq: int
    index: int


@dataclass(frozen=True)
class Cut:
    """Plan ``seq`` is complete with ``count`` entries: emit it."""

    seq: int
    count: int


Step = Place | Cut


def _bundle_size(items: int, item_bytes: int) -> int:
    return COUNT_BYTES + ENTRY_BYTES * items + item_bytes


def _fits(plan: OpenPlan, size: int, limits: PlanLimits) -> bool:
    return plan.count < limits.max_items and plan.size + ENTRY_BYTES + size <= limits.max_bytes


def _cut(state: LaneState) -> tuple[LaneState, list[Step]]:
    if state.open is None:
        return state, []
    return replace(state, open=None), [Cut(state.open.seq, state.open.count)]


def plan_item(
    state: LaneState, size: int, at: datetime, limits: PlanLimits
) -> tuple[LaneState, list[Step]]:
    """Place one item of ``size`` bytes accepted ``at``; returns the new state and steps."""
    if _bundle_size(1, size) > limits.max_bytes:
        seq = state.next_seq
        return replace(state, next_seq=seq + 1), [Place(seq, 0), Cut(seq, 1)]
    steps: list[Step] = []
    if state.open is not None and not _fits(state.open, size, limits):
        state, steps = _cut(state)
    plan = state.open or OpenPlan(state.next_seq, 0, _bundle_size(0, 0), at)
    next_seq = state.next_seq + (1 if state.open is None else 0)
    steps.append(Place(plan.seq, plan.count))
    plan = replace(plan, count=plan.count + 1, size=plan.size + ENTRY_BYTES + size)
    state = LaneState(next_seq, plan)
    if plan.count >= limits.max_items or plan.size >= limits.max_bytes:
        state, cut = _cut(state)
        steps += cut
    return state, steps


def plan_tick(state: LaneState, now: datetime, limits: PlanLimits) -> tuple[LaneState, list[Step]]:
    """At clock reading ``now``, cut the open plan if its oldest item is overdue."""
    if state.open is not None and now - state.open.oldest_at >= limits.overdue:
        return _cut(state)
    return state, []


def plan_id(namespace: str, partition: int, lane: str, seq: int, item_ids: Sequence[str]) -> str:
    """A plan's id: the same plan decided again (a replay) gets the same id.

    The digest of its item ids keeps ids distinct between deployments that share an
    object store or a gateway (``namespace``: app id and topic prefix).
    """
    digest = hashlib.sha256("\n".join([namespace, *item_ids]).encode()).digest()
    return f"p{partition}-{lane}-{seq}-{b64url_encode(digest[:16])}"
