"""The analysis' Tests 1 and 3: large items, each beside a ceiling measured in the same
run on the same bytes (``CeilingProcess``: uvicorn receiving them with an inline
SHA-384 and nothing else), with the API's RSS growth.

  Test 1   one large item (10 GiB in the full run), then 20 concurrent 1 GiB items.
  Test 3   4 concurrent 1 GiB items while 1,000 signed 1 KiB items are uploaded by 50
           concurrent clients: every status, small p50/p99, large aggregate MB/s.
"""

import asyncio
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from bench.api_process import ApiProcess, Sampler
from bench.upload_client import Connection, LargeItem, MiB, large_item, upload_large
from bundlestream.core.ans104.signing import DataItemSigner


def forget_objects(api: ApiProcess) -> None:
    """Delete what a test stored, so the next starts on the same free disk."""
    shutil.rmtree(Path(api.settings.object_store.dir) / "raw", ignore_errors=True)


async def concurrently(url: str, items: list[LargeItem]) -> tuple[list[int], float]:
    """Upload ``items`` at once; their statuses and the aggregate MB/s."""
    t0 = time.perf_counter()
    results = await asyncio.gather(*(upload_large(url, item) for item in items))
    seconds = time.perf_counter() - t0
    return [status for status, _ in results], sum(i.size for i in items) / seconds / 1e6


async def test1(
    api: ApiProcess, ceiling: ApiProcess, size: int, signer: DataItemSigner
) -> dict[str, object]:
    """One item of ``size`` bytes: the API's MB/s beside the ceiling's, RSS growth."""
    item, sha_rate = large_item(size, signer, nonce=1)
    _, ceiling_rate = await upload_large(ceiling.url, item)
    async with Sampler(api) as sampler:
        status, rate = await upload_large(api.url, item)
    forget_objects(api)
    return {
        "GiB": size / 1024**3,
        "status": status,
        "MB/s": round(rate),
        "ceiling MB/s (uvicorn + inline SHA-384)": round(ceiling_rate),
        "of ceiling": f"{rate / ceiling_rate:.0%}",
        "hashlib SHA-384 MB/s (one thread)": round(sha_rate),
        "API RSS start MiB": round(sampler.start_rss / MiB),
        "API RSS growth MiB": round((sampler.peak_rss - sampler.start_rss) / MiB),
        "API CPU (cores)": round(sampler.cpu, 2),
    }


async def test1_concurrent(
    api: ApiProcess, ceiling: ApiProcess, count: int, size: int, signer: DataItemSigner
) -> dict[str, object]:
    """``count`` items of ``size`` at once: all statuses, aggregate MB/s, RSS growth."""
    items = [large_item(size, signer, nonce=100 + i)[0] for i in range(count)]
    _, ceiling_rate = await concurrently(ceiling.url, items)
    async with Sampler(api) as sampler:
        statuses, rate = await concurrently(api.url, items)
    forget_objects(api)
    return {
        "items": f"{count} x {size / 1024**3:g} GiB",
        "statuses": dict(Counter(statuses)),
        "aggregate MB/s": round(rate),
        "ceiling aggregate MB/s": round(ceiling_rate),
        "API RSS start MiB": round(sampler.start_rss / MiB),
        "API RSS growth MiB": round((sampler.peak_rss - sampler.start_rss) / MiB),
        "API CPU (cores)": round(sampler.cpu, 2),
    }


async def closed_loop(
    url: str, items: Iterator[bytes], count: int, clients: int
) -> tuple[list[float], Counter[int]]:
    """``count`` uploads by ``clients`` keep-alive clients, each sending its next as soon
    as the last is answered; every latency and status."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    bodies = [next(items) for _ in range(count)]

    async def client() -> None:
        conn = await Connection.open(url)
        while bodies:
            body = bodies.pop()
            t0 = time.perf_counter()
            status, _ = await conn.post("/tx", body)
            latencies.append(time.perf_counter() - t0)
            statuses[status] += 1
            if conn.closing:  # a refusal before the body closes the connection
                conn.close()
                conn = await Connection.open(url)
        conn.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, statuses


def percentile_ms(latencies: list[float], q: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def test3(
    api: ApiProcess, ceiling: ApiProcess, size: int, signer: DataItemSigner, small: Iterator[bytes]
) -> dict[str, object]:
    """4 items of ``size`` streaming while 1,000 small ones go through 50 clients."""
    large = [large_item(size, signer, nonce=10 + i)[0] for i in range(4)]
    _, ceiling_rate = await concurrently(ceiling.url, large)
    alone, _ = await closed_loop(api.url, small, 1000, 50)
    async with Sampler(api) as sampler:
        streams = asyncio.create_task(concurrently(api.url, large))
        await asyncio.sleep(1.0)  # the large bodies are streaming
        latencies, statuses = await closed_loop(api.url, small, 1000, 50)
        large_statuses, rate = await streams
    forget_objects(api)
    return {
        "large statuses": large_statuses,
        "small statuses": dict(statuses),
        "small p50/p99 ms alone": (
            round(percentile_ms(alone, 0.5)),
            round(percentile_ms(alone, 0.99)),
        ),
        "small p50/p99 ms during": (
            round(percentile_ms(latencies, 0.5)),
            round(percentile_ms(latencies, 0.99)),
        ),
        "large aggregate MB/s": round(rate),
        "ceiling aggregate MB/s (4 streams)": round(ceiling_rate),
        "API RSS growth MiB": round((sampler.peak_rss - sampler.start_rss) / MiB),
        "API CPU (cores)": round(sampler.cpu, 2),
    }
