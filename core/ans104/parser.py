"""The push-style streaming data item parser.

ANS-104 "Binary format" of a data item, all integers little-endian:

====================  ======================================================
2 bytes               signature type
sig length bytes      signature (length fixed by the type)
owner length bytes    owner (length fixed by the type)
1 byte (+32)          target presence (0 or 1), then 32 bytes if 1
1 byte (+32)          anchor presence (0 or 1), then 32 bytes if 1
8 bytes               number of tags
8 bytes               number of tag bytes
tag bytes             Avro-encoded tags
rest                  payload
====================  ======================================================

The parser holds only the header in memory. Bytes are buffered until the next field is
complete, the field is checked at once, and the payload is streamed into the deep hash.
"""

from collections.abc import Callable

from bundlestream.core.ans104.data_item import DataItem, DataItemHeader
from bundlestream.core.ans104.errors import (
    Ans104Error,
    DataItemParseError,
    DataItemTooLarge,
    InvalidSignature,
)
from bundlestream.core.ans104.signature_data import header_digests, signature_data
from bundlestream.core.ans104.signature_types import layout_of
from bundlestream.core.ans104.tags import MAX_TAG_BYTES, MAX_TAGS, Tag, decode_tags
from bundlestream.core.ans104.verification import verify_signature
from bundlestream.core.deephash import BlobHasher

PayloadSink = Callable[[memoryview], None]

DEFAULT_MAX_ITEM_SIZE = 10 * 1024**3  # upstream default: 10 GiB

_SIGNATURE_TYPE_BYTES = 2
_PRESENCE_BYTES = 1
_OPTIONAL_FIELD_BYTES = 32  # ANS-104: target and anchor are 32 raw bytes when present
_TAG_HEADER_BYTES = 16  # number of tags (8) + number of tag bytes (8)


def _little_endian(data: bytes | bytearray) -> int:
    return int.from_bytes(data, "little")


class DataItemParser:
    """Parse (and by default verify) one data item fed in chunks of any size.

    ``feed`` raises a :class:`DataItemParseError` as soon as the bytes seen break a rule;
    ``finish`` raises it if the item is truncated and :class:`InvalidSignature` if
    ``verify`` and the signature does not verify. After an error every later call raises
    the same error. ``on_payload``, if given, receives each payload slice as it passes.
    """

    def __init__(
        self, max_item_size: int, *, verify: bool = True, on_payload: PayloadSink | None = None
    ) -> None:
        self._max_item_size = max_item_size
        self._verify = verify
        self._on_payload = on_payload
        self._buffer = bytearray()
        self._need = _SIGNATURE_TYPE_BYTES
        self._step: Callable[[], None] = self._read_signature_type
        self._header: DataItemHeader | None = None
        self._received = 0
        self._payload_hash = BlobHasher()
        self._prefix_digests: list[bytes] = []
        self._error: Ans104Error | None = None
        self._signature_type = 0
        self._signature_end = 0
        self._owner_end = 0
        self._target_end = 0
        self._tags_start = 0
        self._tag_count = 0

    @property
    def header(self) -> DataItemHeader | None:
        """The parsed header, set as soon as its last byte has been fed."""
        return self._header

    @property
    def received(self) -> int:
        """Bytes fed so far."""
        return self._received

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        """Take the next bytes of the item; raise as soon as they break a rule."""
        self._raise_if_failed()
        try:
            self._accept(memoryview(chunk).cast("B"))
        except Ans104Error as error:
            self._error = error
            raise

    def finish(self) -> DataItem:
        """The complete item; raises if truncated, or (when verifying) if the signature fails."""
        self._raise_if_failed()
        try:
            return self._finished_item()
        except Ans104Error as error:
            self._error = error
            raise

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _accept(self, view: memoryview) -> None:
        if self._received + view.nbytes > self._max_item_size:
            raise DataItemTooLarge(self._max_item_size)
        self._received += view.nbytes
        if self._header is None:
            view = self._fill_header(view)
        if view.nbytes:
            self._stream_payload(view)

    def _fill_header(self, view: memoryview) -> memoryview:
        """Buffer header bytes, running each field's check once it is complete."""
        while self._header is None:
            take = self._need - len(self._buffer)
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) < self._need:
                break
            self._step()
        return view

    def _stream_payload(self, view: memoryview) -> None:
        if self._verify:
            self._payload_hash.update(view)
        if self._on_payload is not None:
            self._on_payload(view)

    def _read_signature_type(self) -> None:
        signature_type = _little_endian(self._buffer[:_SIGNATURE_TYPE_BYTES])
        layout = layout_of(signature_type)
        if layout is None:
            raise DataItemParseError("signature-type", f"unknown signature type {signature_type}")
        self._signature_type = signature_type
        self._signature_end = _SIGNATURE_TYPE_BYTES + layout.signature_length
        self._owner_end = self._signature_end + layout.owner_length
        self._need = self._owner_end + _PRESENCE_BYTES
        self._step = self._read_target_presence

    def _presence(self, field: str) -> int:
        """The presence byte just read (the last buffered byte): 0 or 1, else an error."""
        flag = self._buffer[self._need - 1]
        if flag not in (0, 1):
            raise DataItemParseError(f"{field}-presence", f"{field} presence byte is {flag}")
        return flag * _OPTIONAL_FIELD_BYTES

    def _read_target_presence(self) -> None:
        self._target_end = self._need + self._presence("target")
        self._need = self._target_end + _PRESENCE_BYTES
        self._step = self._read_anchor_presence

    def _read_anchor_presence(self) -> None:
        self._tags_start = self._need + self._presence("anchor")
        self._need = self._tags_start + _TAG_HEADER_BYTES
        self._step = self._read_tag_sizes

    def _read_tag_sizes(self) -> None:
        """Check the declared tag count and tag byte length before any tag is read."""
        counts = self._buffer[self._tags_start : self._need]
        self._tag_count, tag_bytes = _little_endian(counts[:8]), _little_endian(counts[8:])
        if self._tag_count > MAX_TAGS:
            raise DataItemParseError("tag-count", f"{self._tag_count} tags exceeds {MAX_TAGS}")
        if tag_bytes > MAX_TAG_BYTES:
            raise DataItemParseError("tag-bytes", f"{tag_bytes} tag bytes exceeds {MAX_TAG_BYTES}")
        self._need += tag_bytes
        self._step = self._read_tags

    def _read_tags(self) -> None:
        raw_tags = bytes(self._buffer[self._tags_start + _TAG_HEADER_BYTES : self._need])
        header = self._build_header(decode_tags(raw_tags, self._tag_count), raw_tags)
        if self._verify:
            self._prefix_digests = header_digests(
                header.signature_type, header.owner, header.target, header.anchor, raw_tags
            )
        self._header, self._buffer = header, bytearray()

    def _optional_field(self, presence_at: int, end: int) -> bytes | None:
        return bytes(self._buffer[presence_at + 1 : end]) if end > presence_at + 1 else None

    def _build_header(self, tags: tuple[Tag, ...], raw_tags: bytes) -> DataItemHeader:
        return DataItemHeader(
            signature_type=self._signature_type,
            signature=bytes(self._buffer[_SIGNATURE_TYPE_BYTES : self._signature_end]),
            owner=bytes(self._buffer[self._signature_end : self._owner_end]),
            target=self._optional_field(self._owner_end, self._target_end),
            anchor=self._optional_field(self._target_end, self._tags_start),
            tags=tags,
            raw_tags=raw_tags,
            payload_start=self._need,
        )

    def _finished_item(self) -> DataItem:
        header = self._header
        if header is None:
            raise DataItemParseError(
                "truncated", f"data item ends after {self._received} bytes, inside its header"
            )
        if self._verify and not self._signature_verifies(header):
            raise InvalidSignature(
                "signature", f"signature of data item {header.id} does not verify"
            )
        return DataItem(header, self._received - header.payload_start, self._received)

    def _signature_verifies(self, header: DataItemHeader) -> bool:
        message = signature_data(self._prefix_digests, self._payload_hash.digest())
        return verify_signature(header.signature_type, header.owner, header.signature, message)


def parse_data_item(
    data: bytes | bytearray | memoryview,
    *,
    max_item_size: int = DEFAULT_MAX_ITEM_SIZE,
    verify: bool = True,
) -> DataItem:
    """Parse (and by default verify) a data item held in memory; raises Ans104Error subclasses."""
    parser = DataItemParser(max_item_size, verify=verify)
    parser.feed(data)
    return parser.finish()
