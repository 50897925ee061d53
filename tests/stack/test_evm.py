"""The local EVM node and its facilitator: hardhat on the configured chain id, LocalUSDC
deployed at the configured address with the configured EIP-712 domain and every
development account funded, and the facilitator serving x402's exact scheme on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from web3 import Web3

from bundlestream.settings import Settings
from bundlestream.stack.evm import MINT_PER_ACCOUNT, NODE_WAIT_S, compiled_token, hardhat_node
from bundlestream.stack.node import NODE_DIR
from tests.bounds import HTTP_REQUEST_S
from tests.ports import child_ports


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


def test_stack_token_deploys_the_compiled_token_on_a_fresh_node(
    settings: Settings, tmp_path: Path
) -> None:
    """What docker-compose.yml runs: the token compiled elsewhere, deployed by
    ``bundlestream stack token`` once the node answers (started here after it)."""
    [port] = child_ports(1)
    rpc = f"http://127.0.0.1:{port}"
    compiled = tmp_path / "LocalUSDC.json"
    compiled.write_text(json.dumps(compiled_token(settings.stack.dir.resolve())))
    argv, env = hardhat_node("127.0.0.1", port, settings.x402.chain_id)
    with (tmp_path / "hardhat.log").open("wb") as log:
        deploy = subprocess.Popen(
            [sys.executable, "-m", "bundlestream.cli", "stack", "token", str(compiled)],
            env={**os.environ, "BUNDLESTREAM_EVM_RPC_URL": rpc},
        )
        node = subprocess.Popen(argv, env={**os.environ, **env}, cwd=NODE_DIR, stdout=log)
        try:
            assert deploy.wait(timeout=NODE_WAIT_S + 60) == 0
            w3 = Web3(Web3.HTTPProvider(rpc, {"timeout": HTTP_REQUEST_S}))
            abi = json.loads(compiled.read_text())["abi"]
            token = w3.eth.contract(address=Web3.to_checksum_address(settings.x402.asset), abi=abi)
            assert token.functions.balanceOf(w3.eth.accounts[3]).call() == MINT_PER_ACCOUNT
        finally:
            node.terminate()
            node.wait(timeout=30)
