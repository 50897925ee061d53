"""The upload API as its own process for the benchmarks, and its CPU and RSS.

``bundlestream api``, as ``make up`` starts it (its supervisor, our HTTP protocol, its
access log, ``api_workers`` processes), on the settings given; the bench sets only
where it writes (a topic prefix, an object directory, a receipt key, a port) and a free
tier that covers its large items. CPU and RSS are read from /proc for the process and
all of its descendants (the uvicorn workers). ``CeilingProcess`` is the same uvicorn
receiving bodies with an inline SHA-384 and nothing else: the ceiling beside it.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bundlestream.settings import Settings

GiB = 1024 * 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]
BUNDLESTREAM = str(Path(sys.executable).with_name("bundlestream"))


@dataclass
class ApiProcess:
    settings: Settings
    # API processes; None: the default (``BUNDLESTREAM_API_WORKERS`` unset).
    workers: int | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.api.port}"

    def env(self) -> dict[str, str]:
        s = self.settings
        env = {
            **os.environ,
            "BUNDLESTREAM_TOPIC_PREFIX": s.kafka.topic_prefix,
            "BUNDLESTREAM_OBJECT_STORE_DIR": str(s.object_store.dir),
            "BUNDLESTREAM_RECEIPT_KEY_PATH": str(s.arweave.receipt_key_path),
            "BUNDLESTREAM_FREE_UPLOAD_LIMIT_BYTES": str(1 << 50),  # no balances to fund
            "BUNDLESTREAM_API_PORT": str(s.api.port),
            "BUNDLESTREAM_RECEIPT_KEY_SIZE": str(s.arweave.receipt_key_size),
        }
        if self.workers is not None:
            env["BUNDLESTREAM_API_WORKERS"] = str(self.workers)
        return env

    def argv(self) -> list[str]:
        return [BUNDLESTREAM, "api"]

    async def ready(self, client: httpx.AsyncClient) -> bool:
        info = await client.get("/info")
        return info.status_code == 200 and info.json().get("blockHeight") is not None

    async def __aenter__(self) -> "ApiProcess":
        log = (self.settings.object_store.dir.parent / f"{type(self).__name__}.log").open("ab")
        self.process = subprocess.Popen(
            self.argv(), env=self.env(), cwd=ROOT, start_new_session=True, stdout=log, stderr=log
        )
        async with httpx.AsyncClient(base_url=self.url) as client:
            for _ in range(1200):
                with contextlib.suppress(httpx.TransportError):
                    if await self.ready(client):
                        await asyncio.sleep(2.0)  # every worker has its height too
                        return self
                await asyncio.sleep(0.1)
        raise RuntimeError("API did not start")

    async def __aexit__(self, *exc: object) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def pids(self) -> list[int]:
        assert self.process is not None
        return [self.process.pid, *_descendants(self.process.pid)]


def stack_pids(settings: Settings, service: str) -> list[int]:
    """A stack service's process and its descendants, from its pid file (none if the
    stack did not start it)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((settings.stack.dir / "run" / f"{service}.pid").read_text().split()[0])
        return [pid, *_descendants(pid)]
    return []


def _descendants(pid: int) -> list[int]:
    children: list[int] = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    children.append(int(entry.name))
    return [c for child in children for c in (child, *_descendants(child))]


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, StopIteration):
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
            line = next(x for x in status if x.startswith("VmRSS:"))
            total += int(line.split()[1]) * 1024
    return total


@dataclass
class Sampler:
    """API CPU and RSS sampled while a phase runs."""

    api: ApiProcess
    peak_rss: int = 0
    start_rss: int = 0
    cpu0: float = 0.0
    t0: float = 0.0
    task: "asyncio.Task[None] | None" = None

    async def __aenter__(self) -> "Sampler":
        self.start_rss = self.peak_rss = rss_bytes(self.api.pids())
        self.cpu0, self.t0 = cpu_seconds(self.api.pids()), time.monotonic()
        self.task = asyncio.create_task(self._sample())
        return self

    async def _sample(self) -> None:
        while True:
            self.peak_rss = max(self.peak_rss, rss_bytes(self.api.pids()))
            await asyncio.sleep(0.2)

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        self.elapsed = time.monotonic() - self.t0
        self.cpu = (cpu_seconds(self.api.pids()) - self.cpu0) / self.elapsed


@dataclass
class CeilingProcess(ApiProcess):
    """uvicorn serving ``bench/ceiling_app.py``: receive and SHA-384, nothing else."""

    def argv(self) -> list[str]:
        return [
            *(sys.executable, "-m", "uvicorn", "bench.ceiling_app:app", "--no-access-log"),
            *("--host", "127.0.0.1", "--port", str(self.settings.api.port)),
        ]

    async def ready(self, client: httpx.AsyncClient) -> bool:
        return (await client.get("/")).status_code == 200
