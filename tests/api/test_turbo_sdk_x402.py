"""The real npm @ardrive/turbo-sdk 1.43 with ``token: 'base-usdc'`` against our API, the
hardhat node and the local facilitator: where its x402 routes match ours it pays (an
unsigned payload, chunked uploads paid at create), and the token balances move by
exactly what it paid (docs/api.md lists the differences).

The SDK signs x402 authorizations for the network our 402 names (its default wallet
client is on Base mainnet, but x402-fetch falls back to the first ``accepts`` entry and
signs with that entry's chain id), so no RPC is involved in paying; ``gatewayUrl`` (its
token tools' RPC) is the local node all the same.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from test_paid_uploads import ledger_log
from test_x402_uploads import wallet_4096
from upload_harness import MiB, RunningApi
from x402_harness import PAYER_KEYS, balances, payer

from bundlestream.core.ans104.parser import DataItemParser
from bundlestream.core.receipts import verify_receipt
from bundlestream.schemas import ledger_events as ev
from tests.node_steps import REPO, run_steps

pytestmark = [pytest.mark.stack, pytest.mark.node]

__all__ = ["wallet_4096"]  # a fixture
SCRIPT = REPO / "tests" / "node" / "turbo_x402_e2e.cjs"
PAYER = 11


async def run_sdk(api: RunningApi, key: str) -> dict[str, dict[str, Any]]:
    return await run_steps(SCRIPT, api.url, api.settings.x402.evm_rpc_url, key)


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
        api__rate_limit_requests=0,  # the SDK's chunks and status polls are many requests
    ) as api:
        before = balances(api.settings, account)
        steps = await run_sdk(api, PAYER_KEYS[PAYER])
        unsigned, chunked = steps["x402-unsigned"], steps["x402-chunked"]
        small = steps["x402-signed-chunked"]
        assert unsigned["ok"] and chunked["ok"] and small["ok"], (unsigned, chunked, small)
        receipt, big, forced = unsigned["receipt"], chunked["receipt"], small["receipt"]
        # HTTP first: the reads below block the loop this API is served on.
        chunked_quote = await quote(api, big["id"]) + await quote(api, forced["id"])
        after = balances(api.settings, account)
        events = {e.data_item_id: e for e in api.events()}
        tags = stored_item_tags(api, receipt["id"])
        charges = {
            e.data_item_id: e for e in ledger_log(api.settings) if isinstance(e, ev.UploadCharged)
        }
    assert steps["address"]["address"] == account.address
    # Unfunded on /v1/tx/base-usdc: the 402 the SDK reports carries the requirements.
    unfunded = steps["unfunded"]
    assert (unfunded["ok"], unfunded["status"]) == (False, 402)
    envelope = json.loads(unfunded["error"].split("(Status 402): ", 1)[1])
    assert envelope["accepts"][0]["resource"].endswith("/v1/tx")
    # uploadRawX402Data and the chunked uploads paid at create (11 MiB, and 1 KiB with
    # chunkingMode "force"): the token moved by exactly the three authorized amounts, and
    # each item is charged to the payer.
    paid = int(receipt["x402Payment"]["usdcAmount"]) + chunked_quote
    assert (before[0] - after[0], after[1] - before[1]) == (paid, paid)
    for r in (receipt, big, forced):
        assert verify_receipt({k: v for k, v in r.items() if k != "x402Payment"})
        assert (charges[r["id"]].address, charges[r["id"]].winc) == (account.address, r["winc"])
    assert events[receipt["id"]].payload_size == 3 * MiB
    assert events[big["id"]].payload_size == 11 * MiB
    assert events[forced["id"]].payload_size == 1024
    assert (b"App-Name", b"turbo-x402") in tags
    assert b"Content-Type" not in dict(tags)  # the SDK sends its payload without one
    # Where the SDK differs (docs/api.md): its single-request signed x402 upload sends
    # again a body stream the first, unpaid request consumed; nothing was paid for it.
    signed = steps["x402-signed"]
    assert signed["ok"] is False and "disturbed or locked" in signed["error"], signed
    assert len(events) == 3


async def quote(api: RunningApi, item_id: str) -> int:
    """What x402 asks for the item (its size from the status route)."""
    async with api.client() as client:
        status = await client.get(f"/v1/tx/{item_id}/status")
        size = status.json()["rawContentLength"]
        answer = await client.get(f"/v1/x402/price/3/unknown?bytes={size}")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["accepts"][0]["maxAmountRequired"])
