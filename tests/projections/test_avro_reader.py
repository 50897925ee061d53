"""The compiled Avro reader against fastavro, the reference: same records, same refusals."""

import io
from datetime import datetime
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from hypothesis import given
from hypothesis import strategies as st

from bench.event_story import story
from bundlestream.projections.avro_reader import UnsupportedSchema, compile_reader
from bundlestream.projections.records import decode_record
from bundlestream.schemas.codec import HEADER_SIZE, DecodeError, encode, encode_record
from bundlestream.schemas.example_payloads import example_record
from bundlestream.schemas.versions import SchemaVersion, all_versions, by_fingerprint, latest

EVERYTHING = {
    "type": "record",
    "name": "Everything",
    "fields": [
        {"name": "text", "type": "string"},
        {"name": "blob", "type": "bytes"},
        {"name": "small", "type": "int"},
        {"name": "big", "type": "long"},
        {"name": "flag", "type": "boolean"},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "maybe", "type": ["null", "string"], "default": None},
        {"name": "names", "type": {"type": "array", "items": "string"}},
        {
            "name": "entries",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Entry",
                    "fields": [
                        {"name": "id", "type": "string"},
                        {"name": "size", "type": ["null", "long"]},
                    ],
                },
            },
        },
        {"name": "again", "type": {"type": "array", "items": "Entry"}},
    ],
}
MIN_MS, MAX_MS = -62_135_596_800_000, 253_402_300_799_999
entries = st.lists(
    st.fixed_dictionaries({"id": st.text(), "size": st.none() | st.integers(-(2**63), 2**63 - 1)}),
    max_size=4,
)
everything = st.fixed_dictionaries(
    {
        "text": st.text(),
        "blob": st.binary(),
        "small": st.integers(-(2**31), 2**31 - 1),
        "big": st.integers(-(2**63), 2**63 - 1),
        "flag": st.booleans(),
        "at": st.integers(MIN_MS, MAX_MS),
        "maybe": st.none() | st.text(),
        "names": st.lists(st.text(), max_size=5),
        "entries": entries,
        "again": entries,
    }
)


def as_millis(value: Any) -> Any:
    """fastavro's record with timestamps in epoch milliseconds, as our reader keeps them."""
    if isinstance(value, datetime):
        delta = value - datetime(1970, 1, 1, tzinfo=value.tzinfo)
        return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
    if isinstance(value, dict):
        return {name: as_millis(v) for name, v in value.items()}
    if isinstance(value, list):
        return [as_millis(v) for v in value]
    return value


def body(schema: Any, record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    schemaless_writer(out, parse_schema(schema), record)
    return out.getvalue()


def reference(message: bytes) -> dict[str, Any]:
    """What schemas.codec's reader, fastavro, makes of a message."""
    writer = by_fingerprint()[message[2:HEADER_SIZE]]
    newest = latest()[writer.name]
    record: dict[str, Any] = schemaless_reader(
        io.BytesIO(message[HEADER_SIZE:]), writer.parsed, newest.parsed
    )
    return as_millis(record)


@pytest.mark.parametrize("version", all_versions(), ids=lambda v: v.file_stem)
def test_every_released_example_reads_as_fastavro_reads_it(version: SchemaVersion) -> None:
    message = encode_record(version, example_record(version))
    event = decode_record(message)
    assert event.name == version.name
    assert event.fields == reference(message)


def test_the_story_reads_as_fastavro_reads_it() -> None:
    messages = [encode(keyed.event) for keyed in story(bundles=10, items_per_bundle=12)]
    assert {decode_record(m).name for m in messages} >= {"BundlePlanned", "DataItemFailed"}
    for message in messages:
        assert decode_record(message).fields == reference(message)


@given(everything)
def test_any_record_reads_as_fastavro_reads_it(record: dict[str, Any]) -> None:
    data = body(EVERYTHING, record)
    expected = as_millis(schemaless_reader(io.BytesIO(data), parse_schema(EVERYTHING), None))
    assert compile_reader(EVERYTHING, EVERYTHING)(data, 0) == (expected, len(data))


def test_an_older_writer_is_resolved_into_the_newer_reader() -> None:
    writer = {
        "type": "record",
        "name": "E",
        "fields": [
            {"name": "gone", "type": {"type": "array", "items": "long"}},
            {"name": "kept", "type": "string"},
        ],
    }
    reader = {
        "type": "record",
        "name": "E",
        "fields": [
            {"name": "kept", "type": "string"},
            {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
            {"name": "lane", "type": "string", "default": "default"},
        ],
    }
    data = body(writer, {"gone": [1, 300, -5], "kept": "x"})
    read = compile_reader(writer, reader)
    first, end = read(data, 0)
    assert (first, end) == ({"kept": "x", "tags": [], "lane": "default"}, len(data))
    first["tags"].append("mine")
    assert read(data, 0)[0]["tags"] == []  # a default list is never shared
    expected = schemaless_reader(io.BytesIO(data), parse_schema(writer), parse_schema(reader))
    assert first | {"tags": []} == expected


def test_array_blocks_with_byte_sizes_are_read() -> None:
    """A writer may split an array into blocks, a negative count giving the block's size."""
    schema = {
        "type": "record",
        "name": "A",
        "fields": [{"name": "v", "type": {"type": "array", "items": "long"}}],
    }
    # Zig-zag bytes: count -2 and block size 2, items 1 and 2; count 1, item 3; count 0.
    data = bytes([0x03, 0x04, 0x02, 0x04, 0x02, 0x06, 0x00])
    assert schemaless_reader(io.BytesIO(data), parse_schema(schema), None) == {"v": [1, 2, 3]}
    assert compile_reader(schema, schema)(data, 0) == ({"v": [1, 2, 3]}, len(data))


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: m[:-1],  # truncated
        lambda m: m + b"\x00",  # trailing byte
        lambda m: m[:HEADER_SIZE] + b"\xff" * 12,  # a varint longer than 10 bytes
        lambda m: m[:HEADER_SIZE] + b"\x01" + m[HEADER_SIZE + 1 :],  # negative length
        lambda m: m[:HEADER_SIZE] + b"\x04\xff\xfe" + m[HEADER_SIZE + 3 :],  # not UTF-8
    ],
    ids=["truncated", "trailing", "long varint", "negative length", "bad utf-8"],
)
def test_a_damaged_body_is_a_decode_error(damage: Any) -> None:
    version = latest()["DataItemAccepted"]
    message = encode_record(version, example_record(version))
    with pytest.raises(DecodeError):
        decode_record(damage(message))


def test_a_union_branch_or_boolean_byte_that_does_not_exist_is_refused() -> None:
    schema = {
        "type": "record",
        "name": "U",
        "fields": [
            {"name": "maybe", "type": ["null", "string"]},
            {"name": "flag", "type": "boolean"},
        ],
    }
    read = compile_reader(schema, schema)
    assert read(bytes([0x02, 0x02, 0x61, 0x01]), 0) == ({"maybe": "a", "flag": True}, 4)
    with pytest.raises(ValueError, match="union branch"):
        read(bytes([0x04, 0x00]), 0)
    with pytest.raises(ValueError, match="boolean"):
        read(bytes([0x00, 0x02]), 0)


def test_a_timestamp_outside_years_1_to_9999_is_a_decode_error() -> None:
    schema = {
        "type": "record",
        "name": "T",
        "fields": [{"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}],
    }
    read = compile_reader(schema, schema)
    plain = {**schema, "fields": [{"name": "at", "type": "long"}]}
    assert read(body(plain, {"at": MAX_MS}), 0)[0] == {"at": MAX_MS}
    with pytest.raises(ValueError, match="out of range"):
        read(body(plain, {"at": MAX_MS + 1}), 0)


def test_a_field_whose_type_changed_is_refused_when_compiling() -> None:
    writer = {"type": "record", "name": "E", "fields": [{"name": "n", "type": "int"}]}
    reader = {"type": "record", "name": "E", "fields": [{"name": "n", "type": "string"}]}
    with pytest.raises(UnsupportedSchema):
        compile_reader(writer, reader)
