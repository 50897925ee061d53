"""Helpers of the x402 tests: the stack's EVM node and token, and real x402 clients.

The local stack's hardhat node holds the LocalUSDC token, minted to every development
account; the local facilitator settles on it. Payers are hardhat development accounts
(public keys of a public mnemonic), each test its own where balances are compared.
"""

import base64
import json
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from x402 import SchemeRegistration, x402Client, x402ClientConfig
from x402.http.clients import x402HttpxClient
from x402.mechanisms.evm.exact.v1.client import ExactEvmSchemeV1
from x402.schemas.v1 import PaymentRequirementsV1

from bundlestream.settings import Settings
from tests.bounds import HTTP_REQUEST_S

# hardhat's development accounts 3..12 (accounts 0-2 deploy, pay gas, receive); the
# end-to-end test has 8 to itself, so its balances move only by its own payments; the
# /tx tests have 9, 10 and 12, the turbo-sdk 11.
PAYER_KEYS = {
    3: "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    4: "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    5: "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    6: "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    7: "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    8: "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    9: "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
    10: "0xf214f2b2cd398c806f84e317254e0f0b801d0643303237d97a22a48e01628897",
    11: "0x701b615bbdfb9de65240bc28bd21bbc0d996645a3dd57e7b12bc2bdf6f192c82",
    12: "0xa267530f49f8280200edf313ee7af6b827f2a8bce2897751d06a843f644967b1",
}
_BALANCE_OF = [
    {
        "name": "balanceOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    }
]


def payer(index: int) -> LocalAccount:
    account: LocalAccount = Account.from_key(PAYER_KEYS[index])
    return account


def token_balance(settings: Settings, address: str) -> int:
    """The address's LocalUSDC balance on the node, read with web3."""
    w3 = Web3(Web3.HTTPProvider(settings.x402.evm_rpc_url, {"timeout": HTTP_REQUEST_S}))
    token = w3.eth.contract(address=Web3.to_checksum_address(settings.x402.asset), abi=_BALANCE_OF)
    return int(token.functions.balanceOf(Web3.to_checksum_address(address)).call())


def balances(settings: Settings, account: LocalAccount) -> tuple[int, int]:
    """(payer's, payTo's) token balances."""
    return token_balance(settings, account.address), token_balance(settings, settings.x402.pay_to)


def paying_client(settings: Settings, account: LocalAccount, base_url: str) -> x402HttpxClient:
    """The x402 SDK's httpx client: on a 402 it signs what ``accepts`` asks and retries."""
    config = x402ClientConfig(
        schemes=[SchemeRegistration(settings.x402.network, ExactEvmSchemeV1(account), 1)],
        spend_controls=False,  # the local token is not one of the SDK's known assets
    )
    return x402HttpxClient(
        x402Client.from_config(config), base_url=base_url, timeout=HTTP_REQUEST_S
    )


def payment_header(client_account: LocalAccount, accepts: dict[str, Any]) -> str:
    """An X-PAYMENT for one ``accepts`` entry, signed by the SDK's v1 exact scheme."""
    inner = ExactEvmSchemeV1(client_account).create_payment_payload(
        PaymentRequirementsV1.model_validate(accepts)
    )
    document = {
        "x402Version": 1,
        "scheme": "exact",
        "network": accepts["network"],
        "payload": inner,
    }
    return encode(document)


def encode(document: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


def decode(header: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.b64decode(header))
    return decoded
