"""x402 payment latency: the facilitator's /verify and /settle, and a whole paid upload,
p50/p99, beside the EIP-712 signing rate of this machine measured in the same run.

Run on purpose against a running stack (``bundlestream stack up``: the hardhat node, its
LocalUSDC token and the local facilitator), on the defaults a user gets:
``.venv/bin/python bench/bench_x402.py [--payments 50]``. Each payment is a fresh
EIP-3009 authorization from a development account, signed with the x402 SDK's v1 exact
scheme; /verify simulates the transfer on the node, /settle sends it (hardhat mines one
block per transaction). The paid uploads go through an API served in this process with
the SDK's x402 httpx client (a 402, then the paid retry), 1 KiB items on the x402 route
and 600 KiB items (above the default free tier) on ``/v1/tx``, where the 402 comes from
the balance path and carries the requirements; the unfunded ``/v1/tx`` 402 alone is
timed too. The ceiling is
signing itself: EIP-712 TransferWithAuthorization signatures per second with
eth-account, one core.
"""

import argparse
import asyncio
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_console import percentiles
from bundlestream.adapters.x402_facilitator import Facilitator
from bundlestream.settings import Settings
from tests.api.upload_harness import serve, signed_item
from tests.api.x402_harness import decode, payer, paying_client, payment_header

ROUTE = "/v1/x402/data-item/signed"
TX_ROUTE = "/v1/tx"
# Above the default free tier (505 KiB): a /v1/tx upload of this size is paid.
TX_ITEM_BYTES = 600 * 1024


def signing_rate(seconds: float, accepts: dict[str, object]) -> float:
    account, count, start = payer(3), 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        payment_header(account, accepts)
        count += 1
    return count / (time.perf_counter() - start)


async def facilitator_latency(
    settings: Settings, accepts: dict[str, object], n: int
) -> tuple[list[float], list[float]]:
    facilitator = Facilitator(settings.x402.facilitator_url, settings.x402.facilitator_timeout_s)
    verify_s: list[float] = []
    settle_s: list[float] = []
    try:
        for _ in range(n):
            document = decode(payment_header(payer(4), accepts))
            start = time.perf_counter()
            verdict = await facilitator.verify(document, accepts)
            verify_s.append(time.perf_counter() - start)
            assert verdict.is_valid, verdict
            start = time.perf_counter()
            settled = await facilitator.settle(document, accepts)
            settle_s.append(time.perf_counter() - start)
            assert settled.success, settled
    finally:
        await facilitator.aclose()
    return verify_s, settle_s


async def upload_latency(
    settings: Settings, n: int, route: str = ROUTE, size: int = 1024
) -> tuple[list[float], list[float]]:
    """(paid uploads, unfunded 402s): seconds each, one at a time."""
    paid: list[float] = []
    unfunded: list[float] = []
    prefix = f"bench-x402-{time.time_ns()}-"
    async with (
        serve(settings.updated(kafka__topic_prefix=prefix)) as api,
        paying_client(api.settings, payer(5 if route == ROUTE else 6), api.url) as client,
        api.client() as plain,
    ):
        for seed in range(n):
            item = signed_item(size, seed=seed + 1)
            start = time.perf_counter()
            refused = await plain.post(route, content=item)
            unfunded.append(time.perf_counter() - start)
            assert refused.status_code == 402 and refused.json()["accepts"], refused.text
            start = time.perf_counter()
            answer = await client.post(route, content=item)
            paid.append(time.perf_counter() - start)
            assert answer.status_code == 200, answer.text
    return paid, unfunded


def accepts_of(settings: Settings) -> dict[str, object]:
    x = settings.x402
    return {
        "scheme": "exact",
        "network": x.network,
        "maxAmountRequired": "1000",
        "resource": f"{x.public_url}{ROUTE}",
        "payTo": x.pay_to,
        "maxTimeoutSeconds": x.max_timeout_s,
        "asset": x.asset,
        "extra": {"name": x.asset_name, "version": x.asset_version},
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=50)
    args = parser.parse_args()
    settings = Settings()
    accepts = accepts_of(settings)
    rate = signing_rate(3.0, accepts)
    verify_s, settle_s = await facilitator_latency(settings, accepts, args.payments)
    uploads, _ = await upload_latency(settings, args.payments)
    tx_uploads, tx_402 = await upload_latency(settings, args.payments, TX_ROUTE, TX_ITEM_BYTES)
    print(f"ceiling: EIP-712 signing (eth-account, 1 core): {rate:8.0f} signatures/s")
    print(f"facilitator /verify:            {percentiles(verify_s)}")
    print(f"facilitator /settle:            {percentiles(settle_s)}")
    print(f"paid 1 KiB upload (402 + retry): {percentiles(uploads)}")
    print(f"  uploads/s one at a time: {len(uploads) / sum(uploads):.1f}")
    print(f"/v1/tx unfunded 600 KiB, the x402 402: {percentiles(tx_402)}")
    print(f"/v1/tx paid 600 KiB (402 + retry):     {percentiles(tx_uploads)}")
    print(f"  uploads/s one at a time: {len(tx_uploads) / sum(tx_uploads):.1f}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (client + API): {peak_mib:.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
