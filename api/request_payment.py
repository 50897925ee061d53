"""The port through which an upload is paid by its own request (x402), not a balance."""

from collections.abc import Awaitable
from typing import Protocol

from bundlestream.api.outcomes import Outcome
from bundlestream.core.ans104 import DataItem


class RequestPayment(Protocol):
    """Verified before the body; settled once the item is durable; recorded in the
    ledger beside the item's event, before the receipt."""

    def admit(self, item: DataItem, declared_size: int | None) -> Outcome | int:
        """The winc this item is charged, or why the payment does not take it."""
        ...

    async def settle(self, item: DataItem) -> Outcome | None:
        """Take the money; None when settled (or already settled for this item)."""
        ...

    async def send_beside(self, item_send: Awaitable[None]) -> None:
        """Record the settlement in the ledger while ``item_send`` runs; both awaited."""
        ...
