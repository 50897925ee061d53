"""The Arweave transaction of a bundle, and where each item lies in it.

A bundle travels as one format-2 transaction tagged as an ANS-104 bundle: its data is
given by ``data_size`` and ``data_root`` (the chunks follow with ``POST /chunk``).
"""

from collections.abc import Iterable

from bundlestream.core.ans104.bundle_reader import BundledItem
from bundlestream.core.arweave_tx import BUNDLE_TAGS, Transaction, sign_transaction
from bundlestream.core.encoding import b64url_decode
from bundlestream.core.jwk import ArweaveKey
from bundlestream.schemas.events import ItemOffset


def bundle_transaction(
    key: ArweaveKey, data_size: int, data_root: bytes, reward: int, anchor: str
) -> Transaction:
    """The signed transaction carrying a bundle of ``data_size`` bytes."""
    unsigned = Transaction(
        owner=key.owner_bytes,
        last_tx=b64url_decode(anchor),
        reward=reward,
        data_size=data_size,
        data_root=data_root,
        tags=BUNDLE_TAGS,
    )
    return sign_transaction(unsigned, key)


def item_offsets(items: Iterable[BundledItem]) -> list[ItemOffset]:
    """Offsets of every item (nested ones too) as a bundle read reports them."""
    return [_offset(item) for item in items if item.item is not None]


def _offset(found: BundledItem) -> ItemOffset:
    assert found.item is not None
    header = found.item.header
    return ItemOffset(
        data_item_id=found.entry.id,
        start_offset_in_root_bundle=found.placement.offset,
        raw_content_length=found.entry.size,
        payload_data_start=header.payload_start,
        payload_content_type=header.tag("Content-Type"),
        parent_data_item_id=found.placement.parent_id,
        start_offset_in_parent_payload=found.placement.offset_in_parent_payload,
    )
