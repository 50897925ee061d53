"""x402 payment latency: the facilitator's /verify and /settle, and a whole paid upload,
p50/p99, beside the EIP-712 signing rate of this machine measured in the same run.

Run on purpose against a running stack (``bundlestream stack up``: the hardhat node, its
LocalUSDC token and the local facilitator), on the defaults a user gets:
``.venv/bin/python bench/bench_x402.py [--payments 50]``. Each payment is a fresh
EIP-3009 authorization from a development account, signed with the x402 SDK's v1 exact
scheme; /verify simulates the transfer on the node, /settle sends it (hardhat mines one
block per transaction). The paid uploads go through an API served in this process with
the SDK's x402 httpx client (a 402, then the paid retry), 1 KiB items. The ceiling is
signing itself: EIP-712 TransferWithAuthorization signatures per second with
eth-account, one core.
"""

import argparse
import asyncio
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


async def upload_latency(settings: Settings, n: int) -> list[float]:
    samples: list[float] = []
    prefix = f"bench-x402-{time.time_ns()}-"
    async with (
        serve(settings.updated(kafka__topic_prefix=prefix)) as api,
        paying_client(api.settings, payer(5), api.url) as client,
    ):
        for seed in range(n):
            item = signed_item(1024, seed=seed + 1)
            start = time.perf_counter()
            answer = await client.post(ROUTE, content=item)
            samples.append(time.perf_counter() - start)
            assert answer.status_code == 200, answer.text
    return samples


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
    uploads = await upload_latency(settings, args.payments)
    print(f"ceiling: EIP-712 signing (eth-account, 1 core): {rate:8.0f} signatures/s")
    print(f"facilitator /verify:            {percentiles(verify_s)}")
    print(f"facilitator /settle:            {percentiles(settle_s)}")
    print(f"paid 1 KiB upload (402 + retry): {percentiles(uploads)}")
    print(f"  uploads/s one at a time: {len(uploads) / sum(uploads):.1f}")


if __name__ == "__main__":
    asyncio.run(main())
