"""Crypto top-ups: whether a transfer to our wallet is credited, pending or refused.

Upstream's rules (PAYMENTS.md §3, "Credits"): the transfer must move a positive quantity
to our address for the token, from a sender not excluded; on an EVM chain it must also
be a plain value transfer (no contract call) that did not revert; **the sender gets the
credits**; it is credited once it has the token's confirmations, else it stays pending
and is looked at again until it is, or until it has been unknown to the chain too long.
The credit's id is the token and the transaction id, so however often (or however
concurrently) one transaction is submitted or confirmed, the fold, the spendable view
and the journal apply its BalanceCredited once (``core.ledger.evolve``).
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from bundlestream.core.ledger import Refusal
from bundlestream.schemas import ledger_events as ev


@dataclass(frozen=True)
class Transfer:
    """A token transfer as the chain's node reports it; ``block_height`` None: not mined.

    ``succeeded`` False: the chain executed it and it failed (an EVM receipt's status 0);
    ``plain`` False: it calls code rather than only moving the quantity (EVM call data).
    """

    token: str
    transaction_id: str
    sender: str
    recipient: str
    quantity: int
    block_height: int | None = None
    confirmations: int = 0
    succeeded: bool = True
    plain: bool = True


def credit_id(token: str, transaction_id: str) -> str:
    """The natural id of a top-up's credit: one credit per transaction per token."""
    return f"top-up:{token}:{transaction_id}"


def refusal_of(
    transfer: Transfer, our_address: str, excluded: Collection[str] = ()
) -> Refusal | None:
    """Why ``transfer`` can never be credited, or None when it can."""
    if not transfer.succeeded:
        return Refusal("reverted", "Transaction failed on chain (reverted)")
    if not transfer.plain:
        return Refusal("not-a-transfer", "Transaction is a contract call, not a plain transfer")
    if transfer.recipient != our_address:
        return Refusal("wrong-recipient", f"Transaction recipient is not {our_address}")
    if transfer.quantity <= 0:
        return Refusal("no-quantity", "Transaction quantity must be greater than 0")
    if transfer.sender in excluded:
        return Refusal("excluded-sender", f"Sender {transfer.sender} may not fund accounts")
    return None


def is_confirmed(transfer: Transfer, required_confirmations: int) -> bool:
    return transfer.block_height is not None and transfer.confirmations >= required_confirmations


def submitted(transfer: Transfer, winc: int, now: datetime) -> ev.TopUpSubmitted:
    return ev.TopUpSubmitted(
        address=transfer.sender,
        token=transfer.token,
        transaction_id=transfer.transaction_id,
        quantity=str(transfer.quantity),
        winc=str(winc),
        submitted_at=now,
    )


def confirmation(
    pending: ev.TopUpSubmitted, block_height: int, now: datetime
) -> list[ev.LedgerEvent]:
    """TopUpConfirmed and the sender's BalanceCredited of the winc quoted at submission."""
    confirmed = ev.TopUpConfirmed(
        address=pending.address,
        token=pending.token,
        transaction_id=pending.transaction_id,
        winc=pending.winc,
        block_height=block_height,
        confirmed_at=now,
    )
    credit = ev.BalanceCredited(
        address=pending.address,
        credit_id=credit_id(pending.token, pending.transaction_id),
        winc=pending.winc,
        source="top_up",
        reason=f"{pending.token} transaction {pending.transaction_id}",
        credited_at=now,
    )
    return [confirmed, credit]


def failure(pending: ev.TopUpSubmitted, reason: str, now: datetime) -> ev.TopUpFailed:
    return ev.TopUpFailed(
        address=pending.address,
        token=pending.token,
        transaction_id=pending.transaction_id,
        reason=reason,
        failed_at=now,
    )


def decide_submission(
    transfer: Transfer,
    winc: int,
    our_address: str,
    required_confirmations: int,
    now: datetime,
    excluded: Collection[str] = (),
) -> list[ev.LedgerEvent] | Refusal:
    """A submitted transaction: TopUpSubmitted, then (already confirmed) its credit; a
    transfer that can never be credited is a Refusal (nothing is written)."""
    refused = refusal_of(transfer, our_address, excluded)
    if refused is not None:
        return refused
    if winc < 1:
        return Refusal("below-one-winc", "Transaction is worth less than 1 winc")
    pending = submitted(transfer, winc, now)
    if transfer.block_height is not None and is_confirmed(transfer, required_confirmations):
        return [pending, *confirmation(pending, transfer.block_height, now)]
    return [pending]


def decide_follow(
    pending: ev.TopUpSubmitted,
    transfer: Transfer | None,
    required_confirmations: int,
    not_found_after: timedelta,
    now: datetime,
) -> list[ev.LedgerEvent]:
    """A pending top-up looked at again: credited once confirmed; failed when the chain
    has not known it for ``not_found_after`` since its submission, or once it executed
    and reverted; else nothing yet."""
    if transfer is None:
        if now - pending.submitted_at >= not_found_after:
            return [failure(pending, "not_found", now)]
        return []
    if not transfer.succeeded:
        return [failure(pending, "reverted", now)]
    if transfer.block_height is not None and is_confirmed(transfer, required_confirmations):
        return confirmation(pending, transfer.block_height, now)
    return []
