"""What an upload can come to, in upstream's words; routes turn these into responses."""

from dataclasses import dataclass

from bundlestream.core.ans104.errors import DataItemParseError, DataItemTooLarge, InvalidSignature
from bundlestream.core.receipts import Receipt

PARSE_ERROR = "Data item parsing error!"
INVALID_ITEM = "Invalid Data Item!"
INVALID_CONTENT_TYPE = "Invalid Content Type"


@dataclass(frozen=True)
class Accepted:
    """Payload durable, event acknowledged, receipt signed."""

    receipt: Receipt


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
