"""Optical posting: the signed data item headers AR.IO gateways accept before bundling.

An AR.IO gateway's optical bridge takes ``POST`` of a JSON array of data item headers
(``Content-Type: application/json``) and indexes them at once, so an item is findable
long before its bundle is mined. Each header carries what the item's own signature
covers except the payload, plus the bundler's signature over the item id, checked
against the RSA public key the bundler sends in the ``x-bundlr-public-key`` request
header (base64url modulus, as Arweave transmits owners):

* ``id``, ``signature``, ``owner`` (the raw public key), base64url;
* ``owner_address``: base64url SHA-256 of the owner, the normalized address of every
  signature type;
* ``target``: base64url, or ``""`` when the item has none; ``content_type``: the
  ``Content-Type`` tag, else ``application/octet-stream``;
* ``tags``: ``[{"name", "value"}]`` with both base64url of the raw tag bytes (tags are
  bytes in ANS-104, not necessarily UTF-8);
* ``data_size``: payload bytes; ``uploaded_at``: milliseconds since the epoch;
* ``bundlr_signature``: RSA-PSS over the deep hash of ``[id as UTF-8]``, base64url
  (the field keeps its historical spelling; gateways read it under that name).

The anchor is not part of the header gateways read. Pure: time and key are passed in.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from bundlestream.core.ans104.data_item import DataItemHeader
from bundlestream.core.ans104.errors import DataItemParseError
from bundlestream.core.ans104.parser import DataItemParser
from bundlestream.core.deephash import deep_hash
from bundlestream.core.encoding import b64url_encode
from bundlestream.core.jwk import ArweaveKey

PUBLIC_KEY_HEADER = "x-bundlr-public-key"
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def parse_item_header(header_bytes: bytes) -> DataItemHeader:
    """The header of a data item from its first ``payload_start`` bytes (or more).

    Not verified: the signature covers the payload, which is not here (the API verified
    the whole item before accepting it). Raises ``DataItemParseError`` when the bytes
    break a rule or end before the header does.
    """
    parser = DataItemParser(max_item_size=2**63, verify=False)
    parser.feed(header_bytes)
    if parser.header is None:
        raise DataItemParseError("header", f"the header is longer than {len(header_bytes)} bytes")
    return parser.header


def optical_message(data_item_id: str) -> bytes:
    """What the bundler signs for a header: the deep hash of ``[id as UTF-8]``."""
    return deep_hash([data_item_id.encode("utf-8")])


def unsigned_header(
    header: DataItemHeader, data_size: int, uploaded_at: datetime
) -> dict[str, object]:
    """The header's fields as the optical bridge reads them, without the bundler's
    signature."""
    return {
        "id": header.id,
        "signature": b64url_encode(header.signature),
        "owner": b64url_encode(header.owner),
        "owner_address": header.owner_address,
        "target": b64url_encode(header.target) if header.target is not None else "",
        "content_type": header.tag("Content-Type") or DEFAULT_CONTENT_TYPE,
        "tags": [
            {"name": b64url_encode(tag.name), "value": b64url_encode(tag.value)}
            for tag in header.tags
        ],
        "data_size": data_size,
        "uploaded_at": int(uploaded_at.timestamp() * 1000),
    }


def signed_header(
    key: ArweaveKey, header: DataItemHeader, data_size: int, uploaded_at: datetime
) -> dict[str, object]:
    """The header with ``bundlr_signature``: ``key`` signs :func:`optical_message`."""
    signature = key.sign(optical_message(header.id))
    return {
        **unsigned_header(header, data_size, uploaded_at),
        "bundlr_signature": b64url_encode(signature),
    }


def optical_body(headers: Sequence[Mapping[str, object]]) -> bytes:
    """The request body: one JSON array of headers."""
    return json.dumps(list(headers), separators=(",", ":")).encode("utf-8")


class RecentIds:
    """The last ``capacity`` ids remembered, oldest forgotten first: a bounded memory of
    what was posted, so a repeated acceptance seen soon after is not posted again."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: dict[str, None] = {}  # insertion-ordered

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, item_id: str) -> None:
        self._ids.pop(item_id, None)
        self._ids[item_id] = None
        while len(self._ids) > self._capacity:
            del self._ids[next(iter(self._ids))]
