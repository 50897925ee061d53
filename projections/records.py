"""Message bytes → (event name, Avro record) for the projector: the codec without classes.

The projector turns records straight into rows; building event dataclasses first costs
more than the whole row pipeline (measured: bench/bench_projections.py). Same format
and same rules as ``schemas.codec``: the writer schema comes from the fingerprint, and a
record written with an older version is resolved into the newest (defaults filled in).
"""

import io
from dataclasses import dataclass
from typing import Any

from fastavro import schemaless_reader

from schemas.codec import HEADER_SIZE, MARKER, DecodeError
from schemas.versions import by_fingerprint, latest


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One decoded event: its name and its fields as the newest schema version has them."""

    name: str
    fields: dict[str, Any]


def decode_record(data: bytes) -> EventRecord:
    """Decode one message value; DecodeError for anything that is not a known event."""
    if len(data) < HEADER_SIZE or data[:2] != MARKER:
        raise DecodeError("not Avro single-object encoding (missing C3 01 marker)")
    writer = by_fingerprint().get(bytes(data[2:HEADER_SIZE]))
    if writer is None:
        raise DecodeError(f"unknown schema fingerprint {bytes(data[2:HEADER_SIZE]).hex()}")
    reader = latest()[writer.name]
    body = io.BytesIO(data)
    body.seek(HEADER_SIZE)
    try:
        # Same version: no resolution needed, and resolution is the slow path of fastavro.
        record = schemaless_reader(body, writer.parsed, None if reader is writer else reader.parsed)
    except Exception as exc:  # fastavro raises many types on a malformed body
        raise DecodeError(f"{writer.file_stem}: unreadable body: {exc!r}") from exc
    if body.tell() != len(data) or not isinstance(record, dict):
        raise DecodeError(f"{writer.file_stem}: trailing bytes or not a record")
    return EventRecord(writer.name, record)
