"""What one ledger event does to the spendable-balance view the upload path reserves from.

The view holds, per address, the winc its own balance may still spend (approvals are not
spendable through it), and one marker per natural id so that each change is applied once
as ``core.ledger.evolve`` applies it: a credit or an approval's start or end once per id;
a charge once per item (an item the upload path reserved was already deducted when it
reserved, so its charge only turns the reservation into a charge); a refund only of a
charged item, once.
"""

from dataclasses import dataclass
from typing import Literal

from bundlestream.schemas import ledger_events as ev

Kind = Literal["once", "charge", "refund", "skip"]


@dataclass(frozen=True)
class ViewChange:
    """Apply ``deltas`` (address, signed winc) if the marker ``marker`` allows ``kind``."""

    kind: Kind
    marker: str
    deltas: tuple[tuple[str, int], ...]


def _own(payments: tuple[ev.Payment, ...], sign: int) -> tuple[tuple[str, int], ...]:
    return tuple((p.payer_address, sign * int(p.winc)) for p in payments if p.approval_id is None)


NO_CHANGE = ViewChange("skip", "skip", ())


def view_change(event: object) -> ViewChange:
    """The change ``event`` makes to spendable balances (``NO_CHANGE``: none)."""
    match event:
        case ev.BalanceCredited():
            credit = ((event.address, int(event.winc)),)
            return ViewChange("once", f"credit:{event.credit_id}", credit)
        case ev.UploadCharged():
            return ViewChange("charge", f"item:{event.data_item_id}", _own(event.payments, -1))
        case ev.UploadRefunded():
            return ViewChange("refund", f"item:{event.data_item_id}", _own(event.payments, 1))
        case ev.ApprovalCreated():
            debit = ((event.address, -int(event.winc)),)
            return ViewChange("once", f"approval:{event.approval_id}", debit)
        case ev.ApprovalRevoked() | ev.ApprovalExpired():
            back = ((event.paying_address, int(event.returned_winc)),)
            return ViewChange("once", f"approval-end:{event.approval_id}", back)
    return NO_CHANGE


def item_marker(data_item_id: str) -> str:
    """The marker a reservation, a charge and a refund of one item share."""
    return f"item:{data_item_id}"
