"""The local EVM node (``hardhat node``) and its USDC-like token, for x402 payments.

hardhat runs in memory: every start is a fresh chain whose twenty development accounts
hold 10,000 ETH each. Once it answers, ``after_ready`` deploys ``stack/evm/LocalUSDC.sol``
(compiled with the npm solc compiler) from account 0 as its first transaction, which
puts it at ``settings.x402.asset``, and mints every account a million tokens. A node
that already holds the token's code is left as it is.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from web3 import Web3

from bundlestream.settings import Settings
from bundlestream.stack.node import NODE_DIR, install_node_packages
from bundlestream.stack.process import ServiceError, wait_until
from bundlestream.stack.service import STACK_FILES, UrlService

TOKEN_SOURCE = STACK_FILES / "evm" / "LocalUSDC.sol"
TOKEN_CONTRACT = "LocalUSDC"
# A million tokens of 6 decimals per development account.
MINT_PER_ACCOUNT = 1_000_000 * 10**6
NODE_WAIT_S = 120


class EvmNode(UrlService):
    """hardhat's JSON-RPC node on the host and port of ``x402.evm_rpc_url``."""

    name = "evm"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.x402.evm_rpc_url, 8545)

    def install(self) -> None:
        install_node_packages(self.settings.stack.cache_dir)

    def start(self) -> None:
        argv, env = hardhat_node(self.host, self.port, self.settings.x402.chain_id)
        self.process.spawn(argv, env=env, cwd=NODE_DIR)

    def is_ready(self) -> bool:
        try:
            return self.web3().eth.chain_id == self.settings.x402.chain_id
        except (OSError, ValueError):
            return False

    def after_ready(self) -> None:
        deploy_token(self.web3(), self.settings, compiled_token(self.settings.stack.dir))

    def web3(self) -> Web3:
        return Web3(Web3.HTTPProvider(self.settings.x402.evm_rpc_url, {"timeout": 5}))


def hardhat_node(host: str, port: int, chain_id: int) -> tuple[list[str], dict[str, str]]:
    """argv and environment of ``hardhat node`` on ``host:port`` (run in ``NODE_DIR``)."""
    cli = str(NODE_DIR / "node_modules" / "hardhat" / "internal" / "cli" / "cli.js")
    config = str(NODE_DIR / "hardhat.config.js")
    argv = ["node", cli, "node", "--config", config, "--hostname", host, "--port", str(port)]
    env = {"BUNDLESTREAM_X402_CHAIN_ID": str(chain_id), "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true"}
    return argv, env


def compiled_token(stack_dir: Path) -> dict[str, Any]:
    """``{abi, bytecode}`` of the token, compiled once per source text."""
    source = TOKEN_SOURCE.read_bytes()
    out = stack_dir / "evm" / f"{TOKEN_CONTRACT}-{hashlib.sha256(source).hexdigest()[:16]}.json"
    if not out.exists():
        script = str(NODE_DIR / "compile-contract.js")
        result = subprocess.run(
            ["node", script, str(TOKEN_SOURCE), TOKEN_CONTRACT],
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            raise ServiceError(f"solc failed:\n{result.stderr.decode(errors='replace')}")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(result.stdout)
    compiled: dict[str, Any] = json.loads(out.read_bytes())
    return compiled


def deploy_token(w3: Web3, settings: Settings, compiled: dict[str, Any]) -> None:
    """Deploy the token from the node's first (unlocked) account, unless it is there."""
    asset = Web3.to_checksum_address(settings.x402.asset)
    if w3.eth.get_code(asset):
        return
    accounts = w3.eth.accounts
    contract = w3.eth.contract(abi=compiled["abi"], bytecode=compiled["bytecode"])
    tx = contract.constructor(
        settings.x402.asset_name, settings.x402.asset_version, accounts, MINT_PER_ACCOUNT
    ).transact({"from": accounts[0]})
    deployed = w3.eth.wait_for_transaction_receipt(tx, timeout=30)["contractAddress"]
    if deployed != asset:
        raise ServiceError(
            f"the token was deployed at {deployed}, not at BUNDLESTREAM_X402_ASSET={asset}: "
            "the node's first account had sent transactions before"
        )


def run_token(args: argparse.Namespace, settings: Settings) -> int:
    """``bundlestream stack token COMPILED``: once the node at ``x402.evm_rpc_url``
    answers, deploy the token compiled in COMPILED (``{abi, bytecode}``, the output of
    ``stack/node/compile-contract.js``). docker-compose.yml runs it: its node and its
    compiler live in other containers."""
    node = EvmNode(settings)
    if not wait_until(node.is_ready, NODE_WAIT_S, interval_s=1.0):
        rpc = settings.x402.evm_rpc_url
        print(f"no EVM node with chain id {settings.x402.chain_id} at {rpc}", flush=True)
        return 1
    deploy_token(node.web3(), settings, json.loads(Path(args.compiled).read_bytes()))
    print(f"token at {settings.x402.asset} on {settings.x402.evm_rpc_url}", flush=True)
    return 0
