"""Admission: may this owner store this many bytes with us?

Decided from local state only (lists held in memory, a price from cached values).
Upstream asked a payment service over HTTP on every upload, so a payment outage took
uploads down; here nothing remote sits on the upload path. An upload that must pay is
``Payable``: the edge charges it from the spendable view (api/charging.py) before the
receipt, since only that atomic reservation can tell whether the balance holds it.
"""

from collections.abc import Collection
from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class Payable:
    """The upload may proceed once ``winc`` is charged to the signer's balance."""

    winc: int


Decision = Admitted | Payable | Refused

FORBIDDEN = Refused(403, "Forbidden")
INSUFFICIENT_BALANCE = Refused(402, "Insufficient balance")
NO_PRICE = Refused(503, "Pricing Oracle Unavailable")


class UploadPrice(Protocol):
    """What storing an item costs, from cached values (never a remote call)."""

    def winc_for(self, byte_count: int) -> int | None:
        """The winc price of a ``byte_count``-byte item; None while no price is known."""
        ...


class NoCredit:
    """No way to pay: every upload beyond the free tier is refused (no ledger wired)."""

    def winc_for(self, byte_count: int) -> int | None:
        return None


@dataclass(frozen=True)
class AdmissionPolicy:
    """Upstream's policies, in upstream's order: blocklist, allow list, free tier, price.

    With ``NoCredit`` as the price a paid upload is refused with 402 (nobody can pay)."""

    blocklist: Collection[str]
    allow_list: Collection[str]
    free_upload_limit_bytes: int
    price: UploadPrice

    def decide(self, owner_address: str, native_address: str, byte_count: int) -> Decision:
        """Decide for an item of ``byte_count`` bytes by the owner with these addresses."""
        addresses = (owner_address, native_address)
        if any(a in self.blocklist for a in addresses):
            return FORBIDDEN
        if any(a in self.allow_list for a in addresses):
            return Admitted(winc=0)
        if byte_count <= self.free_upload_limit_bytes:
            return Admitted(winc=0)
        if isinstance(self.price, NoCredit):
            return INSUFFICIENT_BALANCE
        winc = self.price.winc_for(byte_count)
        return NO_PRICE if winc is None else Payable(winc=winc)

    def without_free_tier(self) -> "AdmissionPolicy":
        """This policy with no free tier: an item the service signs for a requester is
        always priced (the service, not the requester, is its signer and owner)."""
        return replace(self, free_upload_limit_bytes=0)

    def refuses_early(self, owner_address: str, native_address: str) -> Refused | None:
        """A refusal decidable from the header alone (before the payload streams)."""
        if owner_address in self.blocklist or native_address in self.blocklist:
            return FORBIDDEN
        return None
