"""The whole projection: every event name → its read model's evolve function.

``project`` turns a batch of decoded events into the rows to insert, one list per
table, first occurrence of each key kept (the same rule the tables apply across
batches with ON CONFLICT DO NOTHING).
"""

from collections.abc import Iterable
from functools import cache
from typing import Any

from bundlestream.projections import bundles, items, ledger, offsets
from bundlestream.projections.records import EventRecord, decode_record
from bundlestream.projections.rows import Evolve, Position, Row
from bundlestream.projections.tables import Table
from bundlestream.schemas.codec import encode_record
from bundlestream.schemas.example_payloads import example_record
from bundlestream.schemas.topics import topic_of
from bundlestream.schemas.versions import all_versions

EVOLVERS: dict[str, Evolve] = {
    **items.EVOLVERS,
    **bundles.EVOLVERS,
    **offsets.EVOLVERS,
    **ledger.EVOLVERS,
}

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


@cache
def tables_by_topic() -> dict[str, frozenset[str]]:
    """Topic (relative name) → the fact tables its events write, from every example."""
    found: dict[str, set[str]] = {}
    for version in all_versions():
        event = decode_record(encode_record(version, example_record(version)))
        tables = found.setdefault(topic_of(version.name).name, set())
        tables.update(table.name for table in project([(event, Position("t", 0, 0))]))
    return {topic: frozenset(tables) for topic, tables in found.items()}
