"""A realistic, deterministic event log: uploads to permanence, with the rough edges.

Used by the projection tests and bench/bench_projections.py when the streams pipeline
is not what is being measured. Per bundle: its items are received (some twice: a
duplicate verdict follows), accepted, planned, prepared with offsets (one nested item),
posted, seeded and confirmed. Every ``drop_every``-th bundle is dropped after posting:
its items are repacked, re-planned and confirmed in a second bundle, except its first
item, which fails for good.
"""

import hashlib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from confluent_kafka import Producer

from bundlestream.adapters.kafka_producer import producer_config
from bundlestream.schemas import events as ev
from bundlestream.schemas.codec import encode
from bundlestream.schemas.topics import topic_of
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection

START = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Keyed:
    """An event with its topic (relative name) and Kafka key."""

    topic: str
    key: str
    event: ev.Event


def b64id(*parts: object) -> str:
    """A deterministic 43-character base64url-looking id."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()
    return digest[:43]


def keyed(event: ev.Event) -> Keyed:
    topic = topic_of(type(event).__name__)
    return Keyed(topic.name, str(getattr(event, topic.key)), event)


def story(
    bundles: int, items_per_bundle: int, owners: int = 16, drop_every: int = 10
) -> Iterator[Keyed]:
    """The events of ``bundles`` bundles, in an order the pipeline could have written them."""
    clock = itertools.count()
    for b in range(bundles):
        yield from _bundle_life(b, items_per_bundle, owners, drop_every, clock)


def _at(clock: Iterator[int]) -> datetime:
    return START + timedelta(milliseconds=next(clock))


def _bundle_life(
    b: int, n: int, owners: int, drop_every: int, clock: Iterator[int]
) -> Iterator[Keyed]:
    planned: list[ev.PlannedItem] = []
    for i in range(n):
        item, receipts = _upload(b, i, owners, clock)
        yield from receipts
        planned.append(item)
    dropped = drop_every > 0 and b % drop_every == drop_every - 1
    plan_id = b64id("plan", b)
    yield from _plan_to_post(plan_id, planned, clock)
    if not dropped:
        yield from _settle(plan_id, clock)
        return
    yield keyed(
        ev.BundleDropped(
            plan_id=plan_id,
            bundle_id=b64id("tx", plan_id),
            reason="not mined 50 blocks after posting",
            last_checked_height=1_000_050,
            dropped_at=_at(clock),
        )
    )
    first, rest = planned[0], planned[1:]
    yield keyed(
        ev.DataItemFailed(
            data_item_id=first.data_item_id,
            owner_address=first.owner_address,
            reason="dropped from 10 bundles",
            failed_bundles=10,
            last_plan_id=plan_id,
            failed_at=_at(clock),
        )
    )
    yield from _repack(plan_id, rest, clock)
    replan = b64id("replan", b)
    yield from _plan_to_post(replan, rest, clock)
    yield from _settle(replan, clock)


def _upload(
    b: int, i: int, owners: int, clock: Iterator[int]
) -> tuple[ev.PlannedItem, list[Keyed]]:
    item_id, owner = b64id("item", b, i), b64id("owner", (b * 7 + i) % owners)
    size, start = 1024 + (b * 31 + i) % 4096, 1000 + i % 50
    received_at = _at(clock)
    upload = keyed(
        ev.DataItemReceived(
            data_item_id=item_id,
            owner_address=owner,
            signature_type=1 + i % 7,
            raw_size=size,
            payload_start=start,
            payload_size=size - start,
            content_type="text/plain",
            object_key=f"raw/{item_id}",
            received_at=received_at,
            deadline_height=1_000_200,
            winc=str(1000 * size),
            paid_by=(owner,) if i % 3 == 0 else (),
        )
    )
    position = (b * 1000 + i) % 8, b * 1000 + i  # a plausible received partition/offset
    accepted = keyed(
        ev.DataItemAccepted(
            data_item_id=item_id,
            owner_address=owner,
            raw_size=size,
            payload_start=start,
            object_key=f"raw/{item_id}",
            received_partition=position[0],
            received_offset=position[1],
            received_at=received_at,
            accepted_at=_at(clock),
        )
    )
    events = [upload, accepted]
    if i % 20 == 5:  # the same item uploaded again: a second receipt, a duplicate verdict
        events += [
            upload,
            keyed(
                ev.DataItemDuplicateRejected(
                    data_item_id=item_id,
                    owner_address=owner,
                    received_partition=position[0],
                    received_offset=position[1] + 1,
                    winc=str(1000 * size),
                    rejected_at=_at(clock),
                )
            ),
        ]
    item = ev.PlannedItem(
        data_item_id=item_id,
        owner_address=owner,
        raw_size=size,
        payload_start=start,
        received_partition=position[0],
        received_offset=position[1],
        object_key=f"raw/{item_id}",
    )
    return item, events


def _plan_to_post(
    plan_id: str, items: list[ev.PlannedItem], clock: Iterator[int]
) -> Iterator[Keyed]:
    tx = b64id("tx", plan_id)
    size = sum(item.raw_size for item in items)
    yield keyed(ev.BundlePlanned(plan_id=plan_id, items=tuple(items), planned_at=_at(clock)))
    yield keyed(
        ev.BundlePrepared(
            plan_id=plan_id,
            bundle_id=tx,
            bundle_object_key=f"bundles/{tx}",
            data_size=size,
            data_root=b64id("root", tx),
            reward=str(10**12 + size),
            anchor=b64id("anchor", tx),
            item_count=len(items),
            tx_header=b'{"format":2}',
            prepared_at=_at(clock),
        )
    )
    yield keyed(
        ev.OffsetsRecorded(
            plan_id=plan_id, root_bundle_id=tx, items=tuple(_offsets(items)), recorded_at=_at(clock)
        )
    )
    yield keyed(
        ev.BundlePosted(
            plan_id=plan_id, bundle_id=tx, posted_height=1_000_000, posted_at=_at(clock)
        )
    )
    yield keyed(
        ev.BundleSeeded(
            plan_id=plan_id, bundle_id=tx, chunk_count=1 + size // 262144, seeded_at=_at(clock)
        )
    )


def _offsets(items: list[ev.PlannedItem]) -> Iterator[ev.ItemOffset]:
    start = 32 + 64 * len(items)  # ANS-104 header: count, then (size, id) per item
    for item in items:
        yield ev.ItemOffset(
            data_item_id=item.data_item_id,
            start_offset_in_root_bundle=start,
            raw_content_length=item.raw_size,
            payload_data_start=item.payload_start,
            payload_content_type="text/plain",
        )
        start += item.raw_size
    first = items[0]
    yield ev.ItemOffset(
        data_item_id=b64id("nested", first.data_item_id),
        start_offset_in_root_bundle=32 + 64 * len(items) + first.payload_start + 96,
        raw_content_length=200,
        payload_data_start=120,
        parent_data_item_id=first.data_item_id,
        start_offset_in_parent_payload=96,
    )


def _settle(plan_id: str, clock: Iterator[int]) -> Iterator[Keyed]:
    tx = b64id("tx", plan_id)
    yield keyed(
        ev.BundleConfirmed(
            plan_id=plan_id,
            bundle_id=tx,
            block_height=1_000_001,
            block_id=b64id("block", tx),
            confirmations=18,
            confirmed_at=_at(clock),
        )
    )


def _repack(plan_id: str, items: list[ev.PlannedItem], clock: Iterator[int]) -> Iterator[Keyed]:
    by_owner: dict[str, list[ev.PlannedItem]] = {}
    for item in items:
        by_owner.setdefault(item.owner_address, []).append(item)
    for owner, owned in sorted(by_owner.items()):
        yield keyed(
            ev.DataItemsRepacked(
                owner_address=owner,
                plan_id=plan_id,
                bundle_id=b64id("tx", plan_id),
                items=tuple(owned),
                repacked_at=_at(clock),
            )
        )


def produce(settings: Settings, events: Iterable[Keyed]) -> int:
    """Write events to their topics under the settings' prefix, acks=all; how many."""
    producer = Producer({**producer_config(kafka_connection(settings)), "linger.ms": 20})
    count = 0
    for item in events:
        topic = f"{settings.kafka.topic_prefix}{item.topic}"
        while True:
            try:
                producer.produce(topic, encode(item.event), item.key.encode())
                break
            except BufferError:
                producer.poll(0.1)
        count += 1
        if count % 10_000 == 0:
            producer.poll(0)
    if producer.flush(120) > 0:
        raise RuntimeError("events not acknowledged")
    return count
