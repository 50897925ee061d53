"""The stall watchdog: a worker that has stopped making progress ends itself, loudly.

Every few seconds each worker asks the broker for the first and last offsets of the
partitions its agents own and compares them with how far it has read and committed
(``core.liveness``). A partition with messages waiting, none of them in an agent's hands
and no progress for ``worker_stall_timeout_s`` means this worker has stopped fetching it;
a rebalance that makes no progress for that long (and for the broker's rebalance
timeout), or a broker that does not answer for that long, stops it as well. The worker
then logs why, with Faust's and aiokafka's view of the partition, and exits with
``STALL_EXIT_STATUS`` without committing; ``bundlestream worker`` starts another, and
the group gives that one the partitions (at-least-once; every stage is idempotent).

This module only looks and acts: what it reads of Faust's private state goes through
``streams.faust_internals``, and the decision is ``core.liveness.WorkerLiveness``.
"""

import asyncio
import logging
import os
import time
from collections.abc import Hashable

import faust
from faust.types import TP

from bundlestream.core.liveness import PartitionView, WorkerLiveness, WorkerStalls, WorkerView
from bundlestream.streams import faust_internals
from bundlestream.streams.app import every
from bundlestream.streams.context import StageContext

log = logging.getLogger(__name__)

# Exit status of a worker the watchdog stopped (EX_TEMPFAIL: try again).
STALL_EXIT_STATUS = 75
# A query of offsets that takes this long counts as no answer.
_QUERY_TIMEOUT_S = 15.0


def check_interval_s(timeout_s: float) -> float:
    """Look often enough to notice a stall soon after ``timeout_s``."""
    return min(max(timeout_s / 6, 1.0), 10.0)


class Watchdog:
    """Observes one worker's consumer; ``check`` returns the reasons to stop, if any."""

    def __init__(self, app: faust.App, topics: set[str], timeout_s: float) -> None:
        self.app, self.topics = app, topics
        rebalance_s = float(app.conf.broker_rebalance_timeout)
        self.liveness = WorkerLiveness[TP](timeout_s, rebalance_s)

    async def check(self) -> list[str]:
        view = await self.look()
        return self.reasons(view, self.liveness.observe(view, time.monotonic()))

    async def look(self) -> WorkerView[TP]:
        """The worker as it is now, in plain values."""
        if self.app.rebalancing:
            return WorkerView(rebalance_progress(self.app))
        views = await self.views()
        # A rebalance that started while we asked: what we saw says nothing.
        return WorkerView(None, views, interrupted=self.app.rebalancing)

    def reasons(self, view: WorkerView[TP], stalls: WorkerStalls[TP]) -> list[str]:
        """One line per stall, with the evidence of each stalled partition."""
        reasons = []
        if stalls.rebalance_stuck_s is not None:
            reasons.append(f"rebalance made no progress for {stalls.rebalance_stuck_s:.0f} s")
        if stalls.broker_silent_s is not None:
            reasons.append(f"no offsets from the broker for {stalls.broker_silent_s:.0f} s")
        seen = view.partitions or {}
        for tp, stalled_s in stalls.partitions.items():
            reasons.append(describe_stall(self.app, tp, seen[tp], stalled_s))
        return reasons

    async def views(self) -> dict[TP, PartitionView] | None:
        """Each owned partition of an agent's topic as seen now; None without an answer."""
        consumer = self.app.consumer
        tps = sorted(tp for tp in consumer.assignment() if tp.topic in self.topics)
        if not tps:
            return {}
        try:
            async with asyncio.timeout(_QUERY_TIMEOUT_S):
                starts = await consumer.earliest_offsets(*tps)
                ends = await consumer.highwaters(*tps)
        except Exception as exc:  # any failure to answer is the same: no answer
            log.warning("watchdog: no offsets from the broker: %r", exc)
            return None
        in_flight = faust_internals.messages_in_agents(self.app)
        return {
            tp: PartitionView(
                committed=faust_internals.committed_offset(consumer, tp),
                read=faust_internals.read_offset(consumer, tp),
                start=starts[tp],
                end=ends[tp],
                in_flight=tp in in_flight,
            )
            for tp in tps
            if tp in starts and tp in ends
        }


def rebalance_progress(app: faust.App) -> Hashable:
    """What changes while a rebalance moves on: its generation, the changelog messages
    table recovery still has to read."""
    return (app.consumer_generation_id, faust_internals.recovery_remaining(app))


def describe_stall(app: faust.App, tp: TP, view: PartitionView, stalled_s: float) -> str:
    """Why this worker stops, with what Faust and aiokafka know of the partition."""
    return (
        f"{tp.topic}[{tp.partition}]: {view.lag} messages waiting (committed {view.committed},"
        f" read {view.read}, log {view.start}..{view.end}), none in flight, no progress for"
        f" {stalled_s:.0f} s; {faust_internals.consumer_evidence(app, tp)}"
    )


def stop_stalled_worker(reasons: list[str]) -> None:
    """Log every reason and end the process now, committing nothing more."""
    for reason in reasons:
        log.critical("watchdog: stopping the worker: %s", reason)
    logging.shutdown()
    os._exit(STALL_EXIT_STATUS)


def agent_topics(app: faust.App) -> set[str]:
    """The topics the app's agents read (registered before the watchdog is)."""
    return {name for agent in app.agents.values() for name in getattr(agent.channel, "topics", ())}


def register(app: faust.App, ctx: StageContext) -> None:
    """Watch the partitions of every agent's input topic (off when the timeout is 0).
    Register it after the stages: it watches the agents there are then."""
    timeout_s = ctx.settings.streams.worker_stall_timeout_s
    if timeout_s <= 0:
        return
    watchdog = Watchdog(app, agent_topics(app), timeout_s)

    @every(app, check_interval_s(timeout_s))
    async def watch_progress() -> None:
        reasons = await watchdog.check()
        if reasons:
            stop_stalled_worker(reasons)
