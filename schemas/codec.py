"""Avro single-object encoding of events: the bytes of every Kafka message value.

Layout (Avro 1.11 specification, "Single-object encoding"):

    C3 01 | 8-byte CRC-64-AVRO fingerprint, little-endian | Avro binary body

The fingerprint names the writer schema, so a message is self-describing without a
schema registry: ``decode`` looks it up among every released version and reads the body
into the newest version of the same event (filling defaults of fields added since).
confluent-kafka producers and the Faust codec both call these two functions.
"""

import io
from typing import Any

from fastavro import schemaless_reader, schemaless_writer

from bundlestream.schemas.events import EVENT_TYPES, Event
from bundlestream.schemas.records import NaiveTimestamp, from_record, to_record
from bundlestream.schemas.versions import SchemaVersion, by_fingerprint, latest

MARKER = b"\xc3\x01"
HEADER_SIZE = len(MARKER) + 8


class DecodeError(ValueError):
    """Bytes that are not an event we know: bad marker, unknown fingerprint, bad body."""


class EncodeError(ValueError):
    """A record that does not fit its schema (a programming error in the producer)."""


def encode(event: Event) -> bytes:
    """Encode an event with the newest version of its schema."""
    try:
        record = to_record(event)
    except NaiveTimestamp as exc:
        raise EncodeError(str(exc)) from exc
    return encode_record(latest()[type(event).__name__], record)


def decode(data: bytes) -> Event:
    """Decode any released version of any event into the newest version's class.

    Raises DecodeError for anything that is not such an event; never anything else.
    """
    writer = _writer_of(data)
    reader = latest()[writer.name]
    body = io.BytesIO(memoryview(data)[HEADER_SIZE:])
    try:
        record = schemaless_reader(body, writer.parsed, reader.parsed)
    except Exception as exc:  # fastavro raises many types on a malformed body
        raise DecodeError(f"{writer.file_stem}: unreadable body: {exc!r}") from exc
    if body.tell() != len(data) - HEADER_SIZE:
        raise DecodeError(
            f"{writer.file_stem}: {len(data) - HEADER_SIZE - body.tell()} trailing bytes"
        )
    if not isinstance(record, dict):
        raise DecodeError(f"{writer.file_stem}: body is not a record")
    event: Event = from_record(EVENT_TYPES[writer.name], record)
    return event


def event_name(data: bytes) -> str:
    """The name of the event an encoded message holds, read from its header alone."""
    return _writer_of(data).name


def encode_record(version: SchemaVersion, record: dict[str, Any]) -> bytes:
    """Encode a plain Avro record with one given schema version (also for old versions)."""
    out = io.BytesIO()
    out.write(MARKER)
    out.write(version.fingerprint)
    try:
        schemaless_writer(out, version.parsed, record)
    except Exception as exc:  # fastavro raises many types on a record that does not fit
        raise EncodeError(f"{version.file_stem}: {exc!r}") from exc
    return out.getvalue()


def _writer_of(data: bytes) -> SchemaVersion:
    if len(data) < HEADER_SIZE or data[:2] != MARKER:
        raise DecodeError("not Avro single-object encoding (missing C3 01 marker)")
    writer = by_fingerprint().get(bytes(data[2:HEADER_SIZE]))
    if writer is None:
        raise DecodeError(f"unknown schema fingerprint {bytes(data[2:HEADER_SIZE]).hex()}")
    return writer
