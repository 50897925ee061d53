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
    row = RECEIVED_ITEMS.row(
        data_item_id=f["data_item_id"],
        owner_address=f["owner_address"],
        signature_type=f["signature_type"],
        byte_count=f["raw_size"],
        payload_start=f["payload_start"],
        content_type=f["content_type"],
        winc=f["winc"],
        premium_feature_type=f["premium_feature_type"],
        deadline_height=f["deadline_height"],
        object_key=f["object_key"],
        paid_by=f["paid_by"],
        received_partition=at.partition,
        received_offset=at.offset,
        received_at=f["received_at"],
    )
    return [(RECEIVED_ITEMS, row)]


def item_accepted(event: EventRecord, at: Position) -> list[Row]:
    """Dedup's first sighting of an id."""
    f = event.fields
    row = ACCEPTED_ITEMS.row(
        data_item_id=f["data_item_id"],
        received_partition=f["received_partition"],
        received_offset=f["received_offset"],
        accepted_at=f["accepted_at"],
    )
    return [(ACCEPTED_ITEMS, row)]


def duplicate_rejected(event: EventRecord, at: Position) -> list[Row]:
    """An upload of an id dedup had already accepted."""
    f = event.fields
    row = DUPLICATE_UPLOADS.row(
        received_partition=f["received_partition"],
        received_offset=f["received_offset"],
        data_item_id=f["data_item_id"],
        owner_address=f["owner_address"],
        winc=f["winc"],
        rejected_at=f["rejected_at"],
    )
    return [(DUPLICATE_UPLOADS, row)]


def items_repacked(event: EventRecord, at: Position) -> list[Row]:
    """Items of a dropped plan, back to planning (their state follows from the drop)."""
    f = event.fields
    return [
        (
            REPACKED_ITEMS,
            REPACKED_ITEMS.row(
                plan_id=f["plan_id"],
                data_item_id=item["data_item_id"],
                owner_address=item["owner_address"],
                failed_bundles=item["failed_bundles"],
                repacked_at=f["repacked_at"],
            ),
        )
        for item in f["items"]
    ]


def item_failed(event: EventRecord, at: Position) -> list[Row]:
    """An item given up for good, with the reason status serves."""
    f = event.fields
    row = FAILED_ITEMS.row(
        data_item_id=f["data_item_id"],
        owner_address=f["owner_address"],
        reason=f["reason"],
        failed_bundles=f["failed_bundles"],
        last_plan_id=f["last_plan_id"],
        failed_at=f["failed_at"],
    )
    return [(FAILED_ITEMS, row)]


EVOLVERS: dict[str, Evolve] = {
    "DataItemReceived": item_received,
    "DataItemAccepted": item_accepted,
    "DataItemDuplicateRejected": duplicate_rejected,
    "DataItemsRepacked": items_repacked,
    "DataItemFailed": item_failed,
}
