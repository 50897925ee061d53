"""Example downstream consumer: print each data item as it becomes permanent.

An indexer outside bundlestream needs only Kafka and ``schemas`` (the Avro schemas and
the single-object decoder). Item permanence is not one event: ``BundleConfirmed`` (topic
``bundles.settled``) says a *plan* is permanent, and ``BundlePlanned`` (topic
``bundles.planned``) lists the plan's items. Both are keyed by plan id, but they are on
different topics, so either may be read first: this consumer remembers plans and
confirmations until it has both, then prints one JSON line per item. A dropped plan is
forgotten (its items come back in a later plan).

It reads both topics from the beginning (the log is kept forever), so it prints the
history first, then follows. Delivery is at least once: a redelivered confirmation
prints its items again; an indexer makes that harmless with an upsert by item id.

    .venv/bin/python examples/permanent_items.py            # BUNDLESTREAM_* settings
"""

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bundlestream.schemas.codec import DecodeError, decode
from bundlestream.schemas.events import BundleConfirmed, BundleDropped, BundlePlanned
from bundlestream.schemas.topics import BUNDLES_PLANNED, BUNDLES_SETTLED
from bundlestream.settings import Settings


@dataclass
class PermanenceJoin:
    """Plans and confirmations seen so far, joined by plan id."""

    plans: dict[str, BundlePlanned] = field(default_factory=dict)
    confirmed: dict[str, BundleConfirmed] = field(default_factory=dict)

    def add(self, event: object) -> Iterator[dict[str, Any]]:
        """Take one event; yield the items that it makes known as permanent."""
        if isinstance(event, BundleDropped):
            self.plans.pop(event.plan_id, None)
            return
        if isinstance(event, BundlePlanned):
            self.plans[event.plan_id] = event
        elif isinstance(event, BundleConfirmed):
            self.confirmed[event.plan_id] = event
        else:
            return
        plan_id = event.plan_id
        if plan_id in self.plans and plan_id in self.confirmed:
            yield from _items(self.plans.pop(plan_id), self.confirmed.pop(plan_id))


def _items(plan: BundlePlanned, confirmed: BundleConfirmed) -> Iterator[dict[str, Any]]:
    for item in plan.items:
        yield {
            "id": item.data_item_id,
            "owner": item.owner_address,
            "bundleId": confirmed.bundle_id,
            "blockHeight": confirmed.block_height,
            "confirmedAt": confirmed.confirmed_at.isoformat(),
        }


def follow(
    settings: Settings, emit: Callable[[dict[str, Any]], None], stop: Callable[[], bool]
) -> None:
    """Read both topics from the beginning and emit permanent items until ``stop()``."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap,
            "group.id": "permanent-items-example",  # assign() only: never joins the group
            "enable.auto.commit": False,
        }
    )
    topics = [t.full_name(settings.kafka.topic_prefix) for t in (BUNDLES_PLANNED, BUNDLES_SETTLED)]
    partitions = [
        TopicPartition(topic, p, OFFSET_BEGINNING)
        for topic in topics
        for p in consumer.list_topics(topic, timeout=30).topics[topic].partitions
    ]
    consumer.assign(partitions)
    join = PermanenceJoin()
    try:
        while not stop():
            for message in consumer.consume(500, 0.5):
                if message.error() is not None:
                    continue
                try:
                    event = decode(message.value() or b"")
                except DecodeError as exc:  # a newer schema than this copy of schemas/
                    print(f"skipping {message.topic()}@{message.offset()}: {exc}", file=sys.stderr)
                    continue
                for item in join.add(event):
                    emit(item)
    finally:
        consumer.close()


def main() -> int:
    with contextlib.suppress(KeyboardInterrupt):
        follow(Settings(), lambda item: print(json.dumps(item), flush=True), lambda: False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
