"""When a consumer has stalled: work waiting and no progress for too long.

A worker looks at its assigned partitions now and then (``PartitionView``). A partition
is waiting when it has messages past its position and none of its messages is in an
agent's hands; its progress is its committed and read offsets. A partition whose message
an agent holds (a long bundle preparation, a long seeding) is busy, not waiting.
``StallTracker`` reports what stayed waiting with the same progress for ``timeout_s``
without a break.

``WorkerLiveness`` puts a worker's partitions, its broker and its rebalance together:
one ``WorkerView`` of plain values in, ``WorkerStalls`` out.

Pure: the caller passes the time in and decides what a stall means.
"""

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class PartitionView:
    """One look at one partition.

    ``committed`` is the next offset to read as this consumer last committed it (None
    until it has), ``read`` the offset it last handed to an agent (None until it has),
    ``start`` and ``end`` the log's first offset and high watermark on the broker.
    """

    committed: int | None
    read: int | None
    start: int
    end: int
    in_flight: bool

    @property
    def position(self) -> int:
        return self.start if self.committed is None else max(self.committed, self.start)

    @property
    def lag(self) -> int:
        return max(self.end - self.position, 0)


def waiting_partitions(views: Mapping[K, PartitionView]) -> dict[K, Hashable]:
    """Partition → its progress, for the partitions with messages waiting and none in
    an agent's hands."""
    return {
        partition: (view.committed, view.read)
        for partition, view in views.items()
        if view.lag > 0 and not view.in_flight
    }


@dataclass
class StallTracker(Generic[K]):
    """Remembers since when each waiting thing has shown the same progress."""

    timeout_s: float
    _since: dict[K, tuple[Hashable, float]] = field(default_factory=dict)

    def observe(self, now: float, waiting: Mapping[K, Hashable]) -> dict[K, float]:
        """What has been waiting with unchanged progress for ``timeout_s`` or longer as of
        ``now`` → for how long. ``waiting`` maps what waits now to its progress; whatever
        is not in it is not waiting (any more)."""
        self._since = {
            key: seen if (seen := self._since.get(key)) and seen[0] == progress else (progress, now)
            for key, progress in waiting.items()
        }
        return {
            key: now - since
            for key, (_, since) in self._since.items()
            if now - since >= self.timeout_s
        }

    def forget(self) -> None:
        """Start over: what was seen before (another assignment, no answer) says nothing."""
        self._since.clear()


@dataclass(frozen=True)
class WorkerView(Generic[K]):
    """One look at a worker, in plain values.

    ``rebalance`` is what changes while a rebalance moves on (its generation, the
    changelog messages recovery has left), None when none runs. Otherwise
    ``partitions`` are the owned partitions as the broker and the consumer told them,
    None when the broker did not answer; ``interrupted`` when a rebalance started
    while the broker was asked, so that what it said says nothing.
    """

    rebalance: Hashable | None
    partitions: Mapping[K, PartitionView] | None = None
    interrupted: bool = False


@dataclass(frozen=True)
class WorkerStalls(Generic[K]):
    """Why a worker should stop: each stalled partition → for how long; for how long
    the broker has not answered or a rebalance has made no progress (None: it has)."""

    partitions: Mapping[K, float] = field(default_factory=dict)
    broker_silent_s: float | None = None
    rebalance_stuck_s: float | None = None


@dataclass
class WorkerLiveness(Generic[K]):
    """Since when a worker's partitions, its broker and its rebalance have shown no
    progress. A rebalance may legitimately wait for the slowest member up to the
    broker's rebalance timeout (a member finishes its message in hand first), so it is
    given ``max(timeout_s, 2 * rebalance_timeout_s)``."""

    timeout_s: float
    rebalance_timeout_s: float
    partitions: StallTracker[K] = field(init=False)
    broker: StallTracker[str] = field(init=False)
    rebalance: StallTracker[str] = field(init=False)

    def __post_init__(self) -> None:
        self.partitions = StallTracker[K](self.timeout_s)
        self.broker = StallTracker[str](self.timeout_s)
        self.rebalance = StallTracker[str](max(self.timeout_s, 2 * self.rebalance_timeout_s))

    def observe(self, view: WorkerView[K], now: float) -> WorkerStalls[K]:
        """What has stalled as of ``now``, given this look at the worker. Each kind of
        look starts the others' clocks over: a rebalance, an answer, no answer."""
        if view.rebalance is not None:
            self.partitions.forget()
            self.broker.forget()
            stuck = self.rebalance.observe(now, {"rebalance": view.rebalance})
            return WorkerStalls(rebalance_stuck_s=stuck.get("rebalance"))
        self.rebalance.forget()
        if view.interrupted:
            return WorkerStalls()
        if view.partitions is None:
            self.partitions.forget()
            silent = self.broker.observe(now, {"broker": "no answer"})
            return WorkerStalls(broker_silent_s=silent.get("broker"))
        self.broker.forget()
        return WorkerStalls(self.partitions.observe(now, waiting_partitions(view.partitions)))
