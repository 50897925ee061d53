"""ETH transfers on the local hardhat node for the top-up tests.

A fresh key (eth-account) is funded by the node's unlocked development account 0, then
signs its own transactions and sends them raw, as any wallet does. hardhat mines each
transaction at once (and a block every 2 s besides); one that reverts is still mined,
and hardhat answers its ``eth_sendRawTransaction`` with an error whose ``data.txHash``
names it.
"""

from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount

from tests.bounds import HTTP_REQUEST_S

T = TypeVar("T")
ETH = 10**18
TRANSFER_GAS = 60_000


def call(url: str, method: str, *params: object) -> dict[str, Any]:
    """One JSON-RPC call's whole answer."""
    request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    answer: dict[str, Any] = httpx.post(url, json=request, timeout=HTTP_REQUEST_S).json()
    return answer


def rpc(url: str, method: str, *params: object) -> Any:
    """One JSON-RPC call's result; a JSON-RPC error fails the test."""
    answer = call(url, method, *params)
    assert "error" not in answer, answer
    return answer["result"]


def funded_key(url: str, wei: int = 10 * ETH) -> LocalAccount:
    """A new key holding ``wei``, sent by development account 0."""
    key: LocalAccount = Account.create()
    funder = rpc(url, "eth_accounts")[0]
    rpc(url, "eth_sendTransaction", {"from": funder, "to": key.address, "value": hex(wei)})
    return key


def send_eth(url: str, key: LocalAccount, to: str, wei: int, data: bytes = b"") -> str:
    """Sign and send a transaction of ``wei`` (and ``data``) to ``to``; its hash, also when
    it reverted."""
    tx = {
        "to": to,
        "value": wei,
        "data": data,
        "gas": TRANSFER_GAS,
        "gasPrice": 2 * int(rpc(url, "eth_gasPrice"), 16),
        "nonce": int(rpc(url, "eth_getTransactionCount", key.address, "pending"), 16),
        "chainId": int(rpc(url, "eth_chainId"), 16),
    }
    raw = "0x" + key.sign_transaction(tx).raw_transaction.hex()
    answer = call(url, "eth_sendRawTransaction", raw)
    tx_hash = answer.get("result") or answer["error"]["data"]["txHash"]
    assert isinstance(tx_hash, str)
    return tx_hash


def block_number(url: str) -> int:
    return int(rpc(url, "eth_blockNumber"), 16)


def mine(url: str, blocks: int) -> None:
    """``blocks`` more blocks (hardhat's ``hardhat_mine``), 0 s apart: with its default
    of 1 s apart the node's clock would run ahead of the host's by a second per block,
    and x402 authorizations (valid for 300 s) are checked at the node's block time."""
    rpc(url, "hardhat_mine", hex(blocks), "0x0")


def in_one_block(url: str, send: Callable[[], T]) -> T:
    """What ``send`` sends, mined in one block: hardhat mines a block per transaction,
    each at least 1 s after the one before, so a burst of transactions would move the
    node's clock ahead of the host's."""
    rpc(url, "evm_setAutomine", False)
    try:
        sent = send()
        mine(url, 1)
    finally:
        rpc(url, "evm_setAutomine", True)
    return sent
