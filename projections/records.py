"""Message bytes → (event name, Avro record) for the projector: the codec without classes.

The projector turns records straight into rows; building event dataclasses first costs
more than the whole row pipeline (measured: bench/bench_projections.py). Same format
and same rules as ``schemas.codec``: the writer schema comes from the fingerprint, and a
record written with an older version is resolved into the newest (defaults filled in).
The body is read by a reader compiled once per writer (``avro_reader``), which keeps
timestamps as milliseconds since the epoch: the COPY encoder writes them as such.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from bundlestream.projections.avro_reader import Read, compile_reader
from bundlestream.schemas.codec import HEADER_SIZE, MARKER, DecodeError
from bundlestream.schemas.versions import all_versions, by_fingerprint, latest


# Not frozen, like ``rows.Position``: one is built per event, and a frozen __init__
# costs twice as much.
@dataclass(slots=True)
class EventRecord:
    """One decoded event: its name and its fields as the newest schema version has them
    (treat as a value: evolve functions only read it)."""

    name: str
    fields: dict[str, Any]


def decode_record(data: bytes) -> EventRecord:
    """Decode one message value; DecodeError for anything that is not a known event.

    Fields as the newest version of the event has them; timestamps in epoch milliseconds.
    """
    decoder = _decoders().get(data[2:HEADER_SIZE]) if data[:2] == MARKER else None
    if decoder is None:
        raise DecodeError(_unknown(data))
    name, read = decoder
    try:
        record, end = read(data, HEADER_SIZE)
    except Exception as exc:  # a malformed body: truncated, bad UTF-8, bad union index
        raise DecodeError(f"{by_fingerprint()[data[2:HEADER_SIZE]].file_stem}: {exc!r}") from exc
    if end != len(data):
        raise DecodeError(f"{name}: {len(data) - end} trailing bytes after the body")
    return EventRecord(name, record)


def _unknown(data: bytes) -> str:
    if len(data) < HEADER_SIZE or data[:2] != MARKER:
        return "not Avro single-object encoding (missing C3 01 marker)"
    return f"unknown schema fingerprint {bytes(data[2:HEADER_SIZE]).hex()}"


@cache
def _decoders() -> dict[bytes, tuple[str, Read]]:
    """Fingerprint → (event name, reader into the newest version), for every version."""
    return {
        version.fingerprint: (
            version.name,
            compile_reader(version.parsed, latest()[version.name].parsed),
        )
        for version in all_versions()
    }
