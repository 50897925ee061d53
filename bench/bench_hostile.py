"""Small uploads beside hostile connections, against the API of a running stack.

Targets the API that ``make up`` (``bundlestream stack up --app``) started, at the
BUNDLESTREAM_* settings' ``api_port``, on its defaults. Two phases, same run, same
client:

  ceiling  signed 1 KiB items (RSA-4096, as bench_upload's Test 2), ``--uploads`` of
           them with ``--concurrency`` in flight, nothing else connected;
  hostile  the same, while another client keeps ``--idle`` connections open that send
           nothing or half a header (re-opened whenever the server closes one, as a
           hostile client would) and one upload declaring 10 GiB that sent 1 KiB and
           stalls (re-sent when dropped).

Prints, per phase: status histogram, p50/p99/max latency, the API process' RSS and open
descriptors; and how often the server closed a hostile connection.

  .venv/bin/python bench/bench_hostile.py [--uploads 1500] [--concurrency 4] [--idle 1000]
"""

import argparse
import asyncio
import contextlib
import json
import resource
import statistics
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from api_process import rss_bytes
from signed_items import signed_items

from bundlestream.settings import Settings

OCTET = {"Content-Type": "application/octet-stream"}
TEN_GIB = 10 * 1024**3


def listening_pid(port: int) -> int:
    """The process whose socket listens on ``port`` (read from /proc, no tools needed)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for row in Path(table).read_text().splitlines()[1:]:
                cols = row.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{cols[9]}]")
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if any(str(fd.readlink()) in inodes for fd in (proc / "fd").iterdir()):
                    return int(proc.name)
    raise RuntimeError(f"nothing listens on port {port}: is the stack up with --app?")


def open_fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


# ---------------------------------------------------------------- the hostile client


@dataclass
class Hostile:
    host: str
    port: int
    idle: int
    reopened: Counter[str] = field(default_factory=Counter)
    tasks: list["asyncio.Task[None]"] = field(default_factory=list)

    async def __aenter__(self) -> "Hostile":
        for i in range(self.idle):
            kind = "half-header" if i % 2 else "silent"
            self.tasks.append(asyncio.create_task(self._hold(kind)))
        self.tasks.append(asyncio.create_task(self._hold("stalled-10GiB")))
        await asyncio.sleep(2.0)  # let every connection be accepted before measuring
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def opening(self, kind: str) -> bytes:
        if kind == "silent":
            return b""
        if kind == "half-header":
            return b"POST /tx HTTP/1.1\r\nHost: x\r\nContent-Ty"
        head = (
            "POST /tx HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {TEN_GIB}\r\n\r\n"
        )
        return head.encode() + b"\0" * 1024

    async def _hold(self, kind: str) -> None:
        """Keep one connection of this kind open for ever; count the server's closes."""
        first = True
        while True:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                await asyncio.sleep(0.5)
                continue
            if not first:
                self.reopened[kind] += 1
            first = False
            try:
                writer.write(self.opening(kind))
                await writer.drain()
                await reader.read()  # until the server closes it
            except OSError:
                pass
            finally:
                writer.close()


# ---------------------------------------------------------------- the measured client


@dataclass
class Phase:
    name: str
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    rss: int = 0
    fds: int = 0

    def summary(self) -> dict[str, object]:
        q = statistics.quantiles(self.latencies, n=100)
        return {
            "phase": self.name,
            "statuses": dict(self.statuses),
            "p50_ms": round(statistics.median(self.latencies) * 1000, 1),
            "p99_ms": round(q[98] * 1000, 1),
            "max_ms": round(max(self.latencies) * 1000, 1),
            "api_rss_mib": round(self.rss / 2**20, 1),
            "api_open_fds": self.fds,
        }


async def upload_all(url: str, items: list[bytes], concurrency: int, phase: Phase) -> None:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            item = queue.get_nowait()
            started = time.perf_counter()
            try:
                status = (await client.post("/tx", content=item, headers=OCTET)).status_code
            except httpx.HTTPError:
                status = 0  # transport failure: counted, not hidden
            phase.latencies.append(time.perf_counter() - started)
            phase.statuses[status] += 1

    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))


async def measure(args: argparse.Namespace) -> list[dict[str, object]]:
    settings = Settings()
    host, port = settings.api.host, settings.api.port
    url = f"http://{host}:{port}"
    pid = listening_pid(port)
    cache = Path(tempfile.gettempdir()) / f"bench-hostile-{uuid.uuid4().hex}.bin"
    try:
        items = signed_items(2 * args.uploads, cache)  # fresh: no upload is a duplicate
    finally:
        cache.unlink(missing_ok=True)
    ceiling = Phase("ceiling")
    await upload_all(url, items[: args.uploads], args.concurrency, ceiling)
    ceiling.rss, ceiling.fds = rss_bytes([pid]), open_fds(pid)
    hostile = Phase(f"hostile ({args.idle} idle + 1 stalled 10 GiB)")
    async with Hostile(host, port, args.idle) as holder:
        await upload_all(url, items[args.uploads :], args.concurrency, hostile)
        hostile.rss, hostile.fds = rss_bytes([pid]), open_fds(pid)
        closes = dict(holder.reopened)
    return [ceiling.summary(), hostile.summary(), {"server_closed_hostile": closes}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--idle", type=int, default=1000)
    args = parser.parse_args()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 1,000+ client sockets
    for row in asyncio.run(measure(args)):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
