"""The chain port of crypto top-ups: a transfer looked up by its transaction id.

One implementation per kind of chain: the Arweave gateway (``adapters/arweave_gateway.py``)
and EVM JSON-RPC nodes (``adapters/evm_chain.py``). The top-up route and the top-ups
stage use only this port, so every token follows the same flow (``core.top_ups``).
"""

from dataclasses import dataclass
from typing import Protocol

from bundlestream.core.top_ups import Transfer


class ChainUnavailable(Exception):
    """The chain's node gave no usable answer (down, an error status, a malformed reply)."""


class Chain(Protocol):
    async def transfer(self, tx_id: str) -> Transfer | None:
        """The transfer of ``tx_id`` as the chain reports it now (its confirmations and,
        once executed, whether it succeeded); None when the chain does not know it.
        Raises ChainUnavailable when the chain cannot say."""
        ...

    async def close(self) -> None:
        """Release the client's connections."""
        ...


@dataclass(frozen=True)
class TopUpChain:
    """A token's chain and the confirmations after which its transfers are credited."""

    chain: Chain
    confirmations: int
