"""x402 end to end: the x402 SDK's client pays for a signed 1 KiB item, an unsigned
3 MiB payload and a 600 KiB item on /v1/tx (above the free tier: its 402 is the balance
path's) with USDC on the local node; the token moves by exactly the quotes, the
receipts verify, and every item ends FINALIZED in bundles arlocal mined."""

from __future__ import annotations

from pathlib import Path

import httpx
from pipeline_checks import assert_exactly_once, wait_all_confirmed, wait_finalized
from pipeline_harness import pipeline_settings, running_pipeline

from bundlestream.core.receipts import verify_receipt
from tests.api.upload_harness import signed_item
from tests.api.x402_harness import balances, payer, paying_client
from tests.bounds import HTTP_REQUEST_S

MiB = 1024 * 1024


async def test_paid_signed_and_unsigned_uploads_reach_finalized(tmp_path: Path) -> None:
    # The service wallet signs the unsigned item: type 1 wants a 4096-bit key.
    settings = pipeline_settings(tmp_path, arweave__receipt_key_size=4096)
    account = payer(8)
    payload = bytes(range(256)) * (3 * MiB // 256)
    tags = {"x-data-item-tags": '[{"name": "App-Name", "value": "x402-e2e"}]', "X-Tag-Kind": "t"}
    async with running_pipeline(settings, projector=True) as run:
        quotes = []
        async with (
            paying_client(settings, account, run.api_url) as client,
            httpx.AsyncClient(base_url=run.api_url, timeout=HTTP_REQUEST_S) as plain,
        ):
            for route, body, headers in (
                ("/v1/x402/data-item/signed", signed_item(1024, seed=91), {}),
                ("/v1/x402/data-item/unsigned", payload, tags),
                ("/v1/tx", signed_item(600 * 1024, seed=92), {}),
            ):
                unpaid = await plain.post(route, content=body, headers=headers)
                assert unpaid.status_code == 402, unpaid.text
                quote = int(unpaid.json()["accepts"][0]["maxAmountRequired"])
                before = balances(settings, account)
                answer = await client.post(route, content=body, headers=headers)
                assert answer.status_code == 200, answer.text
                after = balances(settings, account)
                quotes.append((answer.json(), quote, before[0] - after[0]))
        ids = [receipt["id"] for receipt, *_ in quotes]
        for receipt, quote, paid in quotes:
            assert verify_receipt({k: v for k, v in receipt.items() if k != "x402Payment"})
            assert paid == quote == int(receipt["x402Payment"]["usdcAmount"])
        await wait_all_confirmed(run.log, ids, 600)
        assert_exactly_once(run.log, ids)
        await wait_finalized(run.api_url, ids, 300)
