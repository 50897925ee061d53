"""Read model of data items: what was received, dedup's verdicts, repacks and failures.

Pure functions from one event to the rows it adds; the item's state (new, planned,
permanent, failed) is derived by the ``data_items`` view from these facts and the
bundle facts.
"""

from bundlestream.projections.records import EventRecord
from bundlestream.projections.rows import Evolve, Position, Row
from bundlestream.projections.tables import (
    ACCEPTED_ITEMS,
    DUPLICATE_UPLOADS,
    FAILED_ITEMS,
    RECEIVED_ITEMS,
    REPACKED_ITEMS,
)


def item_received(event: EventRecord, at: Position) -> list[Row]:
    """A verified upload; a duplicate upload of the same id adds nothing here."""
    f = event.fields
    return [
        (
            RECEIVED_ITEMS,
            (
                f["data_item_id"],
                f["owner_address"],
                f["signature_type"],
                f["raw_size"],
                f["payload_start"],
                f["content_type"],
                f["winc"],
                f["premium_feature_type"],
                f["deadline_height"],
                f["object_key"],
                f["paid_by"],
                at.partition,
                at.offset,
                f["received_at"],
            ),
        )
    ]


def item_accepted(event: EventRecord, at: Position) -> list[Row]:
    """Dedup's first sighting of an id."""
    f = event.fields
    row = (f["data_item_id"], f["received_partition"], f["received_offset"], f["accepted_at"])
    return [(ACCEPTED_ITEMS, row)]


def duplicate_rejected(event: EventRecord, at: Position) -> list[Row]:
    """An upload of an id dedup had already accepted."""
    f = event.fields
    row = (
        f["received_partition"],
        f["received_offset"],
        f["data_item_id"],
        f["owner_address"],
        f["winc"],
        f["rejected_at"],
    )
    return [(DUPLICATE_UPLOADS, row)]


def items_repacked(event: EventRecord, at: Position) -> list[Row]:
    """Items of a dropped plan, back to planning (their state follows from the drop)."""
    f = event.fields
    return [
        (
            REPACKED_ITEMS,
            (
                f["plan_id"],
                item["data_item_id"],
                item["owner_address"],
                item["failed_bundles"],
                f["repacked_at"],
            ),
        )
        for item in f["items"]
    ]


def item_failed(event: EventRecord, at: Position) -> list[Row]:
    """An item given up for good, with the reason status serves."""
    f = event.fields
    row = (
        f["data_item_id"],
        f["owner_address"],
        f["reason"],
        f["failed_bundles"],
        f["last_plan_id"],
        f["failed_at"],
    )
    return [(FAILED_ITEMS, row)]


EVOLVERS: dict[str, Evolve] = {
    "DataItemReceived": item_received,
    "DataItemAccepted": item_accepted,
    "DataItemDuplicateRejected": duplicate_rejected,
    "DataItemsRepacked": items_repacked,
    "DataItemFailed": item_failed,
}
