"""What evolve functions return: rows for fact tables, and where an event was read."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bundlestream.projections.records import EventRecord
from bundlestream.projections.tables import Table


# Not frozen: a frozen dataclass's __init__ sets each field through object.__setattr__,
# measured at about 0.7 µs per object (docs/benchmarks.md), and the projector builds one
# per event.
@dataclass(slots=True)
class Position:
    """Where a message is in the log (treat as a value: evolve functions only read it)."""

    topic: str
    partition: int
    offset: int


Row = tuple[Table, tuple[Any, ...]]
# An evolve function: one event (and where it was read) → the rows it adds.
Evolve = Callable[[EventRecord, Position], list[Row]]
