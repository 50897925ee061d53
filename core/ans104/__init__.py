"""ANS-104 data items and bundles: streaming parse, verification, signing and bundling.

The names the rest of bundlestream uses are re-exported here.
"""

from core.ans104.data_item import DataItem, DataItemHeader
from core.ans104.errors import (
    Ans104Error,
    BundleError,
    DataItemParseError,
    DataItemTooLarge,
    InvalidSignature,
)
from core.ans104.parser import DataItemParser
from core.ans104.signature_types import SignatureType
from core.ans104.tags import Tag

DEFAULT_MAX_ITEM_SIZE = 10 * 1024**3  # upstream default: 10 GiB


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


__all__ = [
    "DEFAULT_MAX_ITEM_SIZE",
    "Ans104Error",
    "BundleError",
    "DataItem",
    "DataItemHeader",
    "DataItemParseError",
    "DataItemParser",
    "DataItemTooLarge",
    "InvalidSignature",
    "SignatureType",
    "Tag",
    "parse_data_item",
]
