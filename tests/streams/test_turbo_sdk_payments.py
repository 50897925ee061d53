"""The real npm @ardrive/turbo-sdk 1.43 pays for storage with AR and with ETH, end to end.

An arweave JWK with ``gatewayUrl`` arlocal, or an Ethereum private key (token
``ethereum``) with ``gatewayUrl`` the local hardhat node's RPC URL (the SDK's
EthereumToken sends the transfer there with ethers and polls it there); both service
URLs our API; the whole pipeline runs (API, a worker with the top-ups stage, the
projector the balance route reads): quotes, a balance, a 12 MiB upload refused
unfunded, ``topUpWithTokens`` credited after the confirmations, a 12 MiB chunked upload
whose receipt's winc the balance then lost exactly, and the signed ``GET /v1/balance``
the SDK's signer makes.
"""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pipeline_harness import pipeline_settings, running_pipeline

from bundlestream.core.ledger import fold
from bundlestream.schemas import ledger_events as ev
from tests.node_steps import REPO, run_steps

pytestmark = [pytest.mark.stack, pytest.mark.node]

SCRIPT = REPO / "tests" / "node" / "turbo_payments_e2e.cjs"


async def run_sdk(api_url: str, gateway_url: str, token: str) -> dict[str, dict[str, Any]]:
    return await run_steps(SCRIPT, api_url, gateway_url, token)


@pytest.mark.parametrize("token", ["arweave", "ethereum"])
async def test_the_turbo_sdk_tops_up_and_pays_for_a_chunked_upload(
    tmp_path: Path, token: str
) -> None:
    settings = pipeline_settings(tmp_path, payments__top_up_poll_s=0.5)
    chain_url = settings.arweave.gateway_url if token == "arweave" else settings.x402.evm_rpc_url
    async with running_pipeline(settings, projector=True) as p:
        steps = await run_sdk(p.api_url, chain_url, token)
        await asyncio.to_thread(p.log.poll, 1.0)
        ledger = [e for _, e in p.log.events if isinstance(e, ev.LEDGER_EVENT_TYPES)]
    assert int(steps["costs"]["winc"]) > 0
    assert steps["balance-unfunded"]["winc"] == "0"
    assert steps["unfunded-upload"]["refused"] is True
    assert steps["unfunded-upload"]["status"] == 402
    top_up = steps["top-up"]
    assert top_up["status"] in ("pending", "confirmed") and int(top_up["winc"]) > 0
    funded, charged = int(steps["balance-funded"]["winc"]), int(steps["paid-upload"]["winc"])
    assert funded == int(top_up["winc"])
    assert 0 < charged <= funded
    assert int(steps["balance-after"]["winc"]) == funded - charged
    signed = steps["signed-balance"]
    assert (signed["status"], int(signed["winc"])) == (200, funded - charged)
    assert steps["wallet"]["address"] == signed["address"]
    credited = [e for e in ledger if isinstance(e, ev.TopUpConfirmed)]
    assert {(e.transaction_id.lower(), e.token) for e in credited} == {
        (top_up["id"].lower(), token)
    }
    assert fold(ledger).balance(signed["address"]) == funded - charged
