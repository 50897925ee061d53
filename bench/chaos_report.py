"""The run's accounting, from the event log read from offset 0 and from the clients.

An item is lost when a client was told it is stored (200 with a receipt, or 202
"already uploaded") and it is not in the log or is in no confirmed bundle; it is
bundled twice when two distinct confirmed plans list it. A plan decided again after a
crash has the same id and items and counts once, as the stages downstream treat it.
"""

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from bundlestream.schemas.codec import decode
from bundlestream.schemas.events import BundlePlanned
from bundlestream.schemas.topics import CATALOGUE
from bundlestream.settings import Settings


@dataclass
class EventLog:
    """Every event of the deployment's topics, read from offset 0 by a private consumer
    that commits nothing; a record seen twice (a reassignment after a broker restart
    starts again at 0) is kept once."""

    settings: Settings
    events: dict[str, list[Any]] = field(default_factory=dict)
    seen: set[tuple[str, int, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        # Assigned, not subscribed: no group coordinator to wait for while a broker is
        # down, and every partition from its first offset.
        self.consumer = Consumer(
            {
                "bootstrap.servers": self.settings.kafka.bootstrap,
                "group.id": f"chaos-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "topic.metadata.refresh.interval.ms": 1000,
            }
        )
        names = [t.full_name(self.settings.kafka.topic_prefix) for t in CATALOGUE]
        topics = self.consumer.list_topics(timeout=30).topics
        self.partitions = [
            TopicPartition(name, p, OFFSET_BEGINNING)
            for name in names
            for p in topics[name].partitions
        ]
        self.consumer.assign(self.partitions)
        self.next: dict[tuple[str, int], int] = {}

    def catch_up(self) -> None:
        """Read up to the end each partition has now (the workers' clock ticks keep
        every topic growing: reading "until quiet" would never end)."""
        ends = {
            (tp.topic, tp.partition): self.consumer.get_watermark_offsets(tp, timeout=30)[1]
            for tp in self.partitions
        }
        while any(self.next.get(where, 0) < end for where, end in ends.items()):
            self._poll()

    def _poll(self) -> None:
        for message in self.consumer.consume(5000, 1.0):
            if message.error() is not None:
                continue
            where = (message.topic(), message.partition(), message.offset())
            self.next[where[:2]] = max(self.next.get(where[:2], 0), where[2] + 1)
            if where not in self.seen:
                self.seen.add(where)
                event = decode(message.value())
                self.events.setdefault(type(event).__name__, []).append(event)

    def of(self, name: str) -> list[Any]:
        return self.events.get(name, [])

    def close(self) -> None:
        self.consumer.close()


def distinct_plans(log: EventLog) -> dict[str, BundlePlanned]:
    plans: dict[str, BundlePlanned] = {}
    conflicting = []
    for plan in log.of("BundlePlanned"):
        if plans.setdefault(plan.plan_id, plan) != plan:
            conflicting.append(plan.plan_id)
    if conflicting:
        print(f"plan ids with two contents: {conflicting}", flush=True)
    return plans


def confirmed_counts(log: EventLog) -> Counter[str]:
    """Item id → how many distinct confirmed plans list it."""
    confirmed = {e.plan_id for e in log.of("BundleConfirmed")}
    return Counter(
        item.data_item_id
        for plan in distinct_plans(log).values()
        if plan.plan_id in confirmed
        for item in plan.items
    )


def live_counts(log: EventLog) -> Counter[str]:
    """Item id → how many distinct plans that were not dropped list it."""
    dropped = {e.plan_id for e in log.of("BundleDropped")}
    return Counter(
        item.data_item_id
        for plan in distinct_plans(log).values()
        if plan.plan_id not in dropped
        for item in plan.items
    )


@dataclass(frozen=True)
class Accounting:
    told_stored: set[str]
    in_log: set[str]
    once: set[str]
    twice: dict[str, int]
    live_twice: dict[str, int]
    not_in_log: set[str]
    unbundled: set[str]

    @property
    def lost(self) -> set[str]:
        return self.not_in_log | self.unbundled


def account(log: EventLog, told_stored: set[str]) -> Accounting:
    received = {e.data_item_id for e in log.of("DataItemReceived")}
    confirmed, live = confirmed_counts(log), live_counts(log)
    return Accounting(
        told_stored=told_stored,
        in_log=received & told_stored,
        once={i for i in told_stored if confirmed[i] == 1},
        twice={i: n for i, n in confirmed.items() if n > 1},
        live_twice={i: n for i, n in live.items() if n > 1},
        not_in_log=told_stored - received,
        unbundled={i for i in told_stored & received if confirmed[i] == 0},
    )


def item_story(log: EventLog, item_id: str) -> list[str]:
    """Every event that names ``item_id``, and the stages of every plan listing it."""
    story = [
        f"{name} {getattr(e, 'received_offset', '')}"
        for name in ("DataItemReceived", "DataItemAccepted", "DataItemDuplicateRejected")
        for e in log.of(name)
        if e.data_item_id == item_id
    ]
    for plan in distinct_plans(log).values():
        if any(item.data_item_id == item_id for item in plan.items):
            stages = [
                name
                for name in log.events
                if name.startswith("Bundle")
                and any(getattr(e, "plan_id", None) == plan.plan_id for e in log.of(name))
            ]
            story.append(f"plan {plan.plan_id}: {stages}")
    return story
