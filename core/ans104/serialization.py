"""Writing a data item's bytes: the inverse of the parser's layout (see ``parser``)."""

from collections.abc import Sequence

from bundlestream.core.ans104.signature_types import layout_of
from bundlestream.core.ans104.tags import MAX_TAG_BYTES, MAX_TAGS, Tag, encode_tags

OPTIONAL_FIELD_BYTES = 32


def _optional_field(value: bytes | None, name: str) -> bytes:
    # ANS-104: a presence byte, then the 32 raw bytes only when present.
    if value is None:
        return b"\x00"
    if len(value) != OPTIONAL_FIELD_BYTES:
        raise ValueError(f"{name} must be {OPTIONAL_FIELD_BYTES} bytes, got {len(value)}")
    return b"\x01" + value


def raw_tags_of(tags: Sequence[Tag]) -> bytes:
    """Avro bytes of ``tags``; ValueError if they break the ANS-104 tag limits."""
    if len(tags) > MAX_TAGS:
        raise ValueError(f"{len(tags)} tags exceeds {MAX_TAGS}")
    raw_tags = encode_tags(tags)
    if len(raw_tags) > MAX_TAG_BYTES:
        raise ValueError(f"{len(raw_tags)} tag bytes exceeds {MAX_TAG_BYTES}")
    return raw_tags


def serialize_header(
    signature_type: int,
    signature: bytes,
    owner: bytes,
    target: bytes | None,
    anchor: bytes | None,
    tags: Sequence[Tag],
) -> bytes:
    """Every byte of a data item before its payload."""
    layout = layout_of(signature_type)
    if layout is None:
        raise ValueError(f"unknown signature type {signature_type}")
    if (len(signature), len(owner)) != (layout.signature_length, layout.owner_length):
        raise ValueError(f"signature/owner lengths do not fit signature type {signature_type}")
    raw_tags = raw_tags_of(tags)
    return b"".join(
        [
            signature_type.to_bytes(2, "little"),
            signature,
            owner,
            _optional_field(target, "target"),
            _optional_field(anchor, "anchor"),
            len(tags).to_bytes(8, "little"),
            len(raw_tags).to_bytes(8, "little"),
            raw_tags,
        ]
    )
