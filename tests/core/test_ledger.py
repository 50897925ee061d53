"""The ledger decider on exact values, then its laws as properties (hypothesis)."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bundlestream.core.approvals import (
    account_view,
    decide_approval,
    decide_expiries,
    decide_revoke,
)
from bundlestream.core.ledger import (
    INSUFFICIENT,
    Ledger,
    Refusal,
    decide_charge,
    decide_credit,
    decide_refund,
    evolve,
    fold,
    journal,
    reserved_charge,
    spendable_approvals,
)
from bundlestream.schemas import ledger_events as ev

T0 = datetime(2026, 12, 1, tzinfo=UTC)
ALICE, BOB, CAROL = "alice" * 8 + "abc", "bob" * 14 + "b", "carol" * 8 + "cde"


def applied(ledger: Ledger, decided: Sequence[ev.LedgerEvent] | Refusal) -> Ledger:
    assert not isinstance(decided, Refusal), decided
    return fold(decided, ledger)


def credited(**balances: int) -> Ledger:
    ledger = Ledger()
    for address, winc in balances.items():
        ledger = applied(
            ledger, decide_credit(ledger, address, winc, f"c-{address}", "operator", "test", T0)
        )
    return ledger


def test_a_credit_adds_once_per_credit_id() -> None:
    ledger = credited(a=100)
    event = ev.BalanceCredited(
        address="a", credit_id="c-a", winc="100", source="operator", reason="test", credited_at=T0
    )
    assert evolve(ledger, event) is ledger
    assert decide_credit(ledger, "a", 100, "c-a", "operator", "again", T0) == []
    assert decide_credit(ledger, "a", 0, "c-2", "operator", "zero", T0) == Refusal(
        "non-positive-credit", "a credit must be > 0 winc, not 0"
    )


def test_a_charge_spends_the_signers_balance_and_never_more() -> None:
    ledger = credited(a=100)
    decided = decide_charge(ledger, "a", "item1", 60, (), T0)
    assert isinstance(decided, list)
    charge = decided[0]
    assert isinstance(charge, ev.UploadCharged)
    assert charge.payments == (ev.Payment(payer_address="a", winc="60"),)
    after = applied(ledger, decided)
    assert after.balance("a") == 40
    assert decide_charge(after, "a", "item2", 41, (), T0) == INSUFFICIENT
    assert decide_charge(after, "a", "item1", 60, (), T0) == []  # one charge per item


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_a_reserved_charge_is_what_decide_charge_decides_for_the_reserved_winc(
    price: int,
) -> None:
    holding = credited(a=price) if price else Ledger()
    decided = decide_charge(holding, "a", "item1", price, (), T0)
    assert isinstance(decided, list)
    assert reserved_charge("a", "item1", price, T0) == decided[0]


def test_a_zero_price_is_a_charge_with_no_payments() -> None:
    decided = decide_charge(Ledger(), "a", "free", 0, (), T0)
    assert isinstance(decided, list) and isinstance(decided[0], ev.UploadCharged)
    assert decided[0].payments == ()
    assert decide_charge(Ledger(), "a", "x", -1, (), T0) == Refusal(
        "negative-price", "price -1 < 0"
    )


def test_an_approval_leaves_the_payers_balance_at_once_and_is_spent_first() -> None:
    ledger = credited(**{BOB: 1000, ALICE: 100})
    assert decide_approval(ledger, BOB, "ap1", ALICE, 1001, T0) == INSUFFICIENT
    ledger = applied(ledger, decide_approval(ledger, BOB, "ap1", ALICE, 700, T0))
    assert ledger.balance(BOB) == 300
    decided = decide_charge(ledger, ALICE, "item1", 750, (BOB,), T0)
    assert isinstance(decided, list)
    charge, used = decided
    assert isinstance(charge, ev.UploadCharged) and isinstance(used, ev.ApprovalUsed)
    assert charge.payments == (
        ev.Payment(payer_address=BOB, winc="700", approval_id="ap1"),
        ev.Payment(payer_address=ALICE, winc="50"),
    )
    after = applied(ledger, decided)
    assert (after.balance(ALICE), after.balance(BOB)) == (50, 300)
    assert after.approvals["ap1"].status == "used"


def test_paid_by_list_only_refuses_rather_than_fall_back_to_the_signer() -> None:
    ledger = credited(**{BOB: 100, ALICE: 100})
    ledger = applied(ledger, decide_approval(ledger, BOB, "ap1", ALICE, 50, T0))
    assert decide_charge(ledger, ALICE, "i", 60, (BOB,), T0, list_only=True) == INSUFFICIENT
    # The signer listed first: its balance before the approvals.
    decided = decide_charge(ledger, ALICE, "i", 60, (ALICE, BOB), T0)
    assert isinstance(decided, list) and isinstance(decided[0], ev.UploadCharged)
    assert decided[0].payments == (ev.Payment(payer_address=ALICE, winc="60"),)


def test_a_refund_puts_each_share_back_or_on_the_payer_once_the_approval_ended() -> None:
    ledger = credited(**{BOB: 1000, ALICE: 100})
    ledger = applied(ledger, decide_approval(ledger, BOB, "ap1", ALICE, 500, T0))
    ledger = applied(ledger, decide_charge(ledger, ALICE, "item1", 550, (BOB,), T0))
    ledger = applied(ledger, decide_revoke(ledger, BOB, ALICE, "rev1", T0))  # returns 0
    assert ledger.balance(BOB) == 500
    refund = decide_refund(ledger, "item1", "failed", T0)
    assert isinstance(refund, list) and isinstance(refund[0], ev.UploadRefunded)
    assert refund[0].payments == (
        ev.Payment(payer_address=BOB, winc="500"),
        ev.Payment(payer_address=ALICE, winc="50"),
    )
    after = applied(ledger, refund)
    assert (after.balance(ALICE), after.balance(BOB)) == (100, 1000)
    assert decide_refund(after, "item1", "again", T0) == []
    assert decide_refund(after, "nope", "x", T0) == Refusal("not-charged", "no charge for nope")


def test_a_refund_into_a_live_approval_reactivates_it() -> None:
    ledger = credited(**{BOB: 100})
    ledger = applied(ledger, decide_approval(ledger, BOB, "ap1", ALICE, 100, T0))
    ledger = applied(ledger, decide_charge(ledger, ALICE, "i", 100, (BOB,), T0))
    assert ledger.approvals["ap1"].status == "used"
    ledger = applied(ledger, decide_refund(ledger, "i", "failed", T0))
    assert ledger.approvals["ap1"].status == "active"
    assert ledger.approvals["ap1"].remaining == 100


def test_an_expired_approval_returns_its_remainder_and_is_not_spent() -> None:
    ledger = credited(**{BOB: 100, ALICE: 10})
    expiry = T0 + timedelta(seconds=60)
    ledger = applied(ledger, decide_approval(ledger, BOB, "ap1", ALICE, 80, T0, expiry))
    ledger = applied(ledger, decide_charge(ledger, ALICE, "i", 30, (BOB,), T0))
    assert decide_expiries(ledger, expiry - timedelta(milliseconds=1)) == []
    assert decide_charge(ledger, ALICE, "j", 20, (BOB,), expiry, list_only=True) == INSUFFICIENT
    view = account_view(ledger, BOB, expiry)
    assert (view.winc, view.controlled_winc, view.given) == (70, 70, ())
    ledger = fold(decide_expiries(ledger, expiry), ledger)
    assert (ledger.balance(BOB), ledger.approvals["ap1"].status) == (70, "expired")
    assert decide_revoke(ledger, BOB, ALICE, "r", expiry) == Refusal(
        "no-approval", f"no approval from {BOB} to {ALICE}"
    )


def test_the_account_view_counts_given_and_received_approvals() -> None:
    ledger = credited(**{BOB: 100})
    ledger = applied(ledger, decide_approval(ledger, BOB, "ap1", ALICE, 40, T0))
    bob, alice = account_view(ledger, BOB, T0), account_view(ledger, ALICE, T0)
    assert (bob.winc, bob.controlled_winc, bob.effective_balance) == (60, 100, 60)
    assert (alice.winc, alice.controlled_winc, alice.effective_balance) == (0, 0, 40)
    assert decide_approval(ledger, BOB, "ap1", CAROL, 1, T0) == Refusal(
        "approval-id-used", "approval ap1 exists"
    )


# Properties: a random session of operations, each decided against the current ledger.

ADDRESSES = (ALICE, BOB, CAROL)
operation = st.one_of(
    st.tuples(st.just("credit"), st.sampled_from(ADDRESSES), st.integers(1, 10**6)),
    st.tuples(st.just("charge"), st.sampled_from(ADDRESSES), st.integers(0, 10**6)),
    st.tuples(st.just("approve"), st.sampled_from(ADDRESSES), st.integers(1, 10**6)),
    st.tuples(st.just("refund"), st.sampled_from(ADDRESSES), st.integers(0, 30)),
    st.tuples(st.just("revoke"), st.sampled_from(ADDRESSES), st.integers(0, 2)),
    st.tuples(st.just("expire"), st.sampled_from(ADDRESSES), st.integers(0, 600)),
)


def decide(ledger: Ledger, op: tuple[str, str, int], n: int) -> list[ev.LedgerEvent] | Refusal:
    """Operation number ``n`` decided on ``ledger`` (its time: ``n`` seconds after T0)."""
    kind, address, amount = op
    now = T0 + timedelta(seconds=n)
    other = ADDRESSES[(ADDRESSES.index(address) + 1) % 3]
    match kind:
        case "credit":
            return decide_credit(ledger, address, amount, f"c{n}", "operator", "", now)
        case "charge":
            return decide_charge(ledger, address, f"i{n}", amount, (other,), now)
        case "approve":
            expiry = now + timedelta(seconds=amount % 50)
            return decide_approval(ledger, address, f"a{n}", other, amount, now, expiry)
        case "refund":
            return decide_refund(ledger, f"i{amount}", "failed", now)
        case "revoke":
            return decide_revoke(ledger, address, other, f"r{n}", now)
    return decide_expiries(ledger, now)


def session(operations: list[tuple[str, str, int]]) -> list[ev.LedgerEvent]:
    """The events of ``operations``, each decided on the ledger the previous ones left."""
    ledger, log = Ledger(), []
    for n, op in enumerate(operations):
        decided = decide(ledger, op, n)
        if isinstance(decided, list):
            log += decided
            ledger = fold(decided, ledger)
    return log


sessions = st.lists(operation, max_size=40).map(session)


@given(sessions)
def test_the_fold_is_deterministic_and_ignores_redelivery(log: list[ev.LedgerEvent]) -> None:
    once = fold(log)
    assert fold(log) == once
    redelivered = [e for event in log for e in (event, event)]
    assert fold(redelivered).balances == once.balances
    assert fold(redelivered).approvals == once.approvals


@given(sessions)
def test_a_balance_never_goes_negative(log: list[ev.LedgerEvent]) -> None:
    ledger = Ledger()
    for event in log:
        ledger = evolve(ledger, event)
        assert all(winc >= 0 for winc in ledger.balances.values())
        assert all(0 <= a.used <= a.approved for a in ledger.approvals.values())


@given(sessions)
def test_the_journal_sums_to_every_balance(log: list[ev.LedgerEvent]) -> None:
    ledger, sums = Ledger(), defaultdict[str, int](int)
    for event in log:
        after = evolve(ledger, event)
        if after is not ledger:  # a repeat adds no journal line
            for entry in journal(event):
                sums[entry.address] += entry.winc
        ledger = after
    assert {a: w for a, w in sums.items() if w} == {a: w for a, w in ledger.balances.items() if w}


@given(sessions, st.sampled_from(ADDRESSES), st.integers(0, 10**6))
def test_charge_then_refund_restores_every_balance_and_approval(
    log: list[ev.LedgerEvent], signer: str, price: int
) -> None:
    before = fold(log)
    payer = ADDRESSES[(ADDRESSES.index(signer) + 1) % 3]
    now = T0 + timedelta(seconds=len(log))
    charge = decide_charge(before, signer, "probe", price, (payer,), now)
    if isinstance(charge, Refusal):
        assert charge == INSUFFICIENT
        approvals = spendable_approvals(before, payer, signer, now)
        assert before.balance(signer) + sum(a.remaining for a in approvals) < price
        return
    charged = fold(charge, before)
    restored = applied(charged, decide_refund(charged, "probe", "failed", now))
    assert {a: w for a, w in restored.balances.items() if w} == {
        a: w for a, w in before.balances.items() if w
    }
    assert {k: a.remaining for k, a in restored.approvals.items()} == {
        k: a.remaining for k, a in before.approvals.items()
    }


def _nonzero(balances: dict[str, int] | object) -> dict[str, int]:
    assert isinstance(balances, dict)
    return {a: w for a, w in balances.items() if w}


@given(sessions)
def test_a_log_read_partition_by_partition_folds_to_the_same_balances(
    log: list[ev.LedgerEvent],
) -> None:
    """Kafka orders a key's events only: an approval's creation (keyed by the payer) may
    be read after its spends and its end (keyed by the approved address)."""
    by_key = sorted(log, key=lambda e: e.address)  # stable: each key keeps its order
    assert _nonzero(dict(fold(by_key).balances)) == _nonzero(dict(fold(log).balances))


def test_an_end_read_before_its_approvals_creation_still_returns_the_remainder() -> None:
    ledger = credited(**{BOB: 1000})
    [created] = decide_approval(ledger, BOB, "ap1", ALICE, 600, T0)  # type: ignore[misc]
    after = fold([created], ledger)
    [charge, *_] = decide_charge(after, ALICE, "i1", 100, (BOB,), T0)  # type: ignore[misc]
    [end] = decide_revoke(fold([charge], after), BOB, ALICE, "r1", T0)  # type: ignore[misc]
    assert isinstance(end, ev.ApprovalRevoked) and end.returned_winc == "500"
    late = fold([charge, end, created], ledger)
    assert late.balance(BOB) == fold([created, charge, end], ledger).balance(BOB) == 900
    assert late.approvals["ap1"].ended == "revoked"
