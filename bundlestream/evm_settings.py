"""The EVM chains of crypto top-ups (``ethereum``, ``base-eth``), and the local EVM node's
development accounts that the defaults of these and of x402 use.

A group of ``Settings`` (``settings.evm``), kept beside the settings module: every field
is read from ``BUNDLESTREAM_<FIELD>``. The defaults point at the local stack's hardhat
node (``BUNDLESTREAM_EVM_RPC_URL``) and two of its development accounts, whose keys are
public: production sets each chain's RPC URL and our receiving address.
"""

from dataclasses import dataclass

from pydantic_settings import BaseSettings, SettingsConfigDict

# hardhat's public development mnemonic ("test test ... junk"): its accounts are funded
# on the local node, and their keys are published, so they are defaults for it only.
HARDHAT_KEY_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
HARDHAT_ACCOUNT_2 = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
HARDHAT_ACCOUNT_3 = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
HARDHAT_ACCOUNT_4 = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
# Where account 0 deploys its first contract (nonce 0): the local token's address.
HARDHAT_FIRST_CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

EVM_TOKENS = ("ethereum", "base-eth")


@dataclass(frozen=True)
class EvmTopUpChain:
    """One token's chain: its node, the confirmations a top-up waits for, our wallet."""

    token: str
    rpc_url: str
    confirmations: int
    address: str


class EvmSettings(BaseSettings):
    """Per token: the JSON-RPC node (None: the local node, ``BUNDLESTREAM_EVM_RPC_URL``),
    the confirmations after which a transfer is credited (upstream: 5; the local node
    mines a block per transaction and every 2 s), our receiving address (``/v1/info``)."""

    model_config = SettingsConfigDict(env_prefix="BUNDLESTREAM_", extra="forbid")

    ethereum_rpc_url: str | None = None
    ethereum_confirmations: int = 2
    ethereum_address: str = HARDHAT_ACCOUNT_3
    base_eth_rpc_url: str | None = None
    base_eth_confirmations: int = 2
    # Not ethereum's: both tokens share the one local node, and a transfer must be
    # credited under one token only (its credit id names the token).
    base_eth_address: str = HARDHAT_ACCOUNT_4
    # A JSON-RPC batch without an answer within this fails (the top-up answers 503).
    evm_rpc_timeout_s: float = 10.0

    def addresses(self) -> dict[str, str]:
        """Our receiving address per EVM token, as set."""
        return {token: getattr(self, f"{_field(token)}_address") for token in EVM_TOKENS}

    def chains(self, local_rpc_url: str) -> list[EvmTopUpChain]:
        """Each EVM token's chain; an unset RPC URL is the local node's."""
        return [
            EvmTopUpChain(
                token,
                getattr(self, f"{_field(token)}_rpc_url") or local_rpc_url,
                getattr(self, f"{_field(token)}_confirmations"),
                address,
            )
            for token, address in self.addresses().items()
        ]


def _field(token: str) -> str:
    """The fields' prefix of ``token`` (``base-eth``: ``base_eth``)."""
    return token.replace("-", "_")
