"""The whole projection: every event name → its read model's evolve function.

``project`` turns a batch of decoded events into the rows to insert, one list per
table, first occurrence of each key kept (the same rule the tables apply across
batches with ON CONFLICT DO NOTHING).
"""

from collections.abc import Iterable
from typing import Any

from projections import bundles, items, offsets
from projections.records import EventRecord
from projections.rows import Evolve, Position, Row
from projections.tables import Table

EVOLVERS: dict[str, Evolve] = {**items.EVOLVERS, **bundles.EVOLVERS, **offsets.EVOLVERS}

TableRows = dict[Table, list[tuple[Any, ...]]]


def _no_rows(event: EventRecord, at: Position) -> list[Row]:
    """Events no read model keeps (the planner's clock ticks)."""
    return []


def project(events: Iterable[tuple[EventRecord, Position]]) -> TableRows:
    """Rows per table for a batch of events, in log order, duplicates of a key dropped."""
    seen: dict[Table, dict[tuple[Any, ...], tuple[Any, ...]]] = {}
    for event, position in events:
        for table, row in EVOLVERS.get(event.name, _no_rows)(event, position):
            by_key = seen.get(table)
            if by_key is None:
                by_key = seen[table] = {}
            by_key.setdefault(table.key_of(row), row)
    return {table: list(by_key.values()) for table, by_key in seen.items()}
