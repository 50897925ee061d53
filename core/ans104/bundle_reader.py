"""Streaming ANS-104 bundle reader, unpacking nested bundles as it goes.

Items are parsed and verified while their bytes pass, so memory holds the bundle header
and one item header at a time, never a payload. A data item tagged
``Bundle-Format: binary`` and ``Bundle-Version: 2.0.0`` is a bundle itself (ANS-104
"Nested bundle"): its payload is read as a bundle too, recursively, while the same bytes
still feed the outer item's signature check.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain

from bundlestream.core.ans104.bundle_header import (
    COUNT_BYTES,
    ENTRY_BYTES,
    BundleEntry,
    decode_count,
    decode_entry,
)
from bundlestream.core.ans104.chunk_stream import BytesLike, ChunkStream
from bundlestream.core.ans104.data_item import DataItem, DataItemHeader
from bundlestream.core.ans104.errors import (
    Ans104Error,
    BundleError,
    DataItemParseError,
    InvalidSignature,
)
from bundlestream.core.ans104.parser import DataItemParser

DEFAULT_MAX_ITEMS = 100_000
DEFAULT_MAX_DEPTH = 8


@dataclass(frozen=True)
class ItemPlacement:
    """Where an item sits: in the root bundle and, if nested, in its parent's payload."""

    offset: int  # of the item's first byte in the root bundle
    parent_id: str | None = None  # None for an item of the root bundle
    offset_in_parent_payload: int | None = None
    depth: int = 0


@dataclass(frozen=True)
class BundledItem:
    """One item found in a bundle, its placement, and whether it parsed and verified.

    ``item`` is None when the item's header could not be parsed; ``error`` says why the
    item is invalid (bad layout, bad signature, id not the one the bundle header lists).
    ``nested_error`` is set when the item claims to be a bundle but is not a valid one.
    """

    entry: BundleEntry
    placement: ItemPlacement
    item: DataItem | None
    error: Ans104Error | None = None
    nested_error: BundleError | None = field(default=None)

    @property
    def valid(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class ReadOptions:
    """Limits of a bundle read: verify signatures, largest item count, nesting depth."""

    verify: bool = True
    max_items: int = DEFAULT_MAX_ITEMS
    max_depth: int = DEFAULT_MAX_DEPTH


def is_nested_bundle(header: DataItemHeader) -> bool:
    """Whether the item's payload is an ANS-104 bundle (ANS-104 nested bundle tags)."""
    return header.tag("Bundle-Format") == "binary" and header.tag("Bundle-Version") == "2.0.0"


def read_bundle_entries(stream: ChunkStream, max_items: int) -> list[BundleEntry]:
    """Read the header at the stream's position; BundleError if it is malformed."""
    count = decode_count(stream.read_exact(COUNT_BYTES))
    if count > max_items:
        raise BundleError("bundle-item-count", f"{count} items exceeds {max_items}")
    return [decode_entry(stream.read_exact(ENTRY_BYTES)) for _ in range(count)]


def read_bundle(
    chunks: Iterable[BytesLike], options: ReadOptions = ReadOptions()
) -> Iterator[BundledItem]:
    """Yield every item of the bundle in ``chunks``, nested ones right after their parent.

    Raises BundleError if the root bundle's header is malformed or its bytes end early;
    problems of one item are reported on that item, and reading goes on.
    """
    return _BundleWalk(options).items(ChunkStream(chunks), None, 0)


def read_nested_bundle(
    header: DataItemHeader, payload: Iterable[BytesLike], options: ReadOptions = ReadOptions()
) -> Iterator[BundledItem]:
    """Yield the items of the bundle in a data item's payload (streamed in ``payload``).

    Offsets are within the data item (the item is the root): ``offset`` counts from the
    item's first byte and ``offset_in_parent_payload`` from its payload's first byte.
    Raises BundleError if the payload is not a well-formed bundle.
    """
    parent = BundledItem(BundleEntry(0, header.raw_id), ItemPlacement(0), _provisional(header))
    return _BundleWalk(options).items(ChunkStream(payload), parent, header.payload_start)


def _feeding(pieces: Iterable[memoryview], parser: DataItemParser) -> Iterator[memoryview]:
    """Pass pieces through, feeding each to ``parser`` first (nested payload tee)."""
    for piece in pieces:
        parser.feed(piece)
        yield piece


class _BundleWalk:
    """One read of a bundle tree; keeps the options so the recursion stays small."""

    def __init__(self, options: ReadOptions) -> None:
        self._options = options

    def items(
        self, stream: ChunkStream, parent: BundledItem | None, base: int
    ) -> Iterator[BundledItem]:
        """Items of the bundle starting at ``stream``'s position (``base`` in the root)."""
        start = stream.position
        for entry in read_bundle_entries(stream, self._options.max_items):
            placement = self._placement(parent, base + stream.position - start)
            yield from self._item(stream, entry, placement)

    def _placement(self, parent: BundledItem | None, offset: int) -> ItemPlacement:
        if parent is None or parent.item is None:
            return ItemPlacement(offset)
        payload_offset = offset - parent.placement.offset - parent.item.header.payload_start
        depth = parent.placement.depth + 1
        return ItemPlacement(offset, parent.item.id, payload_offset, depth)

    def _item(
        self, stream: ChunkStream, entry: BundleEntry, placement: ItemPlacement
    ) -> Iterator[BundledItem]:
        parser = DataItemParser(entry.size, verify=self._options.verify)
        pieces = stream.spans(entry.size)
        try:
            header, early_payload = _header_of(parser, pieces)
        except _ITEM_ERRORS as error:
            _consume(pieces)
            yield BundledItem(entry, placement, None, error)
            return
        nested: list[BundledItem] = []
        nested_error = None
        if is_nested_bundle(header) and placement.depth < self._options.max_depth:
            payload = chain([early_payload], _feeding(pieces, parser))
            nested_error = self._read_nested(header, payload, placement, nested)
            _raise_if_truncated(stream, nested_error)
        yield self._finished(entry, placement, parser, pieces, nested_error)
        yield from nested

    def _read_nested(
        self,
        header: DataItemHeader,
        payload: Iterable[memoryview],
        placement: ItemPlacement,
        into: list[BundledItem],
    ) -> BundleError | None:
        """Read the payload as a bundle into ``into``; the error if it is not one."""
        parent = BundledItem(BundleEntry(0, header.raw_id), placement, _provisional(header))
        base = placement.offset + header.payload_start
        try:
            into.extend(self.items(ChunkStream(payload), parent, base))
        except BundleError as error:
            return error
        except Ans104Error:
            return None  # the outer item's own bytes broke a rule: _finished reports it
        return None

    @staticmethod
    def _finished(
        entry: BundleEntry,
        placement: ItemPlacement,
        parser: DataItemParser,
        pieces: Iterator[memoryview],
        nested_error: BundleError | None,
    ) -> BundledItem:
        try:
            _consume(_feeding(pieces, parser))
            item = parser.finish()
        except _ITEM_ERRORS as error:
            _consume(pieces)
            return BundledItem(entry, placement, None, error, nested_error)
        return BundledItem(entry, placement, item, _id_error(entry, item), nested_error)


# What one item can get wrong; a BundleError from the stream itself ends the whole read.
_ITEM_ERRORS = (DataItemParseError, InvalidSignature)


def _raise_if_truncated(stream: ChunkStream, nested_error: BundleError | None) -> None:
    """A nested read that failed because the enclosing bytes ran out is the outer bundle's
    error, not the nested bundle's."""
    if nested_error is not None and stream.truncated:
        raise nested_error


def _header_of(
    parser: DataItemParser, pieces: Iterator[memoryview]
) -> tuple[DataItemHeader, memoryview]:
    """Feed pieces until the header is complete: the header and the payload bytes fed with it."""
    for piece in pieces:
        parser.feed(piece)
        header = parser.header
        if header is not None:
            early = parser.received - header.payload_start
            return header, piece[piece.nbytes - early :]
    return parser.finish().header, memoryview(b"")  # raises: the item ends inside its header


def _provisional(header: DataItemHeader) -> DataItem:
    # The nested items' placements need only the parent's id and payload start.
    return DataItem(header, 0, header.payload_start)


def _id_error(entry: BundleEntry, item: DataItem) -> BundleError | None:
    if entry.raw_id == item.header.raw_id:
        return None
    return BundleError("bundle-item-id", f"header lists {entry.id}, item id is {item.id}")


def _consume(pieces: Iterable[memoryview]) -> None:
    for _ in pieces:
        pass
