"""An EVM chain's transfers over JSON-RPC (httpx), for the ``ethereum`` / ``base-eth`` top-ups.

One JSON-RPC batch asks the node for the transaction (``eth_getTransactionByHash``), its
receipt (``eth_getTransactionReceipt``) and the head (``eth_blockNumber``), so the three
answers come from one look at the chain. What they become (``core.top_ups.Transfer``):

- an unknown transaction (or a text that is no transaction hash): None;
- ``from`` and ``to`` in EIP-55 form; a contract creation has no ``to`` (recipient "");
- the quantity is ``value``, in wei;
- not mined yet (no receipt): ``block_height`` None; mined: its block, and
  ``head - block + 1`` confirmations (the block that holds it is the first, as ethers
  counts them);
- ``succeeded`` is the receipt's ``status`` 1 (Byzantium receipts; 0: reverted);
- ``plain``: no call data, or only the memo the turbo-sdk writes for a credit
  destination (UTF-8 ``turboCreditDestinationAddress=...``, which it sends to our
  wallet and no code reads); any other data is a contract call.

Transport failures, error statuses, JSON-RPC errors and malformed answers raise
``ChainUnavailable``.
"""

import re
from typing import Any

import httpx

from bundlestream.adapters.chain import ChainUnavailable
from bundlestream.core.ans104.ethereum import checksum_address, parse_hex_address
from bundlestream.core.top_ups import Transfer

_TX_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_SDK_MEMO = b"turboCreditDestinationAddress=".hex()
_METHODS = ("eth_getTransactionByHash", "eth_getTransactionReceipt", "eth_blockNumber")


class EvmChain:
    """The transfers of ``token`` on the JSON-RPC node at ``rpc_url``; ``close`` when done."""

    def __init__(self, token: str, rpc_url: str, timeout_s: float = 10.0) -> None:
        self.token, self.rpc_url = token, rpc_url
        self._client = httpx.AsyncClient(timeout=timeout_s)

    async def transfer(self, tx_id: str) -> Transfer | None:
        if _TX_HASH.fullmatch(tx_id) is None:
            return None
        tx, receipt, head = await self._batch(tx_id.lower())
        if tx is None:
            return None
        try:
            return _transfer(self.token, tx, receipt, _quantity(head))
        except (KeyError, TypeError, ValueError) as exc:
            raise ChainUnavailable(f"{self.rpc_url}: not a transaction: {exc!r}") from exc

    async def _batch(self, tx_hash: str) -> list[Any]:
        calls = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": [tx_hash] if i < 2 else []}
            for i, m in enumerate(_METHODS)
        ]
        try:
            response = await self._client.post(self.rpc_url, json=calls)
            answers = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError) as exc:
            raise ChainUnavailable(f"{self.rpc_url}: {exc!r}") from exc
        if not isinstance(answers, list) or len(answers) != len(calls):
            raise ChainUnavailable(f"{self.rpc_url}: HTTP {response.status_code}, no batch answer")
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        if any(i not in by_id or "error" in by_id[i] for i in range(len(calls))):
            raise ChainUnavailable(f"{self.rpc_url}: JSON-RPC error in {answers!r}")
        return [by_id[i].get("result") for i in range(len(calls))]

    async def close(self) -> None:
        await self._client.aclose()


def _transfer(
    token: str, tx: dict[str, Any], receipt: dict[str, Any] | None, head: int
) -> Transfer:
    block = status = None
    if receipt is not None and receipt.get("blockNumber") is not None:
        block, status = _quantity(receipt["blockNumber"]), _quantity(receipt["status"])
    return Transfer(
        token=token,
        transaction_id=str(tx["hash"]).lower(),
        sender=_address(tx["from"]),
        recipient=_address(tx["to"]) if tx.get("to") else "",
        quantity=_quantity(tx["value"]),
        block_height=block,
        confirmations=0 if block is None else max(0, head - block + 1),
        succeeded=status in (None, 1),
        plain=_is_plain(str(tx.get("input") or tx.get("data") or "0x")),
    )


def _quantity(value: object) -> int:
    """A JSON-RPC quantity: "0x"-prefixed hex."""
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError(f"not a quantity: {value!r}")
    return int(value, 16)


def _address(value: object) -> str:
    parsed = parse_hex_address(str(value).encode())
    if parsed is None:
        raise ValueError(f"not an address: {value!r}")
    return checksum_address(parsed)


def _is_plain(data: str) -> bool:
    payload = data[2:].lower() if data.startswith("0x") else data.lower()
    return payload == "" or payload.startswith(_SDK_MEMO)
