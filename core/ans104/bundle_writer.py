"""Streaming ANS-104 bundle writer: the header first, then each item's bytes in turn.

Only the header and one chunk at a time are in memory, so a 2 GiB bundle can be
written from item sources stored anywhere (object store, files).
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from bundlestream.core.ans104.bundle_header import BundleEntry, encode_bundle_header
from bundlestream.core.ans104.errors import BundleError
from bundlestream.core.ans104.parser import parse_data_item

ChunkOpener = Callable[[], Iterable[bytes]]


@dataclass(frozen=True)
class BundleItemSource:
    """An item to bundle: its header entry and a way to stream its bytes (``open``)."""

    entry: BundleEntry
    open: ChunkOpener


def item_source_from_bytes(item: bytes, *, verify: bool = True) -> BundleItemSource:
    """A source for an item held in memory; its id is read from its own header."""
    parsed = parse_data_item(item, verify=verify)
    return BundleItemSource(BundleEntry(parsed.size, parsed.header.raw_id), lambda: (item,))


def _item_chunks(source: BundleItemSource) -> Iterator[bytes]:
    written = 0
    for chunk in source.open():
        written += len(chunk)
        yield chunk
    if written != source.entry.size:
        raise BundleError(
            "bundle-item-size",
            f"item {source.entry.id} streamed {written} bytes, header says {source.entry.size}",
        )


def write_bundle(sources: Sequence[BundleItemSource]) -> Iterator[bytes]:
    """Yield the bundle: header bytes, then every item's chunks in header order.

    Raises BundleError if a source streams a different number of bytes than its entry.
    """
    yield encode_bundle_header([source.entry for source in sources])
    for source in sources:
        yield from _item_chunks(source)


def bundle_bytes(items: Sequence[bytes], *, verify: bool = True) -> bytes:
    """A whole bundle of in-memory items (for tests and small bundles)."""
    return b"".join(write_bundle([item_source_from_bytes(item, verify=verify) for item in items]))
