"""A deterministic ledger log decided by the core: credits, approvals, charges through
approvals and balances, refunds, revokes, expiries and top-ups.

Used by the projection tests (a rebuild equals live; the journal equals the fold) and by
bench/bench_ledger.py. Every event is decided by ``core.ledger`` on the ledger the
previous ones left, so the log is one the service could have written.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from bench.event_story import b64id
from bundlestream.core.approvals import decide_approval, decide_expiries, decide_revoke
from bundlestream.core.ledger import (
    Ledger,
    Refusal,
    decide_charge,
    decide_credit,
    decide_refund,
    fold,
)
from bundlestream.schemas import ledger_events as ev

START = datetime(2026, 12, 1, tzinfo=UTC)


def ledger_story(accounts: int, rounds: int) -> Iterator[ev.LedgerEvent]:
    """``rounds`` rounds over ``accounts`` accounts; each round one step per account."""
    addresses = [b64id("account", n) for n in range(accounts)]
    ledger = Ledger()
    for r in range(rounds):
        for n, address in enumerate(addresses):
            now = START + timedelta(seconds=r * accounts + n)
            decided = _step(
                ledger, r, address, addresses[(n + 1) % accounts], addresses[n - 1], now
            )
            if isinstance(decided, Refusal):
                continue
            ledger = fold(decided, ledger)
            yield from decided


def _step(
    ledger: Ledger, r: int, address: str, other: str, previous: str, now: datetime
) -> list[ev.LedgerEvent] | Refusal:
    """Approvals go to ``previous``; charges are paid by ``other``'s approvals first."""
    item = b64id("item", r, address)
    match r % 6:
        case 0:
            credit_id = f"operator:{b64id('credit', r, address)}"
            return decide_credit(ledger, address, 10**9 + r, credit_id, "operator", "story", now)
        case 1:
            expiry = now + timedelta(seconds=20) if address < previous else None
            return decide_approval(
                ledger, address, b64id("approval", r, address), previous, 10**8, now, expiry
            )
        case 2 | 4:
            return decide_charge(ledger, address, item, 3 * 10**7 + r, (other,), now)
        case 3:
            return decide_refund(ledger, b64id("item", r - 1, address), "bundle failed", now)
        case _:
            expired = decide_expiries(ledger, now)
            revoked = _or_empty(decide_revoke(fold(expired, ledger), address, previous, item, now))
            return [*expired, *revoked, _top_up(address, r, now)]


def _or_empty(decided: list[ev.LedgerEvent] | Refusal) -> list[ev.LedgerEvent]:
    return [] if isinstance(decided, Refusal) else decided


def _top_up(address: str, r: int, now: datetime) -> ev.LedgerEvent:
    return ev.TopUpSubmitted(
        address=address,
        token="arweave",
        transaction_id=b64id("tx", r, address),
        quantity=str(10**12),
        winc=str(766 * 10**9),
        submitted_at=now,
    )
