"""Event dataclasses ↔ the plain records fastavro reads and writes.

The mapping of each class is worked out once from its type hints (``get_type_hints`` is
far too slow per message) into one converter per field that needs one: tuples become
Avro arrays and back, nested records recurse, and timestamps must be timezone-aware.
"""

import typing
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from typing import Any, get_args, get_origin

Convert = Callable[[Any], Any]
FieldPlan = tuple[tuple[str, Convert | None], ...]


class NaiveTimestamp(ValueError):
    """A datetime without a timezone: fastavro would silently take it as UTC."""


@dataclass(frozen=True)
class _Shape:
    to_avro: FieldPlan
    from_avro: FieldPlan


def to_record(value: Any) -> dict[str, Any]:
    """The Avro record of an event (or nested record) dataclass instance."""
    return {
        name: getattr(value, name) if convert is None else convert(getattr(value, name))
        for name, convert in _shape(type(value)).to_avro
    }


def from_record(cls: type[Any], record: dict[str, Any]) -> Any:
    """An instance of ``cls`` from a record read with ``cls``'s own (newest) schema."""
    return cls(
        **{
            name: record[name] if convert is None else convert(record[name])
            for name, convert in _shape(cls).from_avro
        }
    )


def _shape(cls: type[Any]) -> _Shape:
    shape = _SHAPES.get(cls)
    if shape is None:
        hints = typing.get_type_hints(cls)
        names = [f.name for f in fields(cls)]
        shape = _SHAPES[cls] = _Shape(
            tuple((name, _to_avro(hints[name])) for name in names),
            tuple((name, _from_avro(hints[name])) for name in names),
        )
    return shape


_SHAPES: dict[type[Any], _Shape] = {}


def _to_avro(hint: Any) -> Convert | None:
    if get_origin(hint) is tuple:
        item = _to_avro(get_args(hint)[0])
        return list if item is None else lambda values: [item(v) for v in values]
    if is_dataclass(hint):
        return to_record
    if hint is datetime:
        return _aware
    return None


def _from_avro(hint: Any) -> Convert | None:
    if get_origin(hint) is tuple:
        item = _from_avro(get_args(hint)[0])
        return tuple if item is None else lambda values: tuple(item(v) for v in values)
    if is_dataclass(hint):
        nested = typing.cast(type[Any], hint)
        return lambda record: from_record(nested, record)
    return None


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise NaiveTimestamp(f"naive datetime {moment!r}: events carry timezone-aware times")
    return moment
