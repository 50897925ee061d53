"""What evolve functions return: rows for fact tables, and where an event was read."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from projections.records import EventRecord
from projections.tables import Table


@dataclass(frozen=True, slots=True)
class Position:
    """Where a message is in the log."""

    topic: str
    partition: int
    offset: int


Row = tuple[Table, tuple[Any, ...]]
# An evolve function: one event (and where it was read) → the rows it adds.
Evolve = Callable[[EventRecord, Position], list[Row]]
