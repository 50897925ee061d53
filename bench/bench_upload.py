"""Upload API load tests, reproducing the analysis of the old system (Tests 1-3).

Runs the API as its own process (uvicorn, N workers, access log off) against the stack
the BUNDLESTREAM_* environment points at, on a fresh topic prefix and object directory,
and drives it with a small raw HTTP/1.1 client (open loop: requests are sent on
schedule whether or not earlier ones have answered, and latency counts from the
scheduled time, so a slow server cannot hide behind a slow client).

  Test 2  signed 1 KiB items at 200/s for 10 s, then rising rates until the API stops
          keeping up: accepted/s, p50/p95/p99, status histogram, API CPU and RSS,
          beside the RSA receipt-signing rate measured in the same run.
  Test 1  one large item generated on the fly (10 GiB in the full run): MB/s beside
          hashlib SHA-384's rate over the same bytes, and API RSS growth.
  Test 3  4 large items streaming while 1 KiB items keep arriving: small-item p99.

  .venv/bin/python bench/bench_upload.py [--large-gib 10] [--workers 1] [--skip-large]
"""

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api_process import ApiProcess, Sampler
from bench.signed_items import BLOCK, ed25519_items, signed_items
from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.adapters.receipt_key import generate_jwk
from bundlestream.core.ans104 import Tag
from bundlestream.core.ans104.signing import (
    ArweaveSigner,
    sign_data_item_header,
)
from bundlestream.core.deephash import BlobHasher
from bundlestream.core.jwk import arweave_key_from_jwk
from bundlestream.core.receipts import sign_receipt
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout

MiB = 1024 * 1024
GiB = 1024 * MiB


# ---------------------------------------------------------------- raw HTTP/1.1 client


class Connection:
    """One keep-alive HTTP/1.1 connection; cheaper per request than a full client."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str) -> "Connection":
        host, port = url.removeprefix("http://").split(":")
        return cls(*await asyncio.open_connection(host, int(port), limit=1 << 20))

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.writer.write(_head(path, len(body)) + body)
        return await self.response()

    async def post_stream(
        self, path: str, size: int, chunks: AsyncIterator[bytes]
    ) -> tuple[int, bytes]:
        self.writer.write(_head(path, size))
        async for chunk in chunks:
            self.writer.write(chunk)
            await self.writer.drain()
        return await self.response()

    async def response(self) -> tuple[int, bytes]:
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def _head(path: str, size: int) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()


@dataclass
class PhaseResult:
    rate: float
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    cpu: float = 0.0
    peak_rss: int = 0
    wall: float = 0.0

    @property
    def accepted_per_s(self) -> float:
        return self.statuses[200] / self.wall if self.wall else 0.0

    @property
    def cpu_ms_per_upload(self) -> float:
        """API CPU time per accepted upload: the ceiling per core is 1000 / this."""
        return self.cpu * 1000 / self.accepted_per_s if self.accepted_per_s else float("nan")

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def row(self) -> str:
        hist = " ".join(f"{k}:{v}" for k, v in sorted(self.statuses.items()))
        return (
            f"| {self.rate:.0f} | {self.accepted_per_s:.0f} | {self.pct(0.5):.1f} | "
            f"{self.pct(0.95):.1f} | {self.pct(0.99):.1f} | {hist} | {self.cpu * 100:.0f} % | "
            f"{self.peak_rss / MiB:.0f} | {self.cpu_ms_per_upload:.1f} |"
        )


async def open_loop(
    url: str, items: Iterator[bytes], rate: float, seconds: float, connections: int = 256
) -> PhaseResult:
    """Send ``rate`` items/s for ``seconds`` on a pool of connections, open loop."""
    result = PhaseResult(rate, seconds)
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    pool = [await Connection.open(url) for _ in range(connections)]

    async def worker(conn: Connection) -> None:
        while (job := await queue.get()) is not None:
            due, body = job
            try:
                status, _ = await conn.post("/tx", body)
            except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
                status = 0
                with contextlib.suppress(OSError):
                    conn.close()
                conn = await Connection.open(url)
            result.latencies.append(time.monotonic() - due)
            result.statuses[status] += 1

    workers = [asyncio.create_task(worker(c)) for c in pool]
    start = time.monotonic()
    total = int(rate * seconds)
    for i in range(total):
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        queue.put_nowait((due, next(items)))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    result.wall = time.monotonic() - start
    for conn in pool:
        conn.close()
    return result


# ---------------------------------------------------------------- large items


@dataclass(frozen=True)
class LargeItem:
    header: bytes
    payload_size: int

    @property
    def size(self) -> int:
        return len(self.header) + self.payload_size


def payload_chunks(size: int) -> Iterator[bytes]:
    sent = 0
    while sent < size:
        n = min(MiB, size - sent)
        yield BLOCK if n == MiB else BLOCK[:n]
        sent += n


def large_item(size: int, signer: ArweaveSigner, nonce: int) -> tuple[LargeItem, float]:
    """Sign an item of exactly ``size`` bytes (header + generated payload); returns
    hashlib's MB/s measured while computing the payload's deep hash (SHA-384)."""
    tags = [Tag(b"Content-Type", b"application/octet-stream"), Tag(b"Nonce", str(nonce).encode())]
    payload_size = size - len(sign_data_item_header(signer, bytes(48), tags=tags))
    hasher = BlobHasher()
    t0 = time.perf_counter()
    for chunk in payload_chunks(payload_size):
        hasher.update(chunk)
    rate = payload_size / (time.perf_counter() - t0) / 1e6
    header = sign_data_item_header(signer, hasher.digest(), tags=tags)
    return LargeItem(header, payload_size), rate


async def item_chunks(item: LargeItem) -> AsyncIterator[bytes]:
    yield item.header
    for chunk in payload_chunks(item.payload_size):
        yield chunk


async def upload_large(url: str, item: LargeItem) -> tuple[int, float]:
    conn = await Connection.open(url)
    t0 = time.perf_counter()
    status, body = await conn.post_stream("/tx", item.size, item_chunks(item))
    elapsed = time.perf_counter() - t0
    conn.close()
    if status != 200:
        print(f"large upload answered {status}: {body[:200]!r}", flush=True)
    return status, item.size / elapsed / 1e6


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


async def test1(api: ApiProcess, size: int, signer: ArweaveSigner) -> dict[str, float]:
    item, sha_rate = large_item(size, signer, nonce=1)
    async with Sampler(api) as sampler:
        status, rate = await upload_large(api.url, item)
    return {
        "status": status,
        "MB/s": rate,
        "sha384 MB/s": sha_rate,
        "rss start MiB": sampler.start_rss / MiB,
        "rss peak MiB": sampler.peak_rss / MiB,
        "rss growth MiB": (sampler.peak_rss - sampler.start_rss) / MiB,
        "api cpu": sampler.cpu,
    }


async def test3(
    api: ApiProcess, size: int, signer: ArweaveSigner, items: Iterator[bytes], rate: float
) -> dict[str, object]:
    large = [large_item(size, signer, nonce=10 + i)[0] for i in range(4)]
    baseline = await open_loop(api.url, items, rate, 5.0, connections=64)
    async with Sampler(api) as sampler:
        streams = asyncio.gather(*(upload_large(api.url, item) for item in large))
        during = []
        while not streams.done():
            during.append(await open_loop(api.url, items, rate, 2.0, connections=64))
        uploads = await streams
    merged = PhaseResult(rate, 0)
    for phase in during:
        merged.latencies += phase.latencies
        merged.statuses += phase.statuses
    return {
        "baseline p50/p99 ms": (baseline.pct(0.5), baseline.pct(0.99)),
        "during p50/p99 ms": (merged.pct(0.5), merged.pct(0.99)),
        "small statuses": dict(merged.statuses),
        "large MB/s each": [round(r, 1) for _, r in uploads],
        "large statuses": [s for s, _ in uploads],
        "rss peak MiB": sampler.peak_rss / MiB,
        "api cpu": sampler.cpu,
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--large-gib", type=float, default=10.0)
    parser.add_argument("--test3-gib", type=float, default=1.0)
    parser.add_argument("--rates", default="50,100,150,250,300,400,500,600,800")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--tests", default="2,1,3", help="which tests, in order")
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--key-bits", type=int, default=4096, help="receipt key size")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    base = Settings()
    settings = base.updated(
        kafka__topic_prefix=f"bench-{uuid.uuid4().hex[:8]}-",
        object_store__dir=workdir / "objects",
        arweave__receipt_key_path=workdir / "receipt-key.json",
        api__port=base.api.port + 100,
        arweave__receipt_key_size=args.key_bits,
    )
    create_topics(kafka_connection(settings), topic_layout(settings))
    items = iter(signed_items(args.items, Path(tempfile.gettempdir()) / "bench-upload-items.bin"))
    signer = ArweaveSigner(arweave_key_from_jwk(generate_jwk(4096)))
    print(
        f"commit {_commit()}  workers {args.workers}  cores {os.cpu_count()}  "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    async with ApiProcess(settings, args.workers) as api:
        print(
            f"RSA-{args.key_bits} receipt signing (one thread, this process): "
            f"{signing_rate(settings.arweave.receipt_key_path):.0f}/s",
            flush=True,
        )
        for test in args.tests.split(","):
            if test == "2":
                print(TABLE_HEAD)
                print("| ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
                await test2(api, items, rates)
            elif test == "1" and not args.skip_large:
                print("Test 1:", await test1(api, int(args.large_gib * GiB), signer), flush=True)
            elif test == "3" and not args.skip_large:
                small = ed25519_items(20000)
                result = await test3(api, int(args.test3_gib * GiB), signer, small, 50.0)
                print("Test 3:", result, flush=True)
        print(f"load average at the end {os.getloadavg()[0]:.1f}", flush=True)
    subprocess.run(["rm", "-rf", str(workdir)], check=False)


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip()


if __name__ == "__main__":
    asyncio.run(main())
