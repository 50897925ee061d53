"""The fact tables of the read models: their columns (in table order) and keys.

Mirrors ``migrations/``; a test checks the two agree. The projector writes rows as
tuples in this column order, so COPY needs no column mapping.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Table:
    """One fact table: a row is inserted once, keyed by ``key`` (first write wins)."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    key_indexes: tuple[int, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        # Positions of the key columns in a row, worked out once (read for every row).
        indexes = tuple(self.columns.index(column) for column in self.key)
        object.__setattr__(self, "key_indexes", indexes)

    def key_of(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """The key of a row of this table."""
        return tuple(row[i] for i in self.key_indexes)


def _table(name: str, columns: str, key: str) -> Table:
    return Table(name, tuple(columns.split()), tuple(key.split()))


RECEIVED_ITEMS = _table(
    "received_items",
    "data_item_id owner_address signature_type byte_count payload_start content_type winc"
    " premium_feature_type deadline_height object_key paid_by received_partition"
    " received_offset received_at",
    "data_item_id",
)
ACCEPTED_ITEMS = _table(
    "accepted_items",
    "data_item_id received_partition received_offset accepted_at",
    "data_item_id",
)
DUPLICATE_UPLOADS = _table(
    "duplicate_uploads",
    "received_partition received_offset data_item_id owner_address winc rejected_at",
    "received_partition received_offset",
)
BUNDLE_PLANS = _table(
    "bundle_plans",
    "plan_id premium_feature_type item_count byte_count planned_at",
    "plan_id",
)
PLANNED_ITEMS = _table(
    "planned_items",
    "plan_id data_item_id position byte_count payload_start failed_bundles",
    "plan_id data_item_id",
)
BUNDLE_PREPARATIONS = _table(
    "bundle_preparations",
    "plan_id bundle_id bundle_object_key data_size data_root reward anchor item_count prepared_at",
    "plan_id",
)
BUNDLE_POSTS = _table(
    "bundle_posts", "plan_id bundle_id posted_height already_known posted_at", "plan_id"
)
BUNDLE_SEEDINGS = _table("bundle_seedings", "plan_id bundle_id chunk_count seeded_at", "plan_id")
BUNDLE_CONFIRMATIONS = _table(
    "bundle_confirmations",
    "plan_id bundle_id block_height block_id confirmations confirmed_at",
    "plan_id",
)
BUNDLE_DROPS = _table(
    "bundle_drops", "plan_id bundle_id reason last_checked_height dropped_at", "plan_id"
)
REPACKED_ITEMS = _table(
    "repacked_items",
    "plan_id data_item_id owner_address failed_bundles repacked_at",
    "plan_id data_item_id",
)
FAILED_ITEMS = _table(
    "failed_items",
    "data_item_id owner_address reason failed_bundles last_plan_id failed_at",
    "data_item_id",
)
ITEM_OFFSETS = _table(
    "item_offsets",
    "root_bundle_id data_item_id plan_id start_offset_in_root_bundle raw_content_length"
    " payload_data_start payload_content_type parent_data_item_id"
    " start_offset_in_parent_payload recorded_at",
    "root_bundle_id data_item_id",
)

FACT_TABLES: tuple[Table, ...] = (
    RECEIVED_ITEMS,
    ACCEPTED_ITEMS,
    DUPLICATE_UPLOADS,
    BUNDLE_PLANS,
    PLANNED_ITEMS,
    BUNDLE_PREPARATIONS,
    BUNDLE_POSTS,
    BUNDLE_SEEDINGS,
    BUNDLE_CONFIRMATIONS,
    BUNDLE_DROPS,
    REPACKED_ITEMS,
    FAILED_ITEMS,
    ITEM_OFFSETS,
)
BY_NAME = {table.name: table for table in FACT_TABLES}
# Consumed positions; not a read model (two schemas differ in it while one catches up).
TRACKING_TABLE = "projection_offsets"
