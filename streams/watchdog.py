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
"""

import asyncio
import logging
import os
import time
from collections.abc import Hashable, Mapping
from typing import Any

import faust
from bundlestream.core.liveness import PartitionView, StallTracker, waiting_partitions
from bundlestream.streams.context import StageContext
from faust.types import TP

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
        self.partitions = StallTracker[TP](timeout_s)
        self.broker = StallTracker[str](timeout_s)
        # A rebalance may legitimately wait for the slowest member up to the broker's
        # rebalance timeout (a member finishes its message in hand first).
        rebalance_s = float(app.conf.broker_rebalance_timeout)
        self.rebalance = StallTracker[str](max(timeout_s, 2 * rebalance_s))

    async def check(self) -> list[str]:
        if self.app.rebalancing:
            return self.check_rebalance()
        self.rebalance.forget()
        views = await self.views()
        if self.app.rebalancing:  # it started while we asked: what we saw says nothing
            return []
        if views is None:
            self.partitions.forget()
            silent = self.broker.observe(time.monotonic(), {"broker": "no answer"})
            return [f"no offsets from the broker for {s:.0f} s" for s in silent.values()]
        self.broker.forget()
        stalled = self.partitions.observe(time.monotonic(), waiting_partitions(views))
        return [describe_stall(self.app, tp, views[tp], s) for tp, s in stalled.items()]

    def check_rebalance(self) -> list[str]:
        self.partitions.forget()
        self.broker.forget()
        progress = {"rebalance": rebalance_progress(self.app)}
        stuck = self.rebalance.observe(time.monotonic(), progress)
        return [f"rebalance made no progress for {s:.0f} s" for s in stuck.values()]

    async def views(self) -> dict[TP, PartitionView] | None:
        """Each owned partition of an agent's topic as seen now; None without an answer."""
        consumer: Any = self.app.consumer
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
        in_flight = held_partitions(self.app)
        return {
            tp: PartitionView(
                committed=consumer._committed_offset.get(tp),
                read=consumer._read_offset.get(tp),
                start=starts[tp],
                end=ends[tp],
                in_flight=tp in in_flight,
            )
            for tp in tps
            if tp in starts and tp in ends
        }


def held_partitions(app: faust.App) -> set[TP]:
    """Partitions with a message in an agent's hands: taken by its stream and not yet
    acknowledged, or delivered to its channel and waiting there (one agent serves every
    partition of its topic, so a long message of one keeps the others waiting)."""
    consumer: Any = app.consumer
    held = {message.tp for message in list(consumer.unacked)}
    conductor: Any = app.topics
    for channels in list(conductor._topic_name_index.values()):
        for channel in list(channels):
            queued = getattr(channel._queue, "_queue", None) or ()
            held.update(event.message.tp for event in list(queued))
    return held


def rebalance_progress(app: faust.App) -> Hashable:
    """What changes while a rebalance moves on: its generation, the changelog messages
    table recovery still has to read."""
    recovery: Any = app.tables.recovery  # type: ignore[attr-defined]
    return (app.consumer_generation_id, recovery.active_remaining_total())


def describe_stall(app: faust.App, tp: TP, view: PartitionView, stalled_s: float) -> str:
    """Why this worker stops, with what Faust and aiokafka know of the partition."""
    return (
        f"{tp.topic}[{tp.partition}]: {view.lag} messages waiting (committed {view.committed},"
        f" read {view.read}, log {view.start}..{view.end}), none in flight, no progress for"
        f" {stalled_s:.0f} s; {consumer_state(app, tp)}"
    )


def consumer_state(app: faust.App, tp: TP) -> Mapping[str, object]:
    """Faust's and aiokafka's state of ``tp`` (private attributes, read only: evidence
    for the log, never used to decide)."""
    consumer: Any = app.consumer
    state: dict[str, object] = {
        "faust_active": tp in (consumer._active_partitions or set()),
        "faust_paused": tp in consumer._paused_partitions,
        "flow_active": consumer.flow_active,
        "flow_control_active": app.flow_control.is_active(),
        "acked_pending": len(consumer._acked.get(tp, ())),
        "generation": app.consumer_generation_id,
        "fetcher": repr(getattr(app, "_fetcher", None)),
    }
    try:
        kafka = consumer._thread._consumer
        subscription = kafka._subscription.subscription
        assignment = subscription.assignment if subscription else None
        tp_state = assignment.state_value(tp) if assignment else None
        fetcher = kafka._fetcher
        state |= {
            "kafka_assigned": tp_state is not None,
            "kafka_paused": tp_state.paused if tp_state else None,
            "kafka_position": tp_state._position if tp_state else None,
            "kafka_highwater": kafka.highwater(tp),
            "kafka_buffered": type(fetcher._records.get(tp)).__name__,
            "kafka_in_flight_nodes": sorted(fetcher._in_flight),
            "kafka_fetch_task_done": fetcher._fetch_task.done(),
        }
    except Exception as exc:  # evidence only: never let it hide the stall
        state["kafka_state_error"] = repr(exc)
    return state


def stop_stalled_worker(reasons: list[str]) -> None:
    """Log every reason and end the process now, committing nothing more."""
    for reason in reasons:
        log.critical("watchdog: stopping the worker: %s", reason)
    logging.shutdown()
    os._exit(STALL_EXIT_STATUS)


def agent_topics(app: faust.App) -> set[str]:
    """The topics the app's agents read (registered before the watchdog is)."""
    agents: Any = app.agents
    return {name for agent in agents.values() for name in getattr(agent.channel, "topics", ())}


def register(app: faust.App, ctx: StageContext) -> None:
    """Watch the partitions of every agent's input topic (off when the timeout is 0).
    Register it after the stages: it watches the agents there are then."""
    timeout_s = ctx.settings.streams.worker_stall_timeout_s
    if timeout_s <= 0:
        return
    watchdog = Watchdog(app, agent_topics(app), timeout_s)

    @app.timer(interval=check_interval_s(timeout_s))  # type: ignore[untyped-decorator]
    async def watch_progress() -> None:
        reasons = await watchdog.check()
        if reasons:
            stop_stalled_worker(reasons)
