"""The top-up decider on real values: credited, pending, refused, followed until confirmed."""

from datetime import UTC, datetime, timedelta

from bundlestream.core.ledger import Refusal, fold
from bundlestream.core.top_ups import Transfer, credit_id, decide_follow, decide_submission
from bundlestream.schemas import ledger_events as ev

OURS, SENDER = "our-wallet", "sender"
T0 = datetime(2026, 12, 3, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def transfer(block_height: int | None = None, confirmations: int = 0, **kw: object) -> Transfer:
    fields: dict[str, object] = {
        "token": "arweave",
        "transaction_id": "tx-1",
        "sender": SENDER,
        "recipient": OURS,
        "quantity": 10**12,
        "block_height": block_height,
        "confirmations": confirmations,
        **kw,
    }
    return Transfer(**fields)  # type: ignore[arg-type]


def submit(t: Transfer, winc: int = 766_000_000_000) -> list[ev.LedgerEvent] | Refusal:
    return decide_submission(t, winc, OURS, 18, T0, excluded={"banned"})


def test_a_confirmed_transfer_is_credited_to_its_sender_at_once() -> None:
    decided = submit(transfer(block_height=100, confirmations=18))
    assert isinstance(decided, list)
    assert [type(e).__name__ for e in decided] == [
        "TopUpSubmitted",
        "TopUpConfirmed",
        "BalanceCredited",
    ]
    credit = decided[2]
    assert isinstance(credit, ev.BalanceCredited)
    assert (credit.address, credit.winc, credit.source) == (SENDER, "766000000000", "top_up")
    assert credit.credit_id == credit_id("arweave", "tx-1")
    assert fold(decided).balance(SENDER) == 766_000_000_000


def test_one_transaction_submitted_many_times_is_credited_once() -> None:
    confirmed = transfer(block_height=100, confirmations=30)
    log = [e for _ in range(20) for e in submit(confirmed)]  # type: ignore[union-attr]
    assert fold(log).balance(SENDER) == 766_000_000_000


def test_an_unmined_or_shallow_transfer_is_pending() -> None:
    for t in (transfer(), transfer(block_height=100, confirmations=17)):
        decided = submit(t)
        assert isinstance(decided, list)
        assert [type(e).__name__ for e in decided] == ["TopUpSubmitted"]
        assert fold(decided).balance(SENDER) == 0


def test_transfers_that_can_never_be_credited_are_refused_by_rule() -> None:
    cases = {
        "wrong-recipient": transfer(recipient="someone-else"),
        "no-quantity": transfer(quantity=0),
        "excluded-sender": transfer(sender="banned"),
        # An EVM transfer that reverted, or a contract call (both say so before the
        # recipient: an ERC-20 call names the token contract as its recipient).
        "reverted": transfer(block_height=100, confirmations=30, succeeded=False, quantity=0),
        "not-a-transfer": transfer(plain=False, recipient="token-contract", quantity=0),
    }
    for rule, t in cases.items():
        refused = submit(t)
        assert isinstance(refused, Refusal) and refused.rule == rule
    worthless = submit(transfer(), winc=0)
    assert isinstance(worthless, Refusal) and worthless.rule == "below-one-winc"


def test_a_pending_top_up_is_credited_when_its_confirmations_arrive() -> None:
    [pending] = submit(transfer())  # type: ignore[misc]
    assert isinstance(pending, ev.TopUpSubmitted)
    later = T0 + timedelta(minutes=30)
    shallow, deep = (transfer(block_height=100, confirmations=n) for n in (17, 18))
    assert decide_follow(pending, shallow, 18, DAY, later) == []
    decided = decide_follow(pending, deep, 18, DAY, later)
    assert [type(e).__name__ for e in decided] == ["TopUpConfirmed", "BalanceCredited"]
    assert fold([pending, *decided]).balance(SENDER) == int(pending.winc)


def test_a_top_up_the_chain_never_knew_fails_after_the_window() -> None:
    [pending] = submit(transfer())  # type: ignore[misc]
    assert isinstance(pending, ev.TopUpSubmitted)
    assert decide_follow(pending, None, 18, DAY, T0 + DAY - timedelta(seconds=1)) == []
    [failed] = decide_follow(pending, None, 18, DAY, T0 + DAY)
    assert isinstance(failed, ev.TopUpFailed) and failed.reason == "not_found"


def test_a_pending_top_up_that_reverted_fails() -> None:
    [pending] = submit(transfer())  # type: ignore[misc]
    assert isinstance(pending, ev.TopUpSubmitted)
    reverted = transfer(block_height=100, confirmations=30, succeeded=False)
    [failed] = decide_follow(pending, reverted, 18, DAY, T0)
    assert isinstance(failed, ev.TopUpFailed) and failed.reason == "reverted"
    assert fold([pending, failed]).balance(SENDER) == 0
