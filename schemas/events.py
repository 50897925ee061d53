"""Typed records of every event, one frozen dataclass per event name.

Each class mirrors the newest version of the Avro schema of the same name
(``schemas/avro/<Name>.v<N>.avsc``); a test keeps fields and schema in step. Arrays are
tuples so that an event, once built, cannot change. Timestamps are timezone-aware
``datetime`` values (Avro ``timestamp-millis``: sub-millisecond precision is dropped).
"""

from dataclasses import dataclass
from datetime import datetime

from bundlestream.schemas.ledger_events import LEDGER_EVENT_TYPES, LedgerEvent


@dataclass(frozen=True, kw_only=True, slots=True)
class DataItemReceived:
    """A verified data item whose bytes are durable; produced before its receipt is signed."""

    data_item_id: str
    owner_address: str
    signature_type: int
    raw_size: int
    payload_start: int
    payload_size: int
    received_at: datetime
    deadline_height: int
    winc: str
    content_type: str | None = None
    object_key: str | None = None
    inline_item: bytes | None = None
    premium_feature_type: str = "default"
    paid_by: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class DataItemAccepted:
    """First sighting of a data item id: it must end up in exactly one permanent bundle."""

    data_item_id: str
    owner_address: str
    raw_size: int
    payload_start: int
    received_partition: int
    received_offset: int
    received_at: datetime
    accepted_at: datetime
    premium_feature_type: str = "default"
    object_key: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class DataItemDuplicateRejected:
    """A data item id that was already accepted; this upload adds nothing to any bundle."""

    data_item_id: str
    owner_address: str
    received_partition: int
    received_offset: int
    winc: str
    rejected_at: datetime
    paid_by: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class PlannedItem:
    """One data item as an entry of a bundle, with where its bytes are."""

    data_item_id: str
    owner_address: str
    raw_size: int
    payload_start: int
    received_partition: int
    received_offset: int
    object_key: str | None = None
    failed_bundles: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class BundlePlanned:
    """The planner cut a bundle: these items, in this order, make one ANS-104 bundle."""

    plan_id: str
    items: tuple[PlannedItem, ...]
    planned_at: datetime
    premium_feature_type: str = "default"


@dataclass(frozen=True, kw_only=True, slots=True)
class BundlePrepared:
    """Bundle bytes assembled in the object store and its transaction signed."""

    plan_id: str
    bundle_id: str
    bundle_object_key: str
    data_size: int
    data_root: str
    reward: str
    anchor: str
    item_count: int
    tx_header: bytes
    prepared_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class BundlePosted:
    """The gateway accepted the bundle transaction (or already had it)."""

    plan_id: str
    bundle_id: str
    posted_height: int
    posted_at: datetime
    already_known: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class BundleSeeded:
    """Every chunk of the bundle was uploaded to the gateway."""

    plan_id: str
    bundle_id: str
    chunk_count: int
    seeded_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class BundleConfirmed:
    """The bundle transaction reached the permanence threshold."""

    plan_id: str
    bundle_id: str
    block_height: int
    block_id: str
    confirmations: int
    confirmed_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class BundleCleanedUp:
    """The local copies of a permanent bundle were deleted, its retention over."""

    plan_id: str
    bundle_id: str
    deleted_objects: int
    confirmed_at: datetime
    cleaned_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class BundleDropped:
    """The bundle transaction will never be mined; its items are to be repacked."""

    plan_id: str
    reason: str
    dropped_at: datetime
    bundle_id: str | None = None
    last_checked_height: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class DataItemsRepacked:
    """One owner's items of a dropped bundle, going back to planning."""

    owner_address: str
    plan_id: str
    items: tuple[PlannedItem, ...]
    repacked_at: datetime
    bundle_id: str | None = None
    premium_feature_type: str = "default"


@dataclass(frozen=True, kw_only=True, slots=True)
class DataItemFailed:
    """A data item that will not be bundled any more. Terminal."""

    data_item_id: str
    owner_address: str
    reason: str
    failed_bundles: int
    failed_at: datetime
    last_plan_id: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ItemOffset:
    """Where one item lies in a bundle, as GET /tx/{id}/offsets answers it."""

    data_item_id: str
    start_offset_in_root_bundle: int
    raw_content_length: int
    payload_data_start: int
    payload_content_type: str | None = None
    parent_data_item_id: str | None = None
    start_offset_in_parent_payload: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class OffsetsRecorded:
    """Offsets of items (nested ones too) inside a prepared bundle."""

    plan_id: str
    root_bundle_id: str
    items: tuple[ItemOffset, ...]
    recorded_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class PlannerTicked:
    """A clock reading in the planner's input log: overdue cuts are decided from the log."""

    owner_address: str
    partition: int
    ticked_at: datetime


Event = (
    DataItemReceived
    | DataItemAccepted
    | DataItemDuplicateRejected
    | BundlePlanned
    | BundlePrepared
    | BundlePosted
    | BundleSeeded
    | BundleConfirmed
    | BundleCleanedUp
    | BundleDropped
    | DataItemsRepacked
    | DataItemFailed
    | OffsetsRecorded
    | PlannerTicked
    | LedgerEvent
)

# Event name (the Avro record name) → its class. Nested records are not events.
EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        DataItemReceived,
        DataItemAccepted,
        DataItemDuplicateRejected,
        BundlePlanned,
        BundlePrepared,
        BundlePosted,
        BundleSeeded,
        BundleConfirmed,
        BundleCleanedUp,
        BundleDropped,
        DataItemsRepacked,
        DataItemFailed,
        OffsetsRecorded,
        PlannerTicked,
        *LEDGER_EVENT_TYPES,
    )
}
