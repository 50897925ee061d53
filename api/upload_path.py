"""What the upload path is given: its dependencies, opened in the app lifespan, and the
contracts of the two it calls out through (publishing the event, signing the receipt)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bundlestream.adapters.fresh_receipts import FreshView
from bundlestream.adapters.object_store import ObjectStore
from bundlestream.api.capacity import BodyMemory
from bundlestream.api.charging import Charging
from bundlestream.core.admission import AdmissionPolicy
from bundlestream.core.receipts import Receipt
from bundlestream.schemas.events import DataItemReceived

Publish = Callable[[DataItemReceived], Awaitable[None]]
"""Produce DataItemReceived keyed by its owner address; return only after acks=all."""

SignReceipt = Callable[..., Receipt]
"""Sign a Turbo 0.2.0 receipt (core.receipts.sign_receipt with the service key bound)."""


class PublishFailed(Exception):
    """The broker did not acknowledge the event; raised by ``Publish`` implementations."""


@dataclass(frozen=True)
class UploadPath:
    """Everything the upload path needs, opened in the app lifespan and passed down."""

    store: ObjectStore
    publish: Publish
    fresh: FreshView
    height: Callable[[], int | None]
    sign: SignReceipt
    admission: AdmissionPolicy
    now_ms: Callable[[], int]
    max_item_size: int
    inline_max: int
    deadline_margin: int
    data_caches: tuple[str, ...]
    fast_finality_indexes: tuple[str, ...]
    # Charges paid uploads (api/charging.py); None: every paid upload is refused (402).
    charging: Charging | None = None
    # Body bytes this process holds, shared by its uploads (api/capacity.py).
    memory: BodyMemory = field(default_factory=BodyMemory.unbounded)


def raw_key(item_id: str) -> str:
    """Object-store key of a raw data item."""
    return f"raw/{item_id}"
