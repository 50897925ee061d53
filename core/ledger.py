"""The ledger: balances as a fold of the ledger events, and the decisions that move money.

``evolve`` applies one event to a ``Ledger`` and returns a new one; ``fold`` applies a
log. Every event with a natural id (a credit id, a data item's charge or refund, an
approval) is applied once, so an at-least-once log folds to the same balances as an
exactly-once one. The ``decide_*`` functions read a ledger and return the events to
write, or a ``Refusal``; they never lower a balance below zero. Times are passed in.

Semantics are upstream's (PAYMENTS.md §3-4): an approval's amount leaves the payer's
balance when it is created; an upload spends the approvals of the ``x-paid-by`` payers
in the order given, then the signer's balance; a refund puts each share back where it
came from, or on the payer's balance when that approval has ended since.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from bundlestream.schemas import ledger_events as ev


@dataclass(frozen=True)
class Approval:
    """An approval's state; ``ended`` is ``revoked`` or ``expired`` once it has ended."""

    approval_id: str
    paying_address: str
    approved_address: str
    approved: int
    used: int = 0
    expires_at: datetime | None = None
    ended: str | None = None

    @property
    def remaining(self) -> int:
        """What the approved address may still spend (0 once ended)."""
        return 0 if self.ended else self.approved - self.used

    @property
    def status(self) -> str:
        """Upstream's labels: active, or inactive as used / revoked / expired."""
        return self.ended or ("used" if self.remaining == 0 else "active")


@dataclass(frozen=True)
class Ledger:
    """Every account's balance and every approval, plus the ids already applied."""

    balances: Mapping[str, int] = field(default_factory=dict)
    approvals: Mapping[str, Approval] = field(default_factory=dict)
    charges: Mapping[str, ev.UploadCharged] = field(default_factory=dict)
    refunded: frozenset[str] = frozenset()
    credits: frozenset[str] = frozenset()

    def balance(self, address: str) -> int:
        return self.balances.get(address, 0)


@dataclass(frozen=True)
class JournalEntry:
    """One change of one balance: what a statement line shows."""

    address: str
    winc: int  # signed
    reason: str
    cause: str  # the event name
    cause_id: str  # the event's natural id


@dataclass(frozen=True)
class Refusal:
    """A decision that produces no event: ``rule`` names what refused it."""

    rule: str
    message: str


INSUFFICIENT = Refusal("insufficient-balance", "Insufficient balance")


def _with(balances: Mapping[str, int], changes: Iterable[tuple[str, int]]) -> dict[str, int]:
    out = dict(balances)
    for address, delta in changes:
        out[address] = out.get(address, 0) + delta
    return out


def journal(event: ev.LedgerEvent) -> list[JournalEntry]:
    """The balance changes an event makes (top-up progress and ApprovalUsed make none)."""
    name = type(event).__name__
    match event:
        case ev.BalanceCredited():
            return [
                JournalEntry(event.address, int(event.winc), event.source, name, event.credit_id)
            ]
        case ev.UploadCharged() | ev.UploadRefunded():
            sign, reason = (-1, "upload") if name == "UploadCharged" else (1, "refunded_upload")
            return [
                JournalEntry(p.payer_address, sign * int(p.winc), reason, name, event.data_item_id)
                for p in event.payments
                if p.approval_id is None
            ]
        case ev.ApprovalCreated():
            reason = "delegated_payment_approval"
            return [JournalEntry(event.address, -int(event.winc), reason, name, event.approval_id)]
        case ev.ApprovalRevoked() | ev.ApprovalExpired():
            reason = "delegated_payment_" + ("revoke" if name == "ApprovalRevoked" else "expired")
            entry = JournalEntry(
                event.paying_address, int(event.returned_winc), reason, name, event.approval_id
            )
            return [entry]
    return []


def _is_repeat(ledger: Ledger, event: ev.LedgerEvent) -> bool:
    match event:
        case ev.BalanceCredited():
            return event.credit_id in ledger.credits
        case ev.UploadCharged():
            return event.data_item_id in ledger.charges
        case ev.UploadRefunded():
            return event.data_item_id in ledger.refunded or event.data_item_id not in ledger.charges
        case ev.ApprovalCreated():
            created = ledger.approvals.get(event.approval_id)
            return created is not None and created.approved > 0
        case ev.ApprovalRevoked() | ev.ApprovalExpired():
            approval = ledger.approvals.get(event.approval_id)
            return approval is not None and approval.ended is not None
    return False


def _unseen(approval_id: str, payer: str, approved: str) -> Approval:
    """An approval whose creation is not folded yet: its creation is keyed by the payer,
    its spends and end by the approved address, so a log read partition by partition
    may bring them first. ``approved`` 0 until the creation arrives."""
    return Approval(approval_id, payer, approved, 0)


def _spend(
    approvals: Mapping[str, Approval], signer: str, payments: Sequence[ev.Payment], sign: int
) -> dict[str, Approval]:
    out = dict(approvals)
    for p in payments:
        if p.approval_id is not None:
            a = out.get(p.approval_id) or _unseen(p.approval_id, p.payer_address, signer)
            out[p.approval_id] = replace(a, used=a.used + sign * int(p.winc))
    return out


def evolve(ledger: Ledger, event: ev.LedgerEvent) -> Ledger:
    """The ledger after one event; a repeat of an applied event changes nothing."""
    if _is_repeat(ledger, event):
        return ledger
    balances = _with(ledger.balances, ((e.address, e.winc) for e in journal(event)))
    match event:
        case ev.BalanceCredited():
            return replace(ledger, balances=balances, credits=ledger.credits | {event.credit_id})
        case ev.UploadCharged():
            charges = {**ledger.charges, event.data_item_id: event}
            approvals = _spend(ledger.approvals, event.address, event.payments, 1)
            return replace(ledger, balances=balances, charges=charges, approvals=approvals)
        case ev.UploadRefunded():
            approvals = _spend(ledger.approvals, event.address, event.payments, -1)
            refunded = ledger.refunded | {event.data_item_id}
            return replace(ledger, balances=balances, approvals=approvals, refunded=refunded)
        case ev.ApprovalCreated():
            seen = ledger.approvals.get(event.approval_id)
            approval = Approval(
                event.approval_id,
                event.address,
                event.approved_address,
                int(event.winc),
                used=seen.used if seen else 0,
                expires_at=event.expires_at,
                ended=seen.ended if seen else None,
            )
            approvals = {**ledger.approvals, event.approval_id: approval}
            return replace(ledger, balances=balances, approvals=approvals)
        case ev.ApprovalRevoked() | ev.ApprovalExpired():
            reason = "revoked" if isinstance(event, ev.ApprovalRevoked) else "expired"
            known = ledger.approvals.get(event.approval_id)
            known = known or _unseen(event.approval_id, event.paying_address, event.address)
            ended = replace(known, ended=reason)
            approvals = {**ledger.approvals, event.approval_id: ended}
            return replace(ledger, balances=balances, approvals=approvals)
    return ledger


def fold(events: Iterable[ev.LedgerEvent], start: Ledger | None = None) -> Ledger:
    """The ledger after every event of ``events``, in order."""
    ledger = start or Ledger()
    for event in events:
        ledger = evolve(ledger, event)
    return ledger


def spendable_approvals(ledger: Ledger, payer: str, spender: str, now: datetime) -> list[Approval]:
    """``payer``'s live approvals to ``spender``, oldest first (the log's order)."""
    return [
        a
        for a in ledger.approvals.values()
        if a.paying_address == payer
        and a.approved_address == spender
        and a.remaining > 0
        and (a.expires_at is None or a.expires_at > now)
    ]


def plan_payments(
    ledger: Ledger,
    signer: str,
    price: int,
    paid_by: Sequence[str],
    now: datetime,
    list_only: bool = False,
) -> list[ev.Payment] | Refusal:
    """Who pays ``price`` for ``signer``'s upload (PAYMENTS.md §4, Spend).

    ``paid_by`` in order, deduplicated: the signer's balance where the signer is listed,
    else that payer's approvals to the signer; any remainder falls to the signer unless
    ``list_only`` or the signer was listed. A shortfall is a Refusal.
    """
    payments: list[ev.Payment] = []
    left = price
    for payer in dict.fromkeys(paid_by):
        if left == 0:
            break
        if payer == signer:
            take = min(left, ledger.balance(signer))
            payments += [ev.Payment(payer_address=signer, winc=str(take))] if take else []
            left -= take
            continue
        for a in spendable_approvals(ledger, payer, signer, now):
            take = min(left, a.remaining)
            payments.append(
                ev.Payment(payer_address=payer, winc=str(take), approval_id=a.approval_id)
            )
            left -= take
            if left == 0:
                break
    if left and not list_only and signer not in paid_by:
        take = min(left, ledger.balance(signer))
        payments += [ev.Payment(payer_address=signer, winc=str(take))] if take else []
        left -= take
    return INSUFFICIENT if left else payments


def decide_charge(
    ledger: Ledger,
    signer: str,
    data_item_id: str,
    price: int,
    paid_by: Sequence[str],
    now: datetime,
    list_only: bool = False,
) -> list[ev.LedgerEvent] | Refusal:
    """Charge an upload: UploadCharged, then ApprovalUsed for each approval it used up.

    An item already charged gets no second charge (an empty list).
    """
    if price < 0:
        return Refusal("negative-price", f"price {price} < 0")
    if data_item_id in ledger.charges:
        return []
    payments = plan_payments(ledger, signer, price, paid_by, now, list_only)
    if isinstance(payments, Refusal):
        return payments
    charge = ev.UploadCharged(
        address=signer,
        data_item_id=data_item_id,
        winc=str(price),
        payments=tuple(payments),
        charged_at=now,
    )
    after = evolve(ledger, charge)
    used = [
        ev.ApprovalUsed(
            address=signer,
            approval_id=p.approval_id,
            paying_address=p.payer_address,
            data_item_id=data_item_id,
            used_at=now,
        )
        for p in payments
        if p.approval_id is not None and after.approvals[p.approval_id].remaining == 0
    ]
    return [charge, *used]


def reserved_charge(signer: str, data_item_id: str, price: int, now: datetime) -> ev.UploadCharged:
    """The charge ``decide_charge`` decides for ``signer`` alone on a ledger holding
    exactly ``price`` for them, without building that ledger: the upload path's
    reservation took the winc from the spendable view already, and says who paid."""
    if price < 0:
        raise ValueError(f"price {price} < 0")
    own = (ev.Payment(payer_address=signer, winc=str(price)),) if price else ()
    return ev.UploadCharged(
        address=signer, data_item_id=data_item_id, winc=str(price), payments=own, charged_at=now
    )


def decide_refund(
    ledger: Ledger, data_item_id: str, reason: str, now: datetime
) -> list[ev.LedgerEvent] | Refusal:
    """Refund a charged upload once; shares of ended approvals go to their payers."""
    charge = ledger.charges.get(data_item_id)
    if charge is None:
        return Refusal("not-charged", f"no charge for {data_item_id}")
    if data_item_id in ledger.refunded:
        return []

    def back(p: ev.Payment) -> ev.Payment:
        approval = ledger.approvals.get(p.approval_id or "")
        ended = approval is not None and approval.ended is not None
        return replace(p, approval_id=None) if ended else p

    refund = ev.UploadRefunded(
        address=charge.address,
        data_item_id=data_item_id,
        winc=charge.winc,
        payments=tuple(back(p) for p in charge.payments),
        reason=reason,
        refunded_at=now,
    )
    return [refund]


def decide_credit(
    ledger: Ledger, address: str, winc: int, credit_id: str, source: str, reason: str, now: datetime
) -> list[ev.LedgerEvent] | Refusal:
    """Credit ``winc`` (> 0) once per ``credit_id``."""
    if winc <= 0:
        return Refusal("non-positive-credit", f"a credit must be > 0 winc, not {winc}")
    if credit_id in ledger.credits:
        return []
    credit = ev.BalanceCredited(
        address=address,
        credit_id=credit_id,
        winc=str(winc),
        source=source,
        reason=reason,
        credited_at=now,
    )
    return [credit]
