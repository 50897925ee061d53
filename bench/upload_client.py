"""The upload benchmarks' client: a raw keep-alive HTTP/1.1 connection (cheaper per
request than a full client), open-loop and closed-loop load, and large signed items
generated on the fly and streamed."""

import asyncio
import contextlib
import functools
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from bench.signed_items import BLOCK
from bundlestream.core.ans104 import Tag
from bundlestream.core.ans104.signing import DataItemSigner, sign_data_item_header
from bundlestream.core.deephash import BlobHasher

MiB = 1024 * 1024
GiB = 1024 * MiB


# ---------------------------------------------------------------- raw HTTP/1.1 client


class Connection:
    """One keep-alive HTTP/1.1 connection; cheaper per request than a full client."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.closing = False

    @classmethod
    async def open(cls, url: str) -> "Connection":
        host, port = url.removeprefix("http://").split(":")
        return cls(*await asyncio.open_connection(host, int(port), limit=1 << 20))

    async def post(self, path: str, body: bytes, extra: str = "") -> tuple[int, bytes]:
        """POST ``body``; ``extra``: more header lines, each ending in CRLF."""
        self.writer.write(_head(path, len(body), extra) + body)
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
            if name.strip().lower() == b"connection" and value.strip().lower() == b"close":
                self.closing = True  # a refusal before the body: the server closes
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def _head(path: str, size: int, extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {size}\r\n{extra}\r\n"
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
                conn.closing = True
            if conn.closing:
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


def large_item(size: int, signer: DataItemSigner, nonce: int) -> tuple[LargeItem, float]:
    """Sign an item of exactly ``size`` bytes (header + generated payload); returns
    hashlib's MB/s measured while computing the payload's deep hash (SHA-384)."""
    tags = [Tag(b"Content-Type", b"application/octet-stream"), Tag(b"Nonce", str(nonce).encode())]
    payload_size = size - len(sign_data_item_header(signer, bytes(48), tags=tags))
    digest, rate = payload_digest(payload_size)
    header = sign_data_item_header(signer, digest, tags=tags)
    return LargeItem(header, payload_size), rate


@functools.cache
def payload_digest(payload_size: int) -> tuple[bytes, float]:
    """The deep hash of a generated payload (items differ by their Nonce tag only, so
    it is computed once per size) and hashlib's single-thread MB/s while computing it."""
    hasher = BlobHasher()
    t0 = time.perf_counter()
    for chunk in payload_chunks(payload_size):
        hasher.update(chunk)
    return hasher.digest(), payload_size / (time.perf_counter() - t0) / 1e6


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
