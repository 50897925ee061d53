"""Read model of the ledger: the journal of balance changes, top-ups and approvals.

Each balance change is a journal row keyed by (event, natural id, account), so a
redelivered event adds nothing and the ``ledger_balances`` view (the sum per account)
equals ``core.ledger.fold``'s balances. The journal's lines are exactly
``core.ledger.journal``'s (a test checks the two on the same log); here they are built
from the Avro record, without event classes, like every evolve function.

The rows rely on what the deciders guarantee: no event in the log is one the fold would
ignore (a second end of one approval, a refund of an item never charged), because the
decisions that could produce one run one at a time in the partition of their key.
A redelivered copy of an event is harmless: its rows have the same keys.
"""

from typing import Any

from bundlestream.projections.records import EventRecord
from bundlestream.projections.rows import Evolve, Position, Row
from bundlestream.projections.tables import (
    APPROVAL_ENDS,
    APPROVAL_SPENDS,
    APPROVALS_CREATED,
    LEDGER_JOURNAL,
    TOP_UPS_CONFIRMED,
    TOP_UPS_FAILED,
    TOP_UPS_SUBMITTED,
)


def _line(
    event: EventRecord, at: Position, cause_id: str, address: str, winc: str, reason: str, when: int
) -> Row:
    row = (event.name, cause_id, address, winc, reason, at.topic, at.partition, at.offset, when)
    return (LEDGER_JOURNAL, row)


def _negative(winc: str) -> str:
    return winc if winc == "0" else f"-{winc}"


def credited(event: EventRecord, at: Position) -> list[Row]:
    f = event.fields
    return [
        _line(event, at, f["credit_id"], f["address"], f["winc"], f["source"], f["credited_at"])
    ]


def _payments(event: EventRecord, at: Position, sign: str, reason: str, when: int) -> list[Row]:
    f = event.fields
    kind = "charge" if sign == "-" else "refund"
    rows: list[Row] = []
    for p in f["payments"]:
        if p["approval_id"] is None:
            winc = _negative(p["winc"]) if sign == "-" else p["winc"]
            rows.append(_line(event, at, f["data_item_id"], p["payer_address"], winc, reason, when))
        else:
            spend = (p["approval_id"], f["data_item_id"], kind, p["winc"], when)
            rows.append((APPROVAL_SPENDS, spend))
    return rows


def charged(event: EventRecord, at: Position) -> list[Row]:
    return _payments(event, at, "-", "upload", event.fields["charged_at"])


def refunded(event: EventRecord, at: Position) -> list[Row]:
    return _payments(event, at, "+", "refunded_upload", event.fields["refunded_at"])


def approval_created(event: EventRecord, at: Position) -> list[Row]:
    f = event.fields
    approval = (
        f["approval_id"],
        f["address"],
        f["approved_address"],
        f["winc"],
        f["expires_at"],
        f["created_at"],
    )
    debit = _line(
        event,
        at,
        f["approval_id"],
        f["address"],
        _negative(f["winc"]),
        "delegated_payment_approval",
        f["created_at"],
    )
    return [(APPROVALS_CREATED, approval), debit]


def _ended(reason: str, time_field: str) -> Evolve:
    def evolve(event: EventRecord, at: Position) -> list[Row]:
        f = event.fields
        when = f[time_field]
        end = (f["approval_id"], reason, f["returned_winc"], when)
        back = _line(
            event,
            at,
            f["approval_id"],
            f["paying_address"],
            f["returned_winc"],
            f"delegated_payment_{'revoke' if reason == 'revoked' else 'expired'}",
            when,
        )
        return [(APPROVAL_ENDS, end), back]

    return evolve


def top_up_submitted(event: EventRecord, at: Position) -> list[Row]:
    f = event.fields
    row: tuple[Any, ...] = (
        f["token"],
        f["transaction_id"],
        f["address"],
        f["quantity"],
        f["winc"],
        f["submitted_at"],
    )
    return [(TOP_UPS_SUBMITTED, row)]


def top_up_confirmed(event: EventRecord, at: Position) -> list[Row]:
    f = event.fields
    row = (f["token"], f["transaction_id"], f["winc"], f["block_height"], f["confirmed_at"])
    return [(TOP_UPS_CONFIRMED, row)]


def top_up_failed(event: EventRecord, at: Position) -> list[Row]:
    f = event.fields
    return [(TOP_UPS_FAILED, (f["token"], f["transaction_id"], f["reason"], f["failed_at"]))]


def _nothing(event: EventRecord, at: Position) -> list[Row]:
    """ApprovalUsed: the approvals view derives 'used' from the amounts."""
    return []


EVOLVERS: dict[str, Evolve] = {
    "BalanceCredited": credited,
    "UploadCharged": charged,
    "UploadRefunded": refunded,
    "ApprovalCreated": approval_created,
    "ApprovalRevoked": _ended("revoked", "revoked_at"),
    "ApprovalExpired": _ended("expired", "expired_at"),
    "ApprovalUsed": _nothing,
    "TopUpSubmitted": top_up_submitted,
    "TopUpConfirmed": top_up_confirmed,
    "TopUpFailed": top_up_failed,
}
