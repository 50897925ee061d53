"""The EVM chain adapter's verdicts against the real hardhat node of the local stack.

Each transaction is sent by a fresh key (or a development account) and looked up through
``EvmChain``; ``core.top_ups`` judges what the adapter reports. Reads the node from
Settings (BUNDLESTREAM_EVM_RPC_URL) and FAILS if it is unreachable.
"""

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account

from bundlestream.adapters.chain import ChainUnavailable
from bundlestream.adapters.evm_chain import EvmChain
from bundlestream.core.top_ups import Transfer, decide_follow, decide_submission, refusal_of
from bundlestream.schemas import ledger_events as ev
from bundlestream.settings import Settings
from tests.evm_transfers import ETH, funded_key, mine, rpc, send_eth
from tests.ports import refused_port

pytestmark = pytest.mark.stack

NOW = datetime(2026, 1, 1, tzinfo=UTC)
WINC = 10**9
# ERC-20 transfer(address,uint256)
TRANSFER_SELECTOR = bytes.fromhex("a9059cbb")


@pytest.fixture
async def chain(settings: Settings) -> AsyncIterator[EvmChain]:
    node = EvmChain("ethereum", settings.x402.evm_rpc_url)
    yield node
    await node.close()


def ours() -> str:
    """A receiving address of our own for one test (nobody else sends to it)."""
    return str(Account.create().address)


async def looked_up(chain: EvmChain, tx_hash: str) -> Transfer:
    transfer = await chain.transfer(tx_hash)
    assert transfer is not None, tx_hash
    return transfer


async def test_a_plain_transfer_to_us_is_reported_as_sent(
    settings: Settings, chain: EvmChain
) -> None:
    url, our = settings.x402.evm_rpc_url, ours()
    key = funded_key(url)
    tx_hash = send_eth(url, key, our, ETH // 100)
    transfer = await looked_up(chain, tx_hash.upper().replace("0X", "0x"))
    assert (transfer.token, transfer.transaction_id) == ("ethereum", tx_hash.lower())
    assert (transfer.sender, transfer.recipient) == (key.address, our)
    assert transfer.quantity == ETH // 100
    assert transfer.block_height is not None and transfer.confirmations >= 1
    assert transfer.succeeded and transfer.plain
    assert refusal_of(transfer, our) is None
    memo = b"turboCreditDestinationAddress=" + our.encode()
    with_memo = await looked_up(chain, send_eth(url, key, our, 1, memo))
    assert with_memo.plain and refusal_of(with_memo, our) is None


async def test_a_transfer_to_another_address_is_refused(
    settings: Settings, chain: EvmChain
) -> None:
    url, our = settings.x402.evm_rpc_url, ours()
    transfer = await looked_up(chain, send_eth(url, funded_key(url), ours(), ETH))
    refusal = refusal_of(transfer, our)
    assert refusal is not None and refusal.rule == "wrong-recipient"


async def test_a_reverted_transfer_is_refused(settings: Settings, chain: EvmChain) -> None:
    # The local token contract has no payable fallback: plain ETH sent to it reverts.
    url, token = settings.x402.evm_rpc_url, settings.x402.asset
    transfer = await looked_up(chain, send_eth(url, funded_key(url), token, ETH))
    assert transfer.block_height is not None and not transfer.succeeded
    refusal = refusal_of(transfer, token)
    assert refusal is not None and refusal.rule == "reverted"
    pending = ev.TopUpSubmitted(
        address=transfer.sender,
        token="ethereum",
        transaction_id=transfer.transaction_id,
        quantity=str(ETH),
        winc="1",
        submitted_at=NOW,
    )
    follow = decide_follow(pending, transfer, 1, timedelta(days=1), NOW)
    assert [(type(e), getattr(e, "reason", None)) for e in follow] == [(ev.TopUpFailed, "reverted")]


async def test_a_contract_call_is_not_a_transfer(settings: Settings, chain: EvmChain) -> None:
    url, our = settings.x402.evm_rpc_url, ours()
    holder = rpc(url, "eth_accounts")[4]  # holds the local token, unlocked on the node
    data = TRANSFER_SELECTOR + bytes.fromhex(our[2:]).rjust(32, b"\0") + (10**6).to_bytes(32)
    call = {"from": holder, "to": settings.x402.asset, "data": "0x" + data.hex()}
    transfer = await looked_up(chain, rpc(url, "eth_sendTransaction", call))
    assert transfer.succeeded and not transfer.plain
    refusal = refusal_of(transfer, our)
    assert refusal is not None and refusal.rule == "not-a-transfer"
    to_us = await looked_up(chain, send_eth(url, funded_key(url), our, ETH, TRANSFER_SELECTOR))
    assert to_us.succeeded and not to_us.plain
    refusal = refusal_of(to_us, our)
    assert refusal is not None and refusal.rule == "not-a-transfer"


async def test_an_unknown_transaction_is_none(chain: EvmChain) -> None:
    assert await chain.transfer("0x" + os.urandom(32).hex()) is None
    assert await chain.transfer("not-a-hash") is None
    assert await chain.transfer("0x" + "ab" * 31) is None


async def test_too_few_confirmations_stay_pending_until_the_blocks_come(
    settings: Settings, chain: EvmChain
) -> None:
    url, our = settings.x402.evm_rpc_url, ours()
    tx_hash = send_eth(url, funded_key(url), our, ETH)
    shallow = await looked_up(chain, tx_hash)
    required = shallow.confirmations + 3
    submitted = decide_submission(shallow, WINC, our, required, NOW)
    assert isinstance(submitted, list) and [type(e) for e in submitted] == [ev.TopUpSubmitted]
    pending = submitted[0]
    assert isinstance(pending, ev.TopUpSubmitted)
    assert decide_follow(pending, shallow, required, timedelta(days=1), NOW) == []
    mine(url, 3)
    deep = await looked_up(chain, tx_hash)
    assert deep.confirmations >= required and deep.block_height == shallow.block_height
    follow = decide_follow(pending, deep, required, timedelta(days=1), NOW)
    credits = [e for e in follow if isinstance(e, ev.BalanceCredited)]
    assert [(c.address, c.winc) for c in credits] == [(shallow.sender, str(WINC))]


async def test_a_node_that_does_not_answer_is_unavailable() -> None:
    with refused_port() as port:
        node = EvmChain("ethereum", f"http://127.0.0.1:{port}")
        with pytest.raises(ChainUnavailable):
            await node.transfer("0x" + "00" * 32)
        await node.close()
