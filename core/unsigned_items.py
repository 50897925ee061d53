"""Unsigned uploads: the tags a request asks for, and the size of the item we will sign.

The service wraps a raw payload in a data item signed by its own Arweave wallet (type 1,
ANS-104). Tags come from ``x-data-item-tags`` (a JSON list of ``{name, value}``, as
turbo-sdk sends them) and from ``x-tag-<name>`` headers (as upstream reads them), in
that order; the request's Content-Type becomes a ``Content-Type`` tag unless one is
given. The item's size is known before the payload arrives: the header's layout is fixed
by the signature type and the tags, so the price of the whole item can be quoted from
Content-Length.
"""

import json
from collections.abc import Iterable

from bundlestream.core.ans104 import Tag
from bundlestream.core.ans104.serialization import serialize_header
from bundlestream.core.ans104.signature_types import SignatureType, layout_of

TAG_HEADER_PREFIX = "x-tag-"
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class TagsRefused(ValueError):
    """The requested tags are not valid JSON tags, or break an ANS-104 tag limit."""


def requested_tags(
    tags_json: str | None, headers: Iterable[tuple[str, str]], content_type: str | None
) -> list[Tag]:
    """The item's tags, in request order; TagsRefused when they cannot be tags."""
    tags = _json_tags(tags_json) if tags_json else []
    for name, value in headers:
        if name.lower().startswith(TAG_HEADER_PREFIX) and len(name) > len(TAG_HEADER_PREFIX):
            tags.append(Tag(name[len(TAG_HEADER_PREFIX) :].encode(), value.encode()))
    if content_type and not any(t.name.lower() == b"content-type" for t in tags):
        tags.append(Tag(b"Content-Type", content_type.encode()))
    return tags


def _json_tags(text: str) -> list[Tag]:
    try:
        entries = json.loads(text)
        return [Tag(str(e["name"]).encode(), str(e["value"]).encode()) for e in entries]
    except (ValueError, TypeError, KeyError) as exc:
        raise TagsRefused(f"x-data-item-tags is not a JSON list of {{name, value}}: {exc}") from exc


def signed_header_length(owner: bytes, tags: list[Tag]) -> int:
    """Bytes before the payload of an Arweave-signed item with ``tags`` (no target or
    anchor); TagsRefused when the tags break a limit."""
    layout = layout_of(SignatureType.ARWEAVE)
    assert layout is not None
    try:
        return len(serialize_header(1, bytes(layout.signature_length), owner, None, None, tags))
    except ValueError as exc:
        raise TagsRefused(str(exc)) from exc
