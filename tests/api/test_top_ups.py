"""Crypto top-ups through the real API against arlocal: a real AR transfer to our wallet.

The transfer is posted to arlocal and mined there; the API looks it up on the gateway,
answers in upstream's shapes, and writes ledger events that the fold, the projection
and the spendable view all credit once, however often the transaction is submitted.
"""

import asyncio

import pytest
from test_paid_uploads import ledger_log, paid, projected_balance, wait_view_balance
from upload_harness import RunningApi, serve

from bundlestream.core.ledger import fold
from bundlestream.schemas import ledger_events as ev
from bundlestream.settings import Settings
from tests.ar_transfers import funded_wallet, mine, send_ar

pytestmark = pytest.mark.stack
__all__ = ["paid"]  # the fixture, imported for the tests below

AR = 10**12
CONFIRMATIONS = 2
SUBMIT = "/v1/account/balance/arweave"


@pytest.fixture
def topping(paid: Settings) -> Settings:
    return paid.updated(streams__required_confirmations=CONFIRMATIONS)


async def our_address(api: RunningApi) -> str:
    async with api.client() as client:
        address = (await client.get("/info")).json()["addresses"]["arweave"]
    assert isinstance(address, str)
    return address


async def credit_quote(api: RunningApi, winston: int) -> str:
    async with api.client() as client:
        winc = (await client.get(f"/v1/price/arweave/{winston}")).json()["winc"]
    assert isinstance(winc, str)
    return winc


async def test_one_transaction_submitted_twenty_times_at_once_is_credited_once(
    topping: Settings,
) -> None:
    gateway = topping.arweave.gateway_url
    async with serve(topping) as api:
        sender = funded_wallet(gateway)
        tx_id = send_ar(gateway, sender, await our_address(api), AR)
        mine(gateway, CONFIRMATIONS + 1)
        async with api.client() as client:
            answers = await asyncio.gather(
                *(client.post(SUBMIT, json={"tx_id": tx_id}) for _ in range(20))
            )
        assert [a.status_code for a in answers] == [200] * 20, answers[0].text
        credited = [a.json()["creditedTransaction"] for a in answers]
        winc = await credit_quote(api, AR)
        assert {(c["transactionId"], c["winstonCreditAmount"]) for c in credited} == {(tx_id, winc)}
        assert {c["transactionSenderAddress"] for c in credited} == {sender.address}
        log = ledger_log(topping)
        assert fold(log).balance(sender.address) == int(winc)
        assert len({e.credit_id for e in log if isinstance(e, ev.BalanceCredited)}) == 1
        await wait_view_balance(topping, sender.address, int(winc))
        assert projected_balance(topping, sender.address) == int(winc)
        async with api.client() as client:
            read = await client.get(SUBMIT, params={"address": sender.address})
        assert read.status_code == 200 and read.json()["winc"] == winc


async def test_a_shallow_transfer_is_pending_and_bad_ones_are_refused(topping: Settings) -> None:
    gateway = topping.arweave.gateway_url
    async with serve(topping) as api:
        sender, stranger = funded_wallet(gateway), funded_wallet(gateway, 1)
        ours = await our_address(api)
        pending_id = send_ar(gateway, sender, ours, AR)
        misdirected_id = send_ar(gateway, sender, stranger.address, AR)
        async with api.client() as client:
            pending = await client.post(SUBMIT, content=f'{{"tx_id": "{pending_id}"}}')
            misdirected = await client.post(SUBMIT, json={"tx_id": misdirected_id})
            unknown = await client.post(SUBMIT, json={"tx_id": "x" * 43})
            malformed = await client.post(SUBMIT, content=b"not json")
    assert pending.status_code == 202, pending.text  # JSON without a Content-Type
    body = pending.json()["pendingTransaction"]
    assert (body["transactionId"], body["transactionSenderAddress"]) == (pending_id, sender.address)
    assert misdirected.status_code == 400
    assert misdirected.json()["failedTransaction"]["transactionId"] == misdirected_id
    assert (unknown.status_code, malformed.status_code) == (404, 400)
    log = ledger_log(topping)
    assert [(type(e).__name__, getattr(e, "transaction_id", None)) for e in log] == [
        ("TopUpSubmitted", pending_id)
    ]
    assert fold(log).balance(sender.address) == 0
