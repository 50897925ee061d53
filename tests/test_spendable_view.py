"""The spendable view's scripts on a real Redis: a log applied in its order and read
partition by partition (an approval's creation after its spends and end) leaves the same
balances; a reservation across approvals takes all of a price or nothing."""

import uuid
from collections.abc import AsyncIterator, Sequence

import pytest
from redis.asyncio import Redis

from bundlestream.adapters.fresh_receipts import FreshReceipts
from bundlestream.adapters.spendable_view import Reservation, SpendableView
from bundlestream.core.spendable import item_marker, view_change
from bundlestream.schemas import ledger_events as ev
from tests.core.test_ledger import ALICE, BOB, T0


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def fresh_view(redis: Redis) -> SpendableView:
    view = SpendableView(redis, f"t-{uuid.uuid4().hex[:10]}-")
    await view.start_building()
    await view.mark_ready()
    return view


def pay(payer: str, winc: int, approval: str | None = None) -> ev.Payment:
    return ev.Payment(payer_address=payer, winc=str(winc), approval_id=approval)


def credit(address: str, credit_id: str, winc: int) -> ev.BalanceCredited:
    return ev.BalanceCredited(
        address=address,
        credit_id=credit_id,
        winc=str(winc),
        source="operator",
        reason="",
        credited_at=T0,
    )


def charge(item: str, *payments: ev.Payment) -> ev.UploadCharged:
    winc = str(sum(int(p.winc) for p in payments))
    return ev.UploadCharged(
        address=ALICE, data_item_id=item, winc=winc, payments=payments, charged_at=T0
    )


def story() -> list[ev.LedgerEvent]:
    """Bob shares 600 with Alice, who spends 100 of it and 50 of her own, has 30 of it
    refunded, then Bob revokes (500 back)."""
    refunded = charge("i2", pay(BOB, 30, "ap1"))
    return [
        credit(BOB, "c1", 1000),
        credit(ALICE, "c2", 50),
        ev.ApprovalCreated(
            address=BOB, approval_id="ap1", approved_address=ALICE, winc="600", created_at=T0
        ),
        charge("i1", pay(BOB, 100, "ap1"), pay(ALICE, 50)),
        refunded,
        ev.UploadRefunded(
            address=ALICE,
            data_item_id="i2",
            winc="30",
            payments=refunded.payments,
            reason="failed",
            refunded_at=T0,
        ),
        ev.ApprovalRevoked(
            address=ALICE,
            approval_id="ap1",
            paying_address=BOB,
            returned_winc="500",
            revoke_data_item_id="r1",
            revoked_at=T0,
        ),
    ]


async def apply_in(view: SpendableView, events: Sequence[ev.LedgerEvent]) -> None:
    changes = [(n, view_change(e)) for n, e in enumerate(events)]
    assert await view.apply(0, changes) == "applied"


async def test_the_views_changes_commute_across_partitions(redis: Redis) -> None:
    in_order, by_key = await fresh_view(redis), await fresh_view(redis)
    events = story()
    await apply_in(in_order, events)
    await apply_in(by_key, sorted(events, key=lambda e: e.address))  # ALICE's first
    for view in (in_order, by_key):
        assert (await view.balance(BOB), await view.balance(ALICE)) == (900, 0)
        assert await view.approval_left(BOB, ALICE, "ap1") is None  # ended: no counter


async def test_a_reservation_walks_the_approval_then_the_signer_or_takes_nothing(
    redis: Redis,
) -> None:
    view = await fresh_view(redis)
    await apply_in(view, story()[:3])  # Bob 400 + an approval of 600 to Alice; Alice 50

    def hold(item: str, winc: int) -> Reservation:
        return Reservation(ALICE, item_marker(item), item, winc, "0", b"", 0, (BOB,))

    assert await view.reserve(hold("x", 651)) == ("insufficient", ())
    assert await view.approval_left(BOB, ALICE, "ap1") == 600
    assert await view.balance(ALICE) == 50
    assert await view.reserve(hold("y", 620)) == (
        "reserved",
        (pay(BOB, 600, "ap1"), pay(ALICE, 20)),
    )
    assert (await view.approval_left(BOB, ALICE, "ap1"), await view.balance(ALICE)) == (0, 30)
    assert await view.balance(BOB) == 400


async def test_only_the_claimer_of_an_owed_charge_writes_its_fresh_receipt(redis: Redis) -> None:
    """A paid upload claims its charge and remembers its receipt in one step: the settler
    claiming first leaves no receipt (no "already uploaded" for a refunded charge)."""
    view = await fresh_view(redis)
    fresh = FreshReceipts(redis, f"t-{uuid.uuid4().hex[:10]}-", receipt_ttl_s=300)
    kept, refunded = "k" * 43, "r" * 43
    for item in (kept, refunded):
        await view.owe(item, b"record")
    assert await view.claim(refunded)  # the settler's claim: nothing written
    record = {"id": kept, "status": "CONFIRMED"}
    assert await view.claim(kept, fresh.write_of(kept, record))
    assert not await view.claim(refunded, fresh.write_of(refunded, record))
    assert not await view.claim(kept, fresh.write_of(kept, {"id": "again"}))
    assert await fresh.get(kept) == record
    assert not await fresh.has_receipt(refunded)
    assert await view.unsettled() == {}


async def test_a_reservation_of_a_receipted_item_takes_nothing_and_says_so(
    redis: Redis,
) -> None:
    """The reservation checks the item's fresh receipt first, in the same step: an item
    receipted already is not charged again, even while the view is being rebuilt."""
    prefix = f"t-{uuid.uuid4().hex[:10]}-"
    view = SpendableView(redis, prefix)
    await view.start_building()
    await view.mark_ready()
    await apply_in(view, [credit(ALICE, "c1", 100)])
    fresh = FreshReceipts(redis, prefix, receipt_ttl_s=300)
    done, new = "d" * 43, "n" * 43

    def hold(item: str) -> Reservation:
        key = fresh.receipt_key(item)
        return Reservation(ALICE, item_marker(item), item, 60, "0", b"", 0, receipt_key=key)

    await fresh.remember(done, {"id": done})
    assert await view.reserve(hold(done)) == ("receipted", ())
    assert await view.balance(ALICE) == 100
    assert await view.unsettled() == {}
    assert await view.reserve(hold(new)) == ("reserved", (pay(ALICE, 60),))
    assert await view.balance(ALICE) == 40
    await redis.delete(f"{prefix}ledger:ready")  # a view being rebuilt knows a receipt
    assert await view.reserve(hold(done)) == ("receipted", ())
