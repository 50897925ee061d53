"""Upload API load tests, reproducing the analysis of the old system (Tests 1-3).

Runs ``bundlestream api`` as ``make up`` does, on its defaults (``bench/api_process.py``),
against the stack the BUNDLESTREAM_* environment points at, on a fresh topic prefix and
object directory, and drives it with a small raw HTTP/1.1 client (open loop: requests
are sent on schedule whether or not earlier ones have answered, and latency counts from
the scheduled time, so a slow server cannot hide behind a slow client). With
``--workers`` or ``--key-bits`` the asked configuration runs after the defaults, and
both are printed.

  Test 2  signed 1 KiB items at 200/s for 10 s, then rising rates until the API stops
          keeping up: accepted/s, p50/p95/p99, status histogram, API CPU and RSS,
          beside the RSA receipt-signing rate measured in the same run.
  Test 1  one large item (10 GiB in the full run), then 20 concurrent 1 GiB items:
          MB/s beside uvicorn receiving the same bytes with an inline SHA-384, API RSS
          growth (``bench/large_uploads.py``).
  Test 3  4 concurrent 1 GiB items while 1,000 signed 1 KiB items are uploaded by 50
          clients: every status, small p99, large aggregate MB/s beside the ceiling.

  .venv/bin/python bench/bench_upload.py [--tests 2,1,3] [--large-gib 10] [--workers N]
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import large_uploads
from bench.api_process import ApiProcess, CeilingProcess, Sampler
from bench.signed_items import ed25519_items, signed_items
from bench.upload_client import GiB, PhaseResult, open_loop
from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.adapters.receipt_key import generate_jwk
from bundlestream.core.ans104.signing import (
    ArweaveSigner,
)
from bundlestream.core.jwk import arweave_key_from_jwk
from bundlestream.core.receipts import sign_receipt
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout

# ---------------------------------------------------------------- the tests

TABLE_HEAD = (
    "| offered/s | accepted/s | p50 ms | p95 ms | p99 ms | statuses | API CPU | API RSS MiB "
    "| API CPU ms/upload |"
)


def signing_rate(key_path: Path, seconds: float = 2.0) -> float:
    key = arweave_key_from_jwk(json.loads(key_path.read_text()))
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        sign_receipt(
            key,
            id="x" * 43,
            deadline_height=1,
            timestamp=n,
            winc="0",
            data_caches=[],
            fast_finality_indexes=[],
            owner="y" * 43,
        )
        n += 1
    return n / (time.perf_counter() - t0)


async def test2(api: ApiProcess, items: Iterator[bytes], rates: list[float]) -> list[PhaseResult]:
    """200/s for 10 s (the analysis' rate), then rising rates for 5 s each until one is not
    sustained (accepted < 95 % of offered, or p99 over 2 s)."""
    results = []
    for rate, seconds in [(200.0, 10.0), *((r, 5.0) for r in sorted(rates))]:
        async with Sampler(api) as sampler:
            result = await open_loop(api.url, items, rate, seconds)
        result.cpu, result.peak_rss = sampler.cpu, sampler.peak_rss
        print(result.row(), flush=True)
        results.append(result)
        if seconds == 5.0 and not sustained(result):
            break
    ramp = [r for r in results[1:] if sustained(r)]
    best = max((r.rate for r in ramp), default=0.0)
    print(f"highest rate sustained: {best:.0f}/s", flush=True)
    return results


def sustained(result: PhaseResult) -> bool:
    return result.accepted_per_s >= 0.95 * result.rate and result.pct(0.99) <= 2000


def configurations(
    args: argparse.Namespace, settings: Settings
) -> list[tuple[str, Settings, int | None]]:
    """The defaults, and the configuration asked for beside them when it differs."""
    default = ("defaults", settings, None)
    if args.workers is None and args.key_bits == settings.arweave.receipt_key_size:
        return [default]
    asked = settings.updated(arweave__receipt_key_size=args.key_bits)
    name = f"API_WORKERS={args.workers or 'default'} RECEIPT_KEY_SIZE={args.key_bits}"
    return [default, (name, asked, args.workers)]


async def run_tests(args: argparse.Namespace, api: ApiProcess, ceiling: ApiProcess) -> None:
    signer = ArweaveSigner(arweave_key_from_jwk(generate_jwk(4096)))
    key_bits = api.settings.arweave.receipt_key_size
    rate = signing_rate(api.settings.arweave.receipt_key_path)
    print(f"RSA-{key_bits} receipt signing (one thread, this process): {rate:.0f}/s", flush=True)
    for test in args.tests.split(","):
        if test == "2":
            cache = Path(tempfile.gettempdir()) / "bench-upload-items.bin"
            items = iter(signed_items(args.items, cache))
            print(TABLE_HEAD)
            print("| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
            await test2(api, items, [float(r) for r in args.rates.split(",")])
        elif test == "1":
            size = int(args.large_gib * GiB)
            print("Test 1:", await large_uploads.test1(api, ceiling, size, signer), flush=True)
            if args.many:
                size = int(args.many_gib * GiB)
                many = await large_uploads.test1_concurrent(api, ceiling, args.many, size, signer)
                print("Test 1, concurrent:", many, flush=True)
        elif test == "3":
            small = ed25519_items(20000)
            size = int(args.test3_gib * GiB)
            print(
                "Test 3:", await large_uploads.test3(api, ceiling, size, signer, small), flush=True
            )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--workers", type=int, default=None, help="API processes (default: make up's)"
    )
    parser.add_argument("--large-gib", type=float, default=10.0)
    parser.add_argument("--many", type=int, default=20, help="Test 1's concurrent 1 GiB items")
    parser.add_argument("--many-gib", type=float, default=1.0)
    parser.add_argument("--test3-gib", type=float, default=1.0)
    parser.add_argument("--rates", default="50,100,150,250,300,400,500,600,800")
    parser.add_argument("--tests", default="2,1,3", help="which tests, in order")
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--key-bits", type=int, default=4096, help="receipt key size")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    base = Settings()
    settings = base.updated(
        kafka__topic_prefix=f"bench-{uuid.uuid4().hex[:8]}-",
        object_store__dir=workdir / "objects",
        arweave__receipt_key_path=workdir / "receipt-key.json",
        api__port=base.api.port + 100,
    )
    create_topics(kafka_connection(settings), topic_layout(settings))
    print(
        f"commit {_commit()}  cores {os.cpu_count()}  load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    (workdir / "objects").mkdir()
    ceiling = CeilingProcess(settings.updated(api__port=base.api.port + 101))
    async with ceiling:
        for name, config, workers in configurations(args, settings):
            print(f"-- {name}", flush=True)
            async with ApiProcess(config, workers) as api:
                await run_tests(args, api, ceiling)
    print(f"load average at the end {os.getloadavg()[0]:.1f}", flush=True)
    subprocess.run(["rm", "-rf", str(workdir)], check=False)


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip()


if __name__ == "__main__":
    asyncio.run(main())
