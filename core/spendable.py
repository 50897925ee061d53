"""What one ledger event does to the spendable view the upload path reserves from.

The view holds, per address, the winc its own balance may still spend, and per approval
its remainder as a counter of its own (in one hash per payer and approved address), plus
one marker per natural id so that each change is applied once as ``core.ledger.evolve``
applies it: a credit or an approval's end once per id; an approval's creation once (one
the upload path reserved was already taken from the payer's balance, so its event only
opens the counter); a charge once per item (one the upload path reserved only turns the
reservation into a charge); a refund only of a charged item, once (an approval's share
that the refund's decision already put back is not put back twice).

Changes commute within what Kafka orders: charges, refunds and ends of an approval are
keyed by the approved address, so they arrive in the log's order; its creation (keyed by
the payer) may be read before or after them by a feed rebuilding the view, so a counter
is a sum of deltas and an ended approval ignores a late creation.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bundlestream.schemas import ledger_events as ev

Kind = Literal["once", "create", "charge", "refund", "skip"]
Op = Literal["open", "spend", "refill", "close"]
OWN = "-"  # the approval field of a share paid from a balance of its own


@dataclass(frozen=True)
class ApprovalOp:
    """A change to one approval's counter (``winc`` signed)."""

    payer: str
    approved: str
    approval_id: str
    op: Op
    winc: int = 0
    created_ms: int = 0
    expires_ms: int = 0  # 0: never expires

    @property
    def member(self) -> str:
        """How the expiry and ending indexes name the approval."""
        return approval_member(self.payer, self.approved, self.approval_id)


@dataclass(frozen=True)
class ViewChange:
    """Apply ``deltas`` (address, signed winc) and ``approvals`` if ``marker`` allows
    ``kind``."""

    kind: Kind
    marker: str
    deltas: tuple[tuple[str, int], ...]
    approvals: tuple[ApprovalOp, ...] = ()


def approval_member(payer: str, approved: str, approval_id: str) -> str:
    return f"{payer} {approved} {approval_id}"


def parse_member(member: str) -> tuple[str, str, str]:
    payer, approved, approval_id = member.split(" ")
    return payer, approved, approval_id


def _own(payments: tuple[ev.Payment, ...], sign: int) -> tuple[tuple[str, int], ...]:
    return tuple((p.payer_address, sign * int(p.winc)) for p in payments if p.approval_id is None)


def _shares(event: ev.UploadCharged | ev.UploadRefunded, op: Op) -> tuple[ApprovalOp, ...]:
    sign = -1 if op == "spend" else 1
    return tuple(
        ApprovalOp(p.payer_address, event.address, p.approval_id, op, sign * int(p.winc))
        for p in event.payments
        if p.approval_id is not None
    )


def _ms(at: datetime | None) -> int:
    return 0 if at is None else int(at.timestamp() * 1000)


NO_CHANGE = ViewChange("skip", "skip", ())


def view_change(event: object) -> ViewChange:
    """The change ``event`` makes to spendable balances (``NO_CHANGE``: none)."""
    match event:
        case ev.BalanceCredited():
            credit = ((event.address, int(event.winc)),)
            return ViewChange("once", f"credit:{event.credit_id}", credit)
        case ev.UploadCharged():
            own, spends = _own(event.payments, -1), _shares(event, "spend")
            return ViewChange("charge", item_marker(event.data_item_id), own, spends)
        case ev.UploadRefunded():
            own, refills = _own(event.payments, 1), _shares(event, "refill")
            return ViewChange("refund", item_marker(event.data_item_id), own, refills)
        case ev.ApprovalCreated():
            debit = ((event.address, -int(event.winc)),)
            times = _ms(event.created_at), _ms(event.expires_at)
            opened = ApprovalOp(
                event.address, event.approved_address, event.approval_id, "open",
                int(event.winc), *times,
            )  # fmt: skip
            return ViewChange("create", approval_marker(event.approval_id), debit, (opened,))
        case ev.ApprovalRevoked() | ev.ApprovalExpired():
            back = ((event.paying_address, int(event.returned_winc)),)
            closed = ApprovalOp(event.paying_address, event.address, event.approval_id, "close")
            return ViewChange("once", end_marker(event.approval_id), back, (closed,))
    return NO_CHANGE


def item_marker(data_item_id: str) -> str:
    """The marker a reservation, a charge and a refund of one item share."""
    return f"item:{data_item_id}"


def approval_marker(approval_id: str) -> str:
    """The marker an approval's reservation and its ApprovalCreated share."""
    return f"approval:{approval_id}"


def end_marker(approval_id: str) -> str:
    return f"approval-end:{approval_id}"


def split_text(payments: Sequence[ev.Payment]) -> str:
    """How the view records who pays what: ``payer approval winc`` lines."""
    return "\n".join(f"{p.payer_address} {p.approval_id or OWN} {p.winc}" for p in payments)


def parse_split(text: str) -> tuple[ev.Payment, ...]:
    """The payments ``split_text`` (or the reservation script) wrote."""
    shares = (line.split(" ") for line in text.split("\n") if line)
    return tuple(
        ev.Payment(payer_address=payer, winc=winc, approval_id=None if a == OWN else a)
        for payer, a, winc in shares
    )
