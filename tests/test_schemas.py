"""The event contract: schema files, examples, the single-object codec, the catalogue."""

import ast
import dataclasses
import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastavro.schema import fingerprint
from hypothesis import given
from hypothesis import strategies as st

from bundlestream.schemas import codec
from bundlestream.schemas.codec import DecodeError, EncodeError
from bundlestream.schemas.events import EVENT_TYPES, DataItemReceived
from bundlestream.schemas.example_payloads import example_record
from bundlestream.schemas.topics import CATALOGUE, topic_config, topic_of
from bundlestream.schemas.versions import (
    SchemaVersion,
    all_versions,
    by_fingerprint,
    declared_schema,
    evolution_problems,
    latest,
)

VERSIONS = all_versions()
ROOT = Path(__file__).resolve().parents[1]


def received(**changes: object) -> DataItemReceived:
    fields: dict[str, object] = {
        "data_item_id": "Xn2sVWGxVd7Wc3H6Gv-XFVnbaF1zqUqVhFBaGLvHw0c",
        "owner_address": "8wgRDgvYOrtzaNhQIt8zbbeUAGhAyw6R5LRqCTaKzFk",
        "signature_type": 3,
        "raw_size": 120,
        "payload_start": 100,
        "payload_size": 20,
        "inline_item": bytes(range(120)),
        "received_at": datetime(2026, 11, 29, 2, 0, 0, 123000, tzinfo=UTC),
        "deadline_height": 1_600_000,
        "winc": str(2**80),
        "paid_by": ("a" * 43, "b" * 43),
    }
    fields.update(changes)
    return DataItemReceived(**fields)  # type: ignore[arg-type]


def as_plain(value: object) -> object:
    """An event as the plain record Avro readers give: tuples become lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple):
        return [as_plain(item) for item in value]
    return value


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.file_stem)
def test_every_released_example_decodes_with_the_current_reader(version: SchemaVersion) -> None:
    record = example_record(version)
    event = codec.decode(codec.encode_record(version, record))
    assert type(event).__name__ == version.name
    decoded = as_plain(event)
    assert isinstance(decoded, dict)
    assert {name: decoded[name] for name in record} == record


@pytest.mark.parametrize("name", sorted(latest()), ids=str)
def test_latest_example_round_trips_byte_for_byte(name: str) -> None:
    version = latest()[name]
    data = codec.encode_record(version, example_record(version))
    assert codec.encode(codec.decode(data)) == data


def test_every_schema_has_an_example_and_every_example_a_schema() -> None:
    examples = {p.stem for p in (ROOT / "schemas" / "examples").glob("*.json")}
    assert examples == {v.file_stem for v in VERSIONS}


def test_event_classes_mirror_the_newest_schemas() -> None:
    assert set(EVENT_TYPES) == set(latest())
    for name, cls in EVENT_TYPES.items():
        schema_fields = [f["name"] for f in declared_schema(latest()[name])["fields"]]
        assert sorted(f.name for f in dataclasses.fields(cls)) == sorted(schema_fields), name


def test_inline_item_and_big_winc_round_trip() -> None:
    event = received()
    data = codec.encode(event)
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == latest()["DataItemReceived"].fingerprint
    assert codec.decode(data) == event


@given(
    payload=st.binary(max_size=300),
    content_type=st.none() | st.text(max_size=40),
    millis=st.integers(min_value=0, max_value=2**41),
    paid_by=st.lists(st.text(min_size=1, max_size=43), max_size=3).map(tuple),
)
def test_data_item_received_round_trips(
    payload: bytes, content_type: str | None, millis: int, paid_by: tuple[str, ...]
) -> None:
    event = received(
        inline_item=payload,
        content_type=content_type,
        received_at=datetime.fromtimestamp(millis / 1000, tz=UTC),
        paid_by=paid_by,
    )
    assert codec.decode(codec.encode(event)) == event


def test_fingerprint_byte_order_matches_the_avro_specification() -> None:
    # The specification's CRC-64-AVRO of the schema "null" is 0x63DD24E7CC258F8A; the
    # single-object header stores it little-endian.
    assert bytes.fromhex(fingerprint('"null"', "CRC-64-AVRO")) == (0x63DD24E7CC258F8A).to_bytes(
        8, "little"
    )


def test_fingerprints_are_unique() -> None:
    assert len(by_fingerprint()) == len(VERSIONS)


def test_unknown_fingerprint_is_a_decode_error() -> None:
    data = codec.encode(received())
    with pytest.raises(DecodeError, match="unknown schema fingerprint"):
        codec.decode(data[:2] + bytes(8) + data[10:])


@pytest.mark.parametrize(
    "data",
    [b"", b"\xc3", b"\xc3\x02" + bytes(8), b'{"json": true}'],
    ids=["empty", "short", "wrong-marker", "json"],
)
def test_non_single_object_bytes_are_a_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError, match="marker"):
        codec.decode(data)


def test_truncated_body_is_a_decode_error() -> None:
    data = codec.encode(received())
    with pytest.raises(DecodeError, match="unreadable body"):
        codec.decode(data[:-30])


def test_trailing_bytes_are_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="trailing"):
        codec.decode(codec.encode(received()) + b"\x00")


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(EncodeError, match="naive"):
        codec.encode(received(received_at=datetime(2026, 1, 1)))


def test_a_record_that_does_not_fit_is_an_encode_error() -> None:
    with pytest.raises(EncodeError):
        codec.encode(received(raw_size="big"))


def test_released_versions_only_add_defaulted_fields() -> None:
    by_name: dict[str, list[dict[str, object]]] = {}
    for version in VERSIONS:
        by_name.setdefault(version.name, []).append(declared_schema(version))
    for chain in by_name.values():
        for older, newer in itertools.pairwise(chain):
            assert evolution_problems(older, newer) == [], newer["name"]


def test_the_evolution_rule_rejects_what_old_readers_cannot_survive() -> None:
    v1 = declared_schema(latest()["BundleSeeded"])
    grown = {**v1, "fields": [*v1["fields"], {"name": "gateway", "type": "string"}]}
    shrunk = {**v1, "fields": v1["fields"][1:]}
    retyped = {**v1, "fields": [{"name": "plan_id", "type": "long"}, *v1["fields"][1:]]}
    defaulted = {
        **v1,
        "fields": [*v1["fields"], {"name": "gateway", "type": "string", "default": ""}],
    }
    assert evolution_problems(v1, grown) == ["field gateway added without a default"]
    assert evolution_problems(v1, shrunk) == ["field plan_id removed"]
    assert evolution_problems(v1, retyped) == ["field plan_id changed type"]
    assert evolution_problems(v1, defaulted) == []


def test_every_event_is_on_exactly_one_topic_keyed_by_one_of_its_fields() -> None:
    carried = [event for topic in CATALOGUE for event in topic.events]
    assert sorted(carried) == sorted(EVENT_TYPES)
    for name, cls in EVENT_TYPES.items():
        assert topic_of(name).key in {f.name for f in dataclasses.fields(cls)}, name
    assert len({topic.name for topic in CATALOGUE}) == len(CATALOGUE)


def test_topic_names_take_the_deployment_prefix() -> None:
    assert topic_of("DataItemReceived").full_name("t42.") == "t42.data-items.received"


def test_event_topics_are_kept_forever() -> None:
    config = topic_config(replication_factor=1)
    assert config["retention.ms"] == "-1"
    assert config["retention.bytes"] == "-1"
    assert config["cleanup.policy"] == "delete"
    assert topic_config(replication_factor=3)["min.insync.replicas"] == "2"


def test_the_topic_doc_lists_every_topic_and_event() -> None:
    doc = (ROOT / "docs" / "topics.md").read_text("utf-8")
    for topic in CATALOGUE:
        assert f"`{topic.name}`" in doc
    for name in EVENT_TYPES:
        assert name in doc


def test_the_contract_depends_on_nothing_of_ours() -> None:
    for module in (ROOT / "schemas").glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {node.module or ""}
            else:
                continue
            ours = {name for name in names if name.split(".")[0] == "bundlestream"}
            foreign = {name for name in ours if not name.startswith("bundlestream.schemas")}
            assert not foreign, f"{module.name} imports {foreign}"
