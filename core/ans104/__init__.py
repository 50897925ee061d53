"""ANS-104 data items and bundles: streaming parse, verification, signing and bundling.

The names the rest of bundlestream uses are re-exported here.
"""

from bundlestream.core.ans104.data_item import DataItem, DataItemHeader
from bundlestream.core.ans104.errors import (
    Ans104Error,
    BundleError,
    DataItemParseError,
    DataItemTooLarge,
    InvalidSignature,
)
from bundlestream.core.ans104.parser import DEFAULT_MAX_ITEM_SIZE, DataItemParser, parse_data_item
from bundlestream.core.ans104.signature_types import SignatureType
from bundlestream.core.ans104.tags import Tag

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
