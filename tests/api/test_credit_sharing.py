"""Credit sharing on the real stack: approvals created, spent through ``x-paid-by``,
revoked and expired, never overspent by concurrent uploads through two API processes.

Payers are credited with the real ``bundlestream ledger credit``; every balance is then
read three ways — the fold of the ledger topic, the projection, the Redis view the
upload path reserves from — and must equal the sum of its journal entries. Blocking
steps (the credit command, reading the log) run off the event loop or after the API
stops: an API served in this process sheds uploads (503) while its loop is blocked.
"""

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_process import ApiProcess, uvicorn_command
from redis.asyncio import Redis
from test_paid_uploads import (  # noqa: F401  # paid: a fixture
    OCTET,
    PAID_SIZE,
    Wallet,
    assert_charges_match_receipts,
    credit,
    ledger_log,
    paid,
    price_of,
    projected,
    projected_balance,
    view_balance,
    wait_view_balance,
)
from upload_harness import free_port, serve

from bundlestream.adapters.spendable_view import SpendableView
from bundlestream.core.ans104 import Tag
from bundlestream.core.ans104.signing import sign_data_item
from bundlestream.core.ledger import fold, journal
from bundlestream.core.receipts import Receipt
from bundlestream.schemas import ledger_events as ev
from bundlestream.settings import Settings

pytestmark = pytest.mark.stack


def tagged(wallet: Wallet, tags: dict[str, str], size: int = 64) -> bytes:
    """A small (free) item of ``wallet`` carrying credit-sharing tags."""
    payload = wallet.item(size)[-size:]
    return sign_data_item(
        wallet.signer, payload, tags=[Tag(k.encode(), v.encode()) for k, v in tags.items()]
    )


def share_tags(approved: Wallet, winc: int, expires_s: int | None = None) -> dict[str, str]:
    tags = {"x-approve-payment": approved.address, "x-amount": str(winc)}
    return tags | ({"x-expires-seconds": str(expires_s)} if expires_s else {})


async def post(url: str, item: bytes, paid_by: Sequence[Wallet] = ()) -> httpx.Response:
    headers = OCTET | ({"x-paid-by": ",".join(w.address for w in paid_by)} if paid_by else {})
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.post(f"{url}/tx", content=item, headers=headers)


async def approval_left(settings: Settings, payer: Wallet, approved: Wallet, id_: str) -> int:
    redis = Redis.from_url(settings.redis.url.get_secret_value())
    try:
        view = SpendableView(redis, settings.kafka.topic_prefix)
        return await view.approval_left(payer.address, approved.address, id_) or 0
    finally:
        await redis.aclose()


async def assert_balances_are_their_events(settings: Settings, wallets: Sequence[Wallet]) -> None:
    """Fold, projection and view agree on each balance, and each is its journal's sum."""
    log = ledger_log(settings)
    ledger = fold(log)
    for n, w in enumerate(wallets):
        summed = sum(e.winc for event in log for e in journal(event) if e.address == w.address)
        assert ledger.balance(w.address) == summed
        await wait_view_balance(settings, w.address, summed)
        read = projected_balance if n == 0 else projected  # projects the log once
        assert read(settings, w.address) == summed


async def test_an_approval_is_spent_by_x_paid_by_and_revoked(
    paid: Settings,  # noqa: F811
) -> None:
    """The payer shares 3 prices; the unfunded approved address uploads through
    ``x-paid-by`` (charged to the approval, not to itself), is refused without it, and
    after the revoke the payer has back exactly what was left."""
    payer, spender = Wallet(), Wallet()
    async with serve(paid) as api:
        price = await price_of(api.url, len(spender.item(PAID_SIZE)))
        await asyncio.to_thread(credit, paid, payer.address, 10 * price)
        await wait_view_balance(paid, payer.address, 10 * price)
        created = await post(api.url, tagged(payer, share_tags(spender, 3 * price)))
        assert created.status_code == 200, created.text
        approval = created.json()["createdApproval"]
        assert approval["approvedWincAmount"] == str(3 * price)
        assert (approval["payingAddress"], approval["approvedAddress"]) == (
            payer.address,
            spender.address,
        )
        assert await view_balance(paid, payer.address) == 7 * price  # left at once
        spent = await post(api.url, spender.item(PAID_SIZE), [payer])
        assert spent.status_code == 200, spent.text
        assert spent.json()["winc"] == str(price)
        own = await post(api.url, spender.item(PAID_SIZE))
        assert own.status_code == 402, own.text
        assert own.json()["error"] == "Insufficient balance"
        id_ = approval["approvalDataItemId"]
        assert await approval_left(paid, payer, spender, id_) == 2 * price
        revoked = await post(api.url, tagged(payer, {"x-delete-payment-approval": spender.address}))
        assert revoked.status_code == 200, revoked.text
        [gone] = revoked.json()["revokedApprovals"]
        assert (gone["approvalDataItemId"], gone["usedWincAmount"]) == (id_, str(price))
        after = await post(api.url, spender.item(PAID_SIZE), [payer])
        assert after.status_code == 402
        await wait_view_balance(paid, payer.address, 9 * price)
    log = ledger_log(paid)
    [charge] = [e for e in log if isinstance(e, ev.UploadCharged)]
    assert charge.payments == (
        ev.Payment(payer_address=payer.address, winc=str(price), approval_id=id_),
    )
    [end] = [e for e in log if isinstance(e, ev.ApprovalRevoked)]
    assert end.returned_winc == str(2 * price)
    assert fold(log).balance(spender.address) == 0
    assert_charges_match_receipts(log, [spent.json()])
    await assert_balances_are_their_events(paid, [payer, spender])


async def test_concurrent_x_paid_by_uploads_through_two_apis_never_overspend(
    paid: Settings,  # noqa: F811
    tmp_path: Path,
) -> None:
    """An approval for 5 prices and 2 prices of the signer's own: of 40 concurrent
    x-paid-by uploads through two API processes exactly 7 get receipts; the approval and
    the signer's balance end at 0, never below."""
    processes = [
        ApiProcess(own, uvicorn_command(own.api.port), tmp_path / f"api-{n}.log")
        for n, own in enumerate(paid.updated(api__port=free_port()) for _ in range(2))
    ]
    payer, spender = Wallet(), Wallet()
    try:
        await asyncio.gather(*(p.ready() for p in processes))
        url = processes[0].url
        price = await price_of(url, len(spender.item(PAID_SIZE)))
        await asyncio.to_thread(credit, paid, payer.address, 5 * price)
        await asyncio.to_thread(credit, paid, spender.address, 2 * price)
        await wait_view_balance(paid, spender.address, 2 * price)
        await wait_view_balance(paid, payer.address, 5 * price)
        created = await post(url, tagged(payer, share_tags(spender, 5 * price)))
        assert created.status_code == 200, created.text
        items = [spender.item(PAID_SIZE) for _ in range(40)]
        answers = await asyncio.gather(
            *(post(processes[n % 2].url, item, [payer]) for n, item in enumerate(items))
        )
    finally:
        for p in processes:
            p.stop()
    assert sorted(a.status_code for a in answers) == [200] * 7 + [402] * 33
    receipts: list[Receipt] = [a.json() for a in answers if a.status_code == 200]
    log = ledger_log(paid)
    shares = [p for e in log if isinstance(e, ev.UploadCharged) for p in e.payments]
    assert sum(int(p.winc) for p in shares if p.approval_id) == 5 * price
    assert sum(int(p.winc) for p in shares if not p.approval_id) == 2 * price
    id_ = created.json()["createdApproval"]["approvalDataItemId"]
    assert await approval_left(paid, payer, spender, id_) == 0
    assert fold(log).approvals[id_].remaining == 0
    assert_charges_match_receipts(log, receipts)
    await assert_balances_are_their_events(paid, [payer, spender])


async def test_an_expired_approval_returns_its_remainder(
    paid: Settings,  # noqa: F811
) -> None:
    """An approval of 3 prices for 2 s, one of them spent: ApprovalExpired returns the 2
    left to the payer, and the approval spends nothing more."""
    payer, spender = Wallet(), Wallet()
    mine = paid.updated(api__approval_expiry_every_s=0.2)
    async with serve(mine) as api:
        price = await price_of(api.url, len(spender.item(PAID_SIZE)))
        await asyncio.to_thread(credit, mine, payer.address, 4 * price)
        await wait_view_balance(mine, payer.address, 4 * price)
        created = await post(api.url, tagged(payer, share_tags(spender, 3 * price, 2)))
        assert created.status_code == 200, created.text
        assert "expirationDate" in created.json()["createdApproval"]
        spent = await post(api.url, spender.item(PAID_SIZE), [payer])
        assert spent.status_code == 200, spent.text

        # Only the expiry's event gives the payer back the 2 prices left (the view
        # applies it from the log); the log itself is read after the API stops, as
        # reading it here would block the API's event loop (in this process).
        await wait_view_balance(mine, payer.address, 3 * price)
        late = await post(api.url, spender.item(PAID_SIZE), [payer])
        assert late.status_code == 402, late.text
    [end] = [e for e in ledger_log(mine) if isinstance(e, ev.ApprovalExpired)]
    assert end.returned_winc == str(2 * price)
    assert fold(ledger_log(mine)).balance(payer.address) == 3 * price
    await assert_balances_are_their_events(mine, [payer, spender])


REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / "stack" / "node" / "node_modules"
SDK_SCRIPT = REPO / "tests" / "node" / "turbo_credit_sharing.cjs"
SDK_SIZE = 4096  # payload bytes: above the test's free tier, so the upload is paid


async def sdk_steps(
    settings: Settings, api_url: str, winc: int, fund: Callable[[str], Awaitable[None]]
) -> dict[str, dict[str, Any]]:
    """Run the SDK script; ``fund`` the payer when it has printed its wallets."""
    assert (NODE_MODULES / "@ardrive" / "turbo-sdk").is_dir(), "run make up (installs npm deps)"
    process = await asyncio.create_subprocess_exec(
        *("node", str(SDK_SCRIPT), api_url, settings.arweave.gateway_url, str(winc)),
        str(SDK_SIZE),
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdin is not None
    first = json.loads(await asyncio.wait_for(process.stdout.readline(), 120))
    await fund(first["payer"])
    process.stdin.write(b"funded\n")
    await process.stdin.drain()
    try:
        out, err = await asyncio.wait_for(process.communicate(), 300)
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
        raise AssertionError((out.decode() + err.decode())[-4000:]) from None
    assert process.returncode == 0, (out.decode() + err.decode())[-4000:]
    lines = [first] + [json.loads(line) for line in out.decode().splitlines() if line]
    return {line["step"]: line for line in lines}


async def test_the_turbo_sdk_shares_and_revokes_credits(paid: Settings) -> None:  # noqa: F811
    """The real turbo-sdk 1.43: ``shareCredits`` answers the created approval, the
    approved wallet's upload with ``paidBy`` is charged to it, ``revokeCredits`` answers
    the revoked approval, and the next such upload is refused."""
    async with serve(paid) as api:
        price = await price_of(api.url, SDK_SIZE + 1100)  # an upper bound of the item

        async def fund(address: str) -> None:
            await asyncio.to_thread(credit, paid, address, 5 * price)
            await wait_view_balance(paid, address, 5 * price)

        steps = await sdk_steps(paid, api.url, 2 * price, fund)
    payer, spender = steps["wallets"]["payer"], steps["wallets"]["spender"]
    approval = steps["shared"]["approval"]
    assert (approval["payingAddress"], approval["approvedAddress"]) == (payer, spender)
    assert approval["approvedWincAmount"] == str(2 * price)
    charged = int(steps["paid-upload"]["winc"])
    assert 0 < charged <= 2 * price
    [revoked] = steps["revoked"]["approvals"]
    assert revoked["approvalDataItemId"] == approval["approvalDataItemId"]
    assert revoked["usedWincAmount"] == str(charged)
    assert steps["after-revoke"]["refused"] is True
    assert steps["after-revoke"]["status"] == 402
    log = ledger_log(paid)
    charges = {e.data_item_id: e for e in log if isinstance(e, ev.UploadCharged)}
    spent = charges.pop(steps["paid-upload"]["id"])
    assert {p.approval_id for p in spent.payments} == {approval["approvalDataItemId"]}
    # The SDK's share and revoke items are paid too (an RSA owner makes them > 1 KiB).
    assert {c.address for c in charges.values()} == {payer}
    own = sum(int(c.winc) for c in charges.values())
    ledger = fold(log)
    assert (ledger.balance(payer), ledger.balance(spender)) == (5 * price - own - charged, 0)


async def test_a_streamed_x_paid_by_upload_is_not_refused_by_the_signers_balance(
    paid: Settings,  # noqa: F811
) -> None:
    """An item above the inline bound is checked against the balance while it streams;
    with ``x-paid-by`` the approval may pay, so only the reservation decides."""
    payer, spender = Wallet(), Wallet()
    size = 2 * paid.api.inline_item_max_bytes
    async with serve(paid) as api:
        price = await price_of(api.url, len(spender.item(size)))
        await asyncio.to_thread(credit, paid, payer.address, price)
        await wait_view_balance(paid, payer.address, price)
        created = await post(api.url, tagged(payer, share_tags(spender, price)))
        assert created.status_code == 200, created.text
        answer = await post(api.url, spender.item(size), [payer])
        assert answer.status_code == 200, answer.text
        assert answer.json()["winc"] == str(price)
