"""Credit sharing: approvals created, revoked and expired, and the balance a reader sees.

Upstream's semantics (PAYMENTS.md §4): creating an approval moves its amount out of the
payer's balance at once; a revoke or an expiry returns what is left of it to the payer.
Like ``ledger``'s deciders these read a ``Ledger`` and return events or a ``Refusal``.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from bundlestream.core.ledger import INSUFFICIENT, Approval, Ledger, Refusal, fold
from bundlestream.schemas import ledger_events as ev


def decide_approval(
    ledger: Ledger,
    payer: str,
    approval_id: str,
    approved_address: str,
    winc: int,
    now: datetime,
    expires_at: datetime | None = None,
) -> list[ev.LedgerEvent] | Refusal:
    """Set ``winc`` of ``payer``'s balance aside for ``approved_address``."""
    if approval_id in ledger.approvals:
        return Refusal("approval-id-used", f"approval {approval_id} exists")
    if winc <= 0:
        return Refusal("non-positive-approval", f"an approval must be > 0 winc, not {winc}")
    if ledger.balance(payer) < winc:
        return INSUFFICIENT
    created = ev.ApprovalCreated(
        address=payer,
        approval_id=approval_id,
        approved_address=approved_address,
        winc=str(winc),
        created_at=now,
        expires_at=expires_at,
    )
    return [created]


def decide_revoke(
    ledger: Ledger, payer: str, approved_address: str, revoke_item_id: str, now: datetime
) -> list[ev.LedgerEvent] | Refusal:
    """Revoke every live approval of ``payer`` to ``approved_address``."""
    revoked: list[ev.LedgerEvent] = [
        ev.ApprovalRevoked(
            address=approved_address,
            approval_id=a.approval_id,
            paying_address=payer,
            returned_winc=str(a.remaining),
            revoke_data_item_id=revoke_item_id,
            revoked_at=now,
        )
        for a in ledger.approvals.values()
        if a.paying_address == payer
        and a.approved_address == approved_address
        and not a.ended
        and a.approved > 0
    ]
    return revoked or Refusal("no-approval", f"no approval from {payer} to {approved_address}")


def decide_expiries(ledger: Ledger, now: datetime) -> list[ev.LedgerEvent]:
    """ApprovalExpired for each approval not ended whose expiry is at or before ``now``."""
    return [
        ev.ApprovalExpired(
            address=a.approved_address,
            approval_id=a.approval_id,
            paying_address=a.paying_address,
            returned_winc=str(a.remaining),
            expired_at=now,
        )
        for a in ledger.approvals.values()
        if a.ended is None and a.expires_at is not None and a.expires_at <= now
    ]


@dataclass(frozen=True)
class AccountView:
    """What GET /v1/account/balance answers (PAYMENTS.md §3, Balance read)."""

    winc: int
    controlled_winc: int  # winc + remaining of given approvals
    effective_balance: int  # winc + remaining of received approvals
    given: tuple[Approval, ...]
    received: tuple[Approval, ...]


def account_view(ledger: Ledger, address: str, now: datetime) -> AccountView:
    """Balance and live approvals of ``address`` at ``now``: approvals past their expiry
    count as expired (their remainder back with the payer), as upstream's lazy expiry on
    read answers."""
    ledger = fold(decide_expiries(ledger, now), ledger)
    approvals = ledger.approvals.values()
    given = tuple(a for a in approvals if a.paying_address == address and a.remaining > 0)
    received = tuple(a for a in approvals if a.approved_address == address and a.remaining > 0)
    winc = ledger.balance(address)
    return AccountView(
        winc,
        winc + sum(a.remaining for a in given),
        winc + sum(a.remaining for a in received),
        given,
        received,
    )


@dataclass(frozen=True)
class TakenEnd:
    """An approval's end as the spendable view took it: what was left, when, and why."""

    payer: str
    approved: str
    approval_id: str
    kind: str  # "revoked" or "expired"
    revoke_item_id: str  # "-" for an expiry
    at: datetime
    returned_winc: int

    def record(self) -> str:
        """The text the view keeps until the end's event is applied (without the winc,
        which the view's own step appends)."""
        return f"{self.kind} {self.revoke_item_id} {int(self.at.timestamp() * 1000)}"


def taken_end(payer: str, approved: str, approval_id: str, stored: str) -> TakenEnd:
    """Read back what ``TakenEnd.record`` stored, with the winc the view appended."""
    kind, revoke_item_id, at_ms, winc = stored.split(" ")
    at = datetime.fromtimestamp(int(at_ms) / 1000, tz=UTC)
    return TakenEnd(payer, approved, approval_id, kind, revoke_item_id, at, int(winc))


def end_event(end: TakenEnd) -> ev.ApprovalRevoked | ev.ApprovalExpired:
    """The event of a taken end: keyed by the approved address, whose charges of the
    approval it must follow in the log; ``returned_winc`` is exactly what was taken."""
    if end.kind == "revoked":
        return ev.ApprovalRevoked(
            address=end.approved,
            approval_id=end.approval_id,
            paying_address=end.payer,
            returned_winc=str(end.returned_winc),
            revoke_data_item_id=end.revoke_item_id,
            revoked_at=end.at,
        )
    return ev.ApprovalExpired(
        address=end.approved,
        approval_id=end.approval_id,
        paying_address=end.payer,
        returned_winc=str(end.returned_winc),
        expired_at=end.at,
    )
