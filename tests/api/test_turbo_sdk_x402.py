"""The real npm @ardrive/turbo-sdk 1.43 with ``token: 'base-usdc'`` against our API, the
hardhat node and the local facilitator: where its x402 routes match ours it pays, and
the token balances move by exactly what it paid (docs/api.md lists the differences).

The SDK signs x402 authorizations for the network our 402 names (its default wallet
client is on Base mainnet, but x402-fetch falls back to the first ``accepts`` entry and
signs with that entry's chain id), so no RPC is involved in paying; ``gatewayUrl`` (its
token tools' RPC) is the local node all the same.
"""

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from test_x402_uploads import wallet_4096
from upload_harness import MiB, RunningApi
from x402_harness import PAYER_KEYS, balances, payer

from bundlestream.core.ans104.parser import DataItemParser
from bundlestream.core.receipts import verify_receipt

pytestmark = [pytest.mark.stack, pytest.mark.node]

__all__ = ["wallet_4096"]  # a fixture
REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / "stack" / "node" / "node_modules"
SCRIPT = REPO / "tests" / "node" / "turbo_x402_e2e.cjs"
PAYER = 11


async def run_sdk(api: RunningApi, key: str) -> dict[str, dict[str, Any]]:
    assert (NODE_MODULES / "@ardrive" / "turbo-sdk").is_dir(), "run make up (installs npm deps)"
    process = await asyncio.create_subprocess_exec(
        "node",
        str(SCRIPT),
        api.url,
        api.settings.x402.evm_rpc_url,
        key,
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, (out.decode() + err.decode())[-4000:]
    lines = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
    return {line["step"]: line for line in lines}


def stored_item_tags(api: RunningApi, item_id: str) -> list[tuple[bytes, bytes]]:
    stored = (api.settings.object_store.dir / "raw" / item_id).read_bytes()
    parser = DataItemParser(len(stored))
    parser.feed(stored)
    return [(t.name, t.value) for t in parser.finish().header.tags]


async def test_the_turbo_sdk_pays_with_x402_where_its_routes_match_ours(
    make_api: Any, wallet_4096: Path
) -> None:
    account = payer(PAYER)
    async with make_api(
        arweave__receipt_key_path=wallet_4096,
        arweave__receipt_key_size=4096,
        api__free_upload_limit_bytes=1024,
    ) as api:
        before = balances(api.settings, account)
        steps = await run_sdk(api, PAYER_KEYS[PAYER])
        after = balances(api.settings, account)
        events = {e.data_item_id: e for e in api.events()}
        unsigned = steps["x402-unsigned"]
        assert unsigned["ok"] is True, unsigned
        receipt = unsigned["receipt"]
        tags = stored_item_tags(api, receipt["id"])
    assert steps["address"]["address"] == account.address
    # Unfunded on /v1/tx/base-usdc: the 402 the SDK reports carries the requirements.
    unfunded = steps["unfunded"]
    assert (unfunded["ok"], unfunded["status"]) == (False, 402)
    envelope = json.loads(unfunded["error"].split("(Status 402): ", 1)[1])
    assert envelope["accepts"][0]["resource"].endswith("/v1/tx")
    # uploadRawX402Data: paid exactly the authorized amount, signed by the service.
    paid = int(receipt["x402Payment"]["usdcAmount"])
    assert (before[0] - after[0], after[1] - before[1]) == (paid, paid)
    assert verify_receipt({k: v for k, v in receipt.items() if k != "x402Payment"})
    assert events[receipt["id"]].payload_size == 3 * MiB
    assert (b"App-Name", b"turbo-x402") in tags
    # Where the SDK differs (docs/api.md): its signed x402 upload re-sends a request body
    # stream the first, unpaid request consumed; its chunked x402 upload expects to pay
    # at create. Neither paid anything (the balances moved by the unsigned upload only).
    signed, chunked = steps["x402-signed"], steps["x402-chunked"]
    assert signed["ok"] is False and "disturbed or locked" in signed["error"], signed
    assert (chunked["ok"], chunked["status"]) == (False, 402), chunked
    assert len(events) == 1
