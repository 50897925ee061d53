"""The fact tables of the read models: their columns (in table order), types and keys.

Mirrors ``migrations/``; a test checks the two agree. Evolve functions build each row by
column name (``Table.row``), which lays it out as a tuple in this column order, so COPY
needs no column mapping; the projector encodes each value by its column's type
(``copy_text``): a ``timestamptz`` column takes epoch milliseconds.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any


# eq=False: a table is its one instance, hashed by identity (the projector looks tables
# up for every row; hashing the name and column tuples each time was measurable).
@dataclass(frozen=True, eq=False)
class Table:
    """One fact table: a row is inserted once, keyed by ``key`` (first write wins)."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    # Postgres type of each column (``pg_type.typname``: int4, int8, _text, ...).
    types: tuple[str, ...] = ()
    key_indexes: tuple[int, ...] = field(init=False)
    # The key of a row (read for every row): one value, or a tuple for a composite key.
    key_of: Callable[[tuple[Any, ...]], Any] = field(init=False, repr=False)
    _column_set: frozenset[str] = field(init=False, repr=False)

    def row(self, **values: Any) -> tuple[Any, ...]:
        """The row of ``values`` (column name → value) in column order; RowShapeError
        unless they name every column of the table and nothing else."""
        if values.keys() != self._column_set:
            raise RowShapeError(self, values.keys())
        return tuple(values[column] for column in self.columns)

    def __post_init__(self) -> None:
        # Positions of the key columns in a row, worked out once.
        indexes = tuple(self.columns.index(column) for column in self.key)
        object.__setattr__(self, "key_indexes", indexes)
        object.__setattr__(self, "key_of", itemgetter(*indexes))
        object.__setattr__(self, "_column_set", frozenset(self.columns))


class RowShapeError(ValueError):
    """A row's values name columns the table lacks, or leave some of its columns out."""

    def __init__(self, table: Table, given: Iterable[str]) -> None:
        names = set(given)
        missing = [column for column in table.columns if column not in names]
        unknown = sorted(names - set(table.columns))
        super().__init__(f"{table.name}: missing columns {missing}, unknown columns {unknown}")
        self.missing, self.unknown = missing, unknown


def _table(name: str, columns: str, key: str) -> Table:
    """``columns``: ``name[:type]`` words, the type ``text`` when none is given."""
    typed = [f"{word}:text" if ":" not in word else word for word in columns.split()]
    names, types = zip(*(word.split(":") for word in typed), strict=True)
    return Table(name, tuple(names), tuple(key.split()), tuple(types))


RECEIVED_ITEMS = _table(
    "received_items",
    "data_item_id owner_address signature_type:int4 byte_count:int8 payload_start:int8"
    " content_type winc:numeric premium_feature_type deadline_height:int8 object_key"
    " paid_by:_text received_partition:int4 received_offset:int8 received_at:timestamptz",
    "data_item_id",
)
ACCEPTED_ITEMS = _table(
    "accepted_items",
    "data_item_id received_partition:int4 received_offset:int8 accepted_at:timestamptz",
    "data_item_id",
)
DUPLICATE_UPLOADS = _table(
    "duplicate_uploads",
    "received_partition:int4 received_offset:int8 data_item_id owner_address winc:numeric"
    " rejected_at:timestamptz",
    "received_partition received_offset",
)
BUNDLE_PLANS = _table(
    "bundle_plans",
    "plan_id premium_feature_type item_count:int4 byte_count:int8 planned_at:timestamptz",
    "plan_id",
)
PLANNED_ITEMS = _table(
    "planned_items",
    "plan_id data_item_id position:int4 byte_count:int8 payload_start:int8 failed_bundles:int4",
    "plan_id data_item_id",
)
BUNDLE_PREPARATIONS = _table(
    "bundle_preparations",
    "plan_id bundle_id bundle_object_key data_size:int8 data_root reward:numeric anchor"
    " item_count:int4 prepared_at:timestamptz",
    "plan_id",
)
BUNDLE_POSTS = _table(
    "bundle_posts",
    "plan_id bundle_id posted_height:int8 already_known:bool posted_at:timestamptz",
    "plan_id",
)
BUNDLE_SEEDINGS = _table(
    "bundle_seedings", "plan_id bundle_id chunk_count:int4 seeded_at:timestamptz", "plan_id"
)
BUNDLE_CONFIRMATIONS = _table(
    "bundle_confirmations",
    "plan_id bundle_id block_height:int8 block_id confirmations:int4 confirmed_at:timestamptz",
    "plan_id",
)
BUNDLE_DROPS = _table(
    "bundle_drops",
    "plan_id bundle_id reason last_checked_height:int8 dropped_at:timestamptz",
    "plan_id",
)
REPACKED_ITEMS = _table(
    "repacked_items",
    "plan_id data_item_id owner_address failed_bundles:int4 repacked_at:timestamptz",
    "plan_id data_item_id",
)
FAILED_ITEMS = _table(
    "failed_items",
    "data_item_id owner_address reason failed_bundles:int4 last_plan_id failed_at:timestamptz",
    "data_item_id",
)
ITEM_OFFSETS = _table(
    "item_offsets",
    "root_bundle_id data_item_id plan_id start_offset_in_root_bundle:int8"
    " raw_content_length:int8 payload_data_start:int8 payload_content_type"
    " parent_data_item_id start_offset_in_parent_payload:int8 recorded_at:timestamptz",
    "root_bundle_id data_item_id",
)

# The ledger (migration 0003): the journal of balance changes, top-ups, approvals.
LEDGER_JOURNAL = _table(
    "ledger_journal",
    "cause cause_id address winc:numeric reason topic partition:int4 offset:int8"
    " changed_at:timestamptz",
    "cause cause_id address",
)
TOP_UPS_SUBMITTED = _table(
    "top_ups_submitted",
    "token transaction_id address quantity:numeric winc:numeric submitted_at:timestamptz",
    "token transaction_id",
)
TOP_UPS_CONFIRMED = _table(
    "top_ups_confirmed",
    "token transaction_id winc:numeric block_height:int8 confirmed_at:timestamptz",
    "token transaction_id",
)
TOP_UPS_FAILED = _table(
    "top_ups_failed", "token transaction_id reason failed_at:timestamptz", "token transaction_id"
)
APPROVALS_CREATED = _table(
    "approvals_created",
    "approval_id paying_address approved_address winc:numeric expires_at:timestamptz"
    " created_at:timestamptz",
    "approval_id",
)
APPROVAL_SPENDS = _table(
    "approval_spends",
    "approval_id data_item_id kind winc:numeric spent_at:timestamptz",
    "approval_id data_item_id kind",
)
APPROVAL_ENDS = _table(
    "approval_ends",
    "approval_id reason returned_winc:numeric ended_at:timestamptz",
    "approval_id",
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
    LEDGER_JOURNAL,
    TOP_UPS_SUBMITTED,
    TOP_UPS_CONFIRMED,
    TOP_UPS_FAILED,
    APPROVALS_CREATED,
    APPROVAL_SPENDS,
    APPROVAL_ENDS,
)
BY_NAME = {table.name: table for table in FACT_TABLES}
# Consumed positions; not a read model (two schemas differ in it while one catches up).
TRACKING_TABLE = "projection_offsets"
