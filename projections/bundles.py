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
    plan = (
        f["plan_id"],
        f["premium_feature_type"],
        len(items),
        sum(item["raw_size"] for item in items),
        f["planned_at"],
    )
    entries: list[Row] = [
        (
            PLANNED_ITEMS,
            (
                f["plan_id"],
                item["data_item_id"],
                position,
                item["raw_size"],
                item["payload_start"],
                item["failed_bundles"],
            ),
        )
        for position, item in enumerate(items)
    ]
    return [(BUNDLE_PLANS, plan), *entries]


def bundle_prepared(event: EventRecord, at: Position) -> list[Row]:
    """The bundle's transaction is signed; its id is the bundle id."""
    f = event.fields
    row = (
        f["plan_id"],
        f["bundle_id"],
        f["bundle_object_key"],
        f["data_size"],
        f["data_root"],
        f["reward"],
        f["anchor"],
        f["item_count"],
        f["prepared_at"],
    )
    return [(BUNDLE_PREPARATIONS, row)]


def bundle_posted(event: EventRecord, at: Position) -> list[Row]:
    f = event.fields
    row = (f["plan_id"], f["bundle_id"], f["posted_height"], f["already_known"], f["posted_at"])
    return [(BUNDLE_POSTS, row)]


def bundle_seeded(event: EventRecord, at: Position) -> list[Row]:
    f = event.fields
    return [(BUNDLE_SEEDINGS, (f["plan_id"], f["bundle_id"], f["chunk_count"], f["seeded_at"]))]


def bundle_confirmed(event: EventRecord, at: Position) -> list[Row]:
    """Permanence: every item of the plan is permanent (derived by the views)."""
    f = event.fields
    row = (
        f["plan_id"],
        f["bundle_id"],
        f["block_height"],
        f["block_id"],
        f["confirmations"],
        f["confirmed_at"],
    )
    return [(BUNDLE_CONFIRMATIONS, row)]


def bundle_dropped(event: EventRecord, at: Position) -> list[Row]:
    f = event.fields
    row = (f["plan_id"], f["bundle_id"], f["reason"], f["last_checked_height"], f["dropped_at"])
    return [(BUNDLE_DROPS, row)]


EVOLVERS: dict[str, Evolve] = {
    "BundlePlanned": bundle_planned,
    "BundlePrepared": bundle_prepared,
    "BundlePosted": bundle_posted,
    "BundleSeeded": bundle_seeded,
    "BundleConfirmed": bundle_confirmed,
    "BundleDropped": bundle_dropped,
}
