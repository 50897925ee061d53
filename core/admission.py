"""Admission: may this owner store this many bytes with us?

Decided from local state only (lists held in memory, a balance view a ledger projection
will fill later). Upstream asked a payment service over HTTP on every upload, so a
payment outage took uploads down; here nothing remote sits on the upload path.
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Admitted:
    """The upload may proceed; ``winc`` is what the receipt reports as its cost."""

    winc: int


@dataclass(frozen=True)
class Refused:
    """The upload is refused with an HTTP status and upstream's message."""

    status: int
    message: str


Decision = Admitted | Refused

FORBIDDEN = Refused(403, "Forbidden")
INSUFFICIENT_BALANCE = Refused(402, "Insufficient balance")


class BalanceView(Protocol):
    """Local view of what an owner may spend; fed from ledger events, never remote."""

    def can_afford(self, native_address: str, byte_count: int) -> int | None:
        """The winc cost when the owner can pay for ``byte_count`` bytes, else None."""
        ...


class NoCredit:
    """The balance hook until a ledger exists: nobody has credit beyond the free tier."""

    def can_afford(self, native_address: str, byte_count: int) -> int | None:
        return None


@dataclass(frozen=True)
class AdmissionPolicy:
    """Today's policies, in upstream's order: blocklist, allow list, free tier, balance."""

    blocklist: Collection[str]
    allow_list: Collection[str]
    free_upload_limit_bytes: int
    balance: BalanceView

    def decide(self, owner_address: str, native_address: str, byte_count: int) -> Decision:
        """Decide for an item of ``byte_count`` bytes by the owner with these addresses."""
        addresses = (owner_address, native_address)
        if any(a in self.blocklist for a in addresses):
            return FORBIDDEN
        if any(a in self.allow_list for a in addresses):
            return Admitted(winc=0)
        if byte_count <= self.free_upload_limit_bytes:
            return Admitted(winc=0)
        winc = self.balance.can_afford(native_address, byte_count)
        return INSUFFICIENT_BALANCE if winc is None else Admitted(winc=winc)

    def refuses_early(self, owner_address: str, native_address: str) -> Refused | None:
        """A refusal decidable from the header alone (before the payload streams)."""
        if owner_address in self.blocklist or native_address in self.blocklist:
            return FORBIDDEN
        return None
