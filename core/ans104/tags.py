"""Data item tags and their Avro encoding (ANS-104 "Tag format").

ANS-104 encodes tags with the Avro schema
``{"type": "array", "items": {"type": "record", "name": "Tag",
"fields": [{"name": "name", "type": "bytes"}, {"name": "value", "type": "bytes"}]}}``:
an array is a sequence of blocks, each a zigzag-varint count followed by that many
records, ended by a block of count 0; a negative count ``-n`` means ``n`` records
preceded by the block's byte size. ``bytes`` is a zigzag-varint length then the bytes.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from bundlestream.core.ans104.errors import DataItemParseError

MAX_TAGS = 128
MAX_TAG_NAME_BYTES = 1024
MAX_TAG_VALUE_BYTES = 3072
MAX_TAG_BYTES = 4096

# A zigzag-encoded 64-bit long never takes more than 10 varint bytes.
_MAX_VARINT_BYTES = 10


@dataclass(frozen=True)
class Tag:
    """One tag of a data item: raw name and value bytes (usually UTF-8)."""

    name: bytes
    value: bytes


class _AvroReader:
    """A cursor over Avro-encoded tag bytes that raises DataItemParseError on bad input."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def at_end(self) -> bool:
        return self._pos == len(self._data)

    def read_long(self) -> int:
        """One zigzag varint long."""
        unsigned = 0
        for index in range(_MAX_VARINT_BYTES):
            byte = self._next_byte()
            unsigned |= (byte & 0x7F) << (7 * index)
            if not byte & 0x80:
                return (unsigned >> 1) ^ -(unsigned & 1)
        raise DataItemParseError("tag-encoding", "Avro long longer than 10 bytes")

    def read_bytes(self, limit: int, rule: str) -> bytes:
        """One Avro ``bytes`` value no longer than ``limit`` (else ``rule`` is broken)."""
        length = self.read_long()
        if length < 0:
            raise DataItemParseError("tag-encoding", f"negative Avro bytes length {length}")
        if length > limit:
            raise DataItemParseError(rule, f"{length} bytes exceeds the limit of {limit}")
        end = self._pos + length
        if end > len(self._data):
            raise DataItemParseError("tag-encoding", "Avro bytes run past the tag bytes")
        value, self._pos = self._data[self._pos : end], end
        return value

    def _next_byte(self) -> int:
        if self._pos >= len(self._data):
            raise DataItemParseError("tag-encoding", "Avro value runs past the tag bytes")
        byte = self._data[self._pos]
        self._pos += 1
        return byte


def _read_tag(reader: _AvroReader) -> Tag:
    name = reader.read_bytes(MAX_TAG_NAME_BYTES, "tag-name-size")
    return Tag(name, reader.read_bytes(MAX_TAG_VALUE_BYTES, "tag-value-size"))


def _block_count(reader: _AvroReader) -> int:
    count = reader.read_long()
    if count < 0:
        reader.read_long()  # a negative count is followed by the block's byte size
        return -count
    return count


def decode_tags(raw_tags: bytes, expected_count: int) -> tuple[Tag, ...]:
    """Decode the Avro tag array, which must hold exactly ``expected_count`` tags.

    Empty ``raw_tags`` is the encoding of no tags (arbundles writes nothing, not a
    zero block). Every byte must belong to the array: trailing bytes are an error.
    """
    if not raw_tags:
        return _checked_count((), expected_count)
    reader = _AvroReader(raw_tags)
    tags: list[Tag] = []
    while count := _block_count(reader):
        if len(tags) + count > expected_count:
            raise DataItemParseError("tag-count-mismatch", f"more than {expected_count} tags")
        tags.extend(_read_tag(reader) for _ in range(count))
    if not reader.at_end:
        raise DataItemParseError("tag-encoding", "bytes after the end of the Avro array")
    return _checked_count(tuple(tags), expected_count)


def _checked_count(tags: tuple[Tag, ...], expected_count: int) -> tuple[Tag, ...]:
    if len(tags) != expected_count:
        raise DataItemParseError(
            "tag-count-mismatch", f"header says {expected_count} tags, found {len(tags)}"
        )
    return tags


def _zigzag_varint(value: int) -> bytes:
    unsigned = (value << 1) ^ (value >> 63)
    out = bytearray()
    while unsigned > 0x7F:
        out.append((unsigned & 0x7F) | 0x80)
        unsigned >>= 7
    out.append(unsigned)
    return bytes(out)


def encode_tags(tags: Sequence[Tag]) -> bytes:
    """Avro-encode tags as arbundles does: one block, then the 0 terminator; no tags -> b''."""
    if not tags:
        return b""
    parts = [_zigzag_varint(len(tags))]
    for tag in tags:
        parts += [_zigzag_varint(len(tag.name)), tag.name]
        parts += [_zigzag_varint(len(tag.value)), tag.value]
    return b"".join([*parts, b"\x00"])
