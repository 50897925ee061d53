"""Read model of bundles: one fact per lifecycle stage, keyed by plan id.

The ``bundles`` view derives the state (planned, prepared, posted, seeded, permanent,
dropped) from which facts exist, so stages read from different topics in any
interleaving give the same tables.
"""

from bundlestream.projections.records import EventRecord
from bundlestream.projections.rows import Evolve, Position, Row
from bundlestream.projections.tables import (
    BUNDLE_CONFIRMATIONS,
    BUNDLE_DROPS,
    BUNDLE_PLANS,
    BUNDLE_POSTS,
    BUNDLE_PREPARATIONS,
    BUNDLE_SEEDINGS,
    PLANNED_ITEMS,
)


def bundle_planned(event: EventRecord, at: Position) -> list[Row]:
    """A plan and its entries, in bundle order."""
    f = event.fields
    items = f["items"]
    plan = BUNDLE_PLANS.row(
        plan_id=f["plan_id"],
        premium_feature_type=f["premium_feature_type"],
        item_count=len(items),
        byte_count=sum(item["raw_size"] for item in items),
        planned_at=f["planned_at"],
    )
    entries: list[Row] = [
        (
            PLANNED_ITEMS,
            PLANNED_ITEMS.row(
                plan_id=f["plan_id"],
                data_item_id=item["data_item_id"],
                position=position,
                byte_count=item["raw_size"],
                payload_start=item["payload_start"],
                failed_bundles=item["failed_bundles"],
            ),
        )
        for position, item in enumerate(items)
    ]
    return [(BUNDLE_PLANS, plan), *entries]


def bundle_prepared(event: EventRecord, at: Position) -> list[Row]:
    """The bundle's transaction is signed; its id is the bundle id."""
    f = event.fields
    row = BUNDLE_PREPARATIONS.row(
        plan_id=f["plan_id"],
        bundle_id=f["bundle_id"],
        bundle_object_key=f["bundle_object_key"],
        data_size=f["data_size"],
        data_root=f["data_root"],
        reward=f["reward"],
        anchor=f["anchor"],
        item_count=f["item_count"],
        prepared_at=f["prepared_at"],
    )
    return [(BUNDLE_PREPARATIONS, row)]


def bundle_posted(event: EventRecord, at: Position) -> list[Row]:
    f = event.fields
    row = BUNDLE_POSTS.row(
        plan_id=f["plan_id"],
        bundle_id=f["bundle_id"],
        posted_height=f["posted_height"],
        already_known=f["already_known"],
        posted_at=f["posted_at"],
    )
    return [(BUNDLE_POSTS, row)]


def bundle_seeded(event: EventRecord, at: Position) -> list[Row]:
    f = event.fields
    row = BUNDLE_SEEDINGS.row(
        plan_id=f["plan_id"],
        bundle_id=f["bundle_id"],
        chunk_count=f["chunk_count"],
        seeded_at=f["seeded_at"],
    )
    return [(BUNDLE_SEEDINGS, row)]


def bundle_confirmed(event: EventRecord, at: Position) -> list[Row]:
    """Permanence: every item of the plan is permanent (derived by the views)."""
    f = event.fields
    row = BUNDLE_CONFIRMATIONS.row(
        plan_id=f["plan_id"],
        bundle_id=f["bundle_id"],
        block_height=f["block_height"],
        block_id=f["block_id"],
        confirmations=f["confirmations"],
        confirmed_at=f["confirmed_at"],
    )
    return [(BUNDLE_CONFIRMATIONS, row)]


def bundle_dropped(event: EventRecord, at: Position) -> list[Row]:
    f = event.fields
    row = BUNDLE_DROPS.row(
        plan_id=f["plan_id"],
        bundle_id=f["bundle_id"],
        reason=f["reason"],
        last_checked_height=f["last_checked_height"],
        dropped_at=f["dropped_at"],
    )
    return [(BUNDLE_DROPS, row)]


EVOLVERS: dict[str, Evolve] = {
    "BundlePlanned": bundle_planned,
    "BundlePrepared": bundle_prepared,
    "BundlePosted": bundle_posted,
    "BundleSeeded": bundle_seeded,
    "BundleConfirmed": bundle_confirmed,
    "BundleDropped": bundle_dropped,
}
