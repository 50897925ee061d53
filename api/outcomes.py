"""What an upload can come to, in upstream's words; routes turn these into responses."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bundlestream.core.admission import Refused
from bundlestream.core.ans104 import DataItem
from bundlestream.core.ans104.errors import DataItemParseError, DataItemTooLarge, InvalidSignature
from bundlestream.core.receipts import Receipt

PARSE_ERROR = "Data item parsing error!"
INVALID_ITEM = "Invalid Data Item!"
INVALID_CONTENT_TYPE = "Invalid Content Type"


@dataclass(frozen=True)
class Accepted:
    """Payload durable, event acknowledged, receipt signed."""

    receipt: Receipt
    # Fields the answer carries beside the receipt (createdApproval, revokedApprovals).
    beside: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Duplicate:
    """The item was already uploaded (a fast check; exact dedup is the stream's job)."""

    item_id: str

    @property
    def message(self) -> str:
        return f"Data item with ID {self.item_id} has already been uploaded to this service!"


@dataclass(frozen=True)
class Rejected:
    """The client's fault (4xx): nothing of the item is kept."""

    status: int
    message: str


@dataclass(frozen=True)
class Unavailable:
    """A dependency is down or we are shedding load: 503, try again later."""

    message: str


Outcome = Accepted | Duplicate | Rejected | Unavailable


def too_large(max_item_size: int) -> Rejected:
    """Upstream's answer (400, not 413) for an item over the size limit."""
    return Rejected(
        400,
        f"Data item is too large, this service only accepts data items up to "
        f"{max_item_size} bytes!",
    )


ITEM_ERRORS = (DataItemParseError, InvalidSignature)
"""What the parser raises for an item that breaks an ANS-104 rule."""


def rejected_item(error: DataItemParseError | InvalidSignature) -> Rejected:
    """Upstream's answer to an item that breaks an ANS-104 rule, wherever it is found.

    Too large is a parse error too (a subclass), so it is told apart first.
    """
    if isinstance(error, DataItemTooLarge):
        return too_large(error.max_item_size)
    if isinstance(error, InvalidSignature):
        return Rejected(400, INVALID_ITEM)
    return Rejected(400, PARSE_ERROR)


def refusal(decision: Refused) -> Outcome:
    """A 503 refusal (no price known) is an Unavailable: it carries Retry-After."""
    if decision.status == 503:
        return Unavailable(decision.message)
    return Rejected(decision.status, decision.message)


def unreachable(what: str, item_id: str) -> Unavailable:
    return Unavailable(
        f"Data Item: {item_id}. Upload Service is Unavailable. {what} is unreachable"
    )


def fresh_status(item: DataItem, receipt: Receipt) -> dict[str, Any]:
    """What GET /tx/{id}/status and /offsets can say before the projections know the item."""
    return {
        "receipt": receipt,
        "owner": item.header.owner_address,
        "rawContentLength": item.size,
        "payloadDataStart": item.header.payload_start,
        "payloadContentType": item.header.tag("Content-Type") or "application/octet-stream",
        "winc": receipt["winc"],
    }
