"""ETH top-ups through the real API against the local hardhat node: real transfers to our
ethereum (and base-eth) wallet, looked up over JSON-RPC and answered in upstream's
shapes: a shallow one is pending, bad ones are refused and nothing is written for them;
a node that does not answer is a 503.
(Twenty concurrent submissions of one ETH transfer: tests/api/test_top_ups.py.)"""

import asyncio

import pytest
from test_paid_uploads import ledger_log, paid
from test_top_ups import our_address
from upload_harness import serve

from bundlestream.core.ledger import fold
from bundlestream.settings import Settings
from tests.evm_transfers import ETH, funded_key, send_eth
from tests.ports import refused_port

pytestmark = pytest.mark.stack
__all__ = ["paid"]  # the fixture, imported for the test below

SUBMIT = "/v1/account/balance/ethereum"


async def test_shallow_eth_transfers_are_pending_and_bad_ones_are_refused(paid: Settings) -> None:
    url, token = paid.x402.evm_rpc_url, paid.x402.asset
    # A million confirmations: never reached here. base-eth pays the local token contract.
    # An excluded sender, listed in lower case.
    excluded = funded_key(url)
    deep = paid.updated(
        evm__ethereum_confirmations=10**6,
        evm__base_eth_address=token,
        payments__crypto_fund_excluded_addresses=[excluded.address.lower()],
    )
    async with serve(deep) as api:
        ours, base_ours = await our_address(api, "ethereum"), await our_address(api, "base-eth")
        # The node's client blocks: in a thread, or the API serving from this loop would
        # see its loop stalled (and shed the next request as overloaded).
        sender, stranger = await asyncio.to_thread(lambda: (funded_key(url), funded_key(url)))
        pending_id, base_id, misdirected_id, call_id, excluded_id = await asyncio.to_thread(
            lambda: (
                send_eth(url, sender, ours, ETH),
                send_eth(url, sender, base_ours, ETH),  # the token contract: it reverts
                send_eth(url, sender, stranger.address, ETH),
                send_eth(url, sender, ours, ETH, bytes.fromhex("a9059cbb")),
                send_eth(url, excluded, ours, ETH),
            )
        )
        async with api.client() as client:
            pending = await client.post(SUBMIT, json={"tx_id": pending_id})
            reverted = await client.post("/v1/account/balance/base-eth", json={"tx_id": base_id})
            misdirected = await client.post(SUBMIT, json={"tx_id": misdirected_id})
            call = await client.post(SUBMIT, json={"tx_id": call_id})
            barred = await client.post(SUBMIT, json={"tx_id": excluded_id})
            unknown = await client.post(SUBMIT, json={"tx_id": "0x" + "ab" * 32})
            # The same node serves both tokens here: ethereum's transfer is not base-eth's.
            crossed = await client.post("/v1/account/balance/base-eth", json={"tx_id": pending_id})
    assert pending.status_code == 202, pending.text
    body = pending.json()["pendingTransaction"]
    assert (body["transactionId"], body["transactionSenderAddress"]) == (pending_id, sender.address)
    assert body["tokenType"] == "ethereum" and body["transactionQuantity"] == str(ETH)
    refused = {
        "reverted": reverted,
        "misdirected": misdirected,
        "call": call,
        "crossed": crossed,
        "barred": barred,
    }
    assert {k: r.status_code for k, r in refused.items()} == dict.fromkeys(refused, 400)
    assert reverted.json()["failedTransaction"]["tokenType"] == "base-eth"
    assert "reverted" in reverted.json()["message"]
    assert "contract call" in call.json()["message"]
    assert "may not fund" in barred.json()["message"]
    assert misdirected.json()["failedTransaction"]["transactionId"] == misdirected_id
    assert unknown.status_code == 404
    log = ledger_log(paid)
    assert [(type(e).__name__, getattr(e, "transaction_id", None)) for e in log] == [
        ("TopUpSubmitted", pending_id)
    ]
    assert fold(log).balance(sender.address) == 0


async def test_a_node_that_does_not_answer_is_a_503(paid: Settings) -> None:
    with refused_port() as port:
        down = paid.updated(evm__ethereum_rpc_url=f"http://127.0.0.1:{port}")
        async with serve(down) as api, api.client() as client:
            answer = await client.post(SUBMIT, json={"tx_id": "0x" + "cd" * 32})
    assert (answer.status_code, answer.text) == (503, "Gateway Unavailable")
    assert ledger_log(paid) == []
