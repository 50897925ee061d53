"""The local EVM node and its facilitator: hardhat on the configured chain id, LocalUSDC
deployed at the configured address with the configured EIP-712 domain and every
development account funded, and the facilitator serving x402's exact scheme on it."""

from __future__ import annotations

import httpx
from web3 import Web3

from bundlestream.settings import Settings
from bundlestream.stack.evm import MINT_PER_ACCOUNT, compiled_token
from tests.bounds import HTTP_REQUEST_S


def test_the_node_holds_the_token_at_the_configured_address(settings: Settings) -> None:
    w3 = Web3(Web3.HTTPProvider(settings.x402.evm_rpc_url, {"timeout": HTTP_REQUEST_S}))
    assert w3.eth.chain_id == settings.x402.chain_id
    abi = compiled_token(settings.stack.dir.resolve())["abi"]
    token = w3.eth.contract(address=Web3.to_checksum_address(settings.x402.asset), abi=abi)
    assert token.functions.name().call() == settings.x402.asset_name
    assert token.functions.version().call() == settings.x402.asset_version
    assert token.functions.decimals().call() == 6
    accounts = w3.eth.accounts
    assert len(accounts) == 20
    assert token.functions.totalSupply().call() == 20 * MINT_PER_ACCOUNT
    assert all(token.functions.balanceOf(a).call() > 0 for a in accounts)


def test_the_facilitator_serves_exact_payments_on_the_network(settings: Settings) -> None:
    supported = httpx.get(f"{settings.x402.facilitator_url}/supported", timeout=HTTP_REQUEST_S)
    assert supported.status_code == 200
    kinds = supported.json()["kinds"]
    assert {"x402Version": 1, "scheme": "exact", "network": settings.x402.network} in [
        {k: kind[k] for k in ("x402Version", "scheme", "network")} for kind in kinds
    ]
    refused = httpx.post(f"{settings.x402.facilitator_url}/verify", json={}, timeout=HTTP_REQUEST_S)
    assert refused.status_code == 400
