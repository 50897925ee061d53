"""Crypto top-ups through the real API against arlocal: a real AR transfer to our wallet
(and, for the concurrent submissions, a real ETH transfer on the local hardhat node).

The transfer is posted to arlocal and mined there; the API looks it up on the gateway,
answers in upstream's shapes, and writes ledger events that the fold, the projection
and the spendable view all credit once, however often the transaction is submitted.
"""

import asyncio
from typing import Any

import pytest
from test_paid_uploads import ledger_log, paid, projected_balance, wait_view_balance
from upload_harness import RunningApi, serve

from bundlestream.core.ledger import fold
from bundlestream.schemas import ledger_events as ev
from bundlestream.settings import Settings
from tests.ar_transfers import funded_wallet, mine, send_ar
from tests.evm_transfers import ETH, funded_key, send_eth
from tests.evm_transfers import mine as mine_evm

pytestmark = pytest.mark.stack
__all__ = ["paid"]  # the fixture, imported for the tests below

AR = 10**12
CONFIRMATIONS = 2
SUBMIT = "/v1/account/balance/arweave"


@pytest.fixture
def topping(paid: Settings) -> Settings:
    return paid.updated(
        streams__required_confirmations=CONFIRMATIONS, evm__ethereum_confirmations=CONFIRMATIONS
    )


async def our_address(api: RunningApi, token: str = "arweave") -> str:
    async with api.client() as client:
        address = (await client.get("/info")).json()["addresses"][token]
    assert isinstance(address, str)
    return address


async def credit_quote(api: RunningApi, base_units: int, token: str = "arweave") -> str:
    async with api.client() as client:
        winc = (await client.get(f"/v1/price/{token}/{base_units}")).json()["winc"]
    assert isinstance(winc, str)
    return winc


async def credited_at_once(api: RunningApi, path: str, tx_ids: list[str]) -> list[Any]:
    """Submit every id at once; each answer must be a 200: its ``creditedTransaction``."""
    async with api.client() as client:
        answers = await asyncio.gather(*(client.post(path, json={"tx_id": t}) for t in tx_ids))
    assert [a.status_code for a in answers] == [200] * len(tx_ids), answers[0].text
    return [a.json()["creditedTransaction"] for a in answers]


async def assert_credited_once(
    settings: Settings, api: RunningApi, path: str, address: str, winc: str, read_as: str
) -> None:
    """One credit of ``winc`` to ``address`` in the fold, the view and the projection,
    and the balance route's answer for it given as ``read_as``. The log and projection
    reads block, so they run off the loop that serves the API: a blocked loop is lag,
    which the API's admission answers with 503 (overloaded)."""
    log = await asyncio.to_thread(ledger_log, settings)
    assert fold(log).balance(address) == int(winc)
    assert len({e.credit_id for e in log if isinstance(e, ev.BalanceCredited)}) == 1
    await wait_view_balance(settings, address, int(winc))
    assert await asyncio.to_thread(projected_balance, settings, address) == int(winc)
    async with api.client() as client:
        read = await client.get(path, params={"address": read_as})
    assert read.status_code == 200 and read.json()["winc"] == winc


def ar_transfer(settings: Settings, ours: str) -> tuple[str, str, int]:
    """A confirmed AR transfer to ``ours``: its sender, its id, its quantity."""
    gateway = settings.arweave.gateway_url
    sender = funded_wallet(gateway)
    tx_id = send_ar(gateway, sender, ours, AR)
    mine(gateway, CONFIRMATIONS + 1)
    return sender.address, tx_id, AR


def eth_transfer(settings: Settings, ours: str) -> tuple[str, str, int]:
    """A confirmed ETH transfer to ``ours`` on the local node."""
    url = settings.x402.evm_rpc_url
    sender = funded_key(url)
    tx_hash = send_eth(url, sender, ours, ETH // 10)
    mine_evm(url, CONFIRMATIONS)
    return sender.address, tx_hash, ETH // 10


TRANSFERS = {"arweave": ar_transfer, "ethereum": eth_transfer}


def cased(tx_id: str, token: str, i: int) -> str:
    """An EVM hash with its hex digits upper-cased on every other submission (matched in
    any case); an Arweave id as it is (base64url is case-sensitive)."""
    if token == "arweave":
        return tx_id
    return "0x" + (tx_id[2:].upper() if i % 2 else tx_id[2:].lower())


@pytest.mark.parametrize("token", TRANSFERS)
async def test_one_transaction_submitted_twenty_times_at_once_is_credited_once(
    topping: Settings, token: str
) -> None:
    path = f"/v1/account/balance/{token}"
    async with serve(topping) as api:
        ours = await our_address(api, token)
        sender, tx_id, quantity = await asyncio.to_thread(TRANSFERS[token], topping, ours)
        credited = await credited_at_once(api, path, [cased(tx_id, token, i) for i in range(20)])
        winc = await credit_quote(api, quantity, token)
        assert int(winc) > 0
        assert {
            (c["transactionId"], c["winstonCreditAmount"], c["tokenType"]) for c in credited
        } == {(tx_id, winc, token)}
        assert {c["transactionSenderAddress"] for c in credited} == {sender}
        # An EVM address is read back in any case: it is kept under its EIP-55 form.
        read_as = sender if token == "arweave" else sender.lower()
        await assert_credited_once(topping, api, path, sender, winc, read_as)


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
