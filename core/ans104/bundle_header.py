"""The ANS-104 bundle header.

ANS-104 "Bundle format": a 32-byte little-endian item count, then for each item a
32-byte little-endian size and the item's 32-byte raw id (SHA-256 of its signature),
then the items' bytes back to back in the same order.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from bundlestream.core.encoding import b64url_encode

COUNT_BYTES = 32
ENTRY_BYTES = 64  # 32-byte size + 32-byte id
_FIELD_BYTES = 32


@dataclass(frozen=True)
class BundleEntry:
    """One item as the bundle header lists it: its size in bytes and raw 32-byte id."""

    size: int
    raw_id: bytes

    @property
    def id(self) -> str:
        """The item id as text (base64url)."""
        return b64url_encode(self.raw_id)


def header_size(item_count: int) -> int:
    """Bytes taken by the header of a bundle of ``item_count`` items."""
    return COUNT_BYTES + ENTRY_BYTES * item_count


def encode_bundle_header(entries: Sequence[BundleEntry]) -> bytes:
    """The header bytes listing ``entries`` in order."""
    parts = [len(entries).to_bytes(COUNT_BYTES, "little")]
    for entry in entries:
        if len(entry.raw_id) != _FIELD_BYTES:
            raise ValueError(f"raw id must be 32 bytes, got {len(entry.raw_id)}")
        parts += [entry.size.to_bytes(_FIELD_BYTES, "little"), entry.raw_id]
    return b"".join(parts)


def decode_entry(data: bytes) -> BundleEntry:
    """One 64-byte header entry."""
    return BundleEntry(int.from_bytes(data[:_FIELD_BYTES], "little"), bytes(data[_FIELD_BYTES:]))


def decode_count(data: bytes) -> int:
    """The 32-byte little-endian item count."""
    return int.from_bytes(data, "little")
