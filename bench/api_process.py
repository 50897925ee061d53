"""The upload API as its own process for the benchmarks, and its CPU and RSS.

uvicorn with N workers and the access log off, on the settings given; CPU and RSS are
read from /proc for the process and all of its descendants (the uvicorn workers).
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


@dataclass
class ApiProcess:
    settings: Settings
    workers: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}"

    def env(self) -> dict[str, str]:
        s = self.settings
        return {
            **os.environ,
            "BUNDLESTREAM_TOPIC_PREFIX": s.topic_prefix,
            "BUNDLESTREAM_OBJECT_STORE_DIR": str(s.object_store_dir),
            "BUNDLESTREAM_RECEIPT_KEY_PATH": str(s.receipt_key_path),
            "BUNDLESTREAM_FREE_UPLOAD_LIMIT_BYTES": str(1 << 50),
            "BUNDLESTREAM_RATE_LIMIT_REQUESTS": "0",
            "BUNDLESTREAM_MAX_INFLIGHT_REQUESTS": "4096",
            "BUNDLESTREAM_MAX_INFLIGHT_BYTES": str(64 * GiB),
            "BUNDLESTREAM_API_PORT": str(s.api_port),
            "BUNDLESTREAM_RECEIPT_KEY_SIZE": str(s.receipt_key_size),
        }

    async def __aenter__(self) -> "ApiProcess":
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "bundlestream.api.app:app_from_environment",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.settings.api_port),
            "--workers",
            str(self.workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(argv, env=self.env(), start_new_session=True)
        async with httpx.AsyncClient(base_url=self.url) as client:
            for _ in range(600):
                with contextlib.suppress(httpx.TransportError):
                    info = await client.get("/info")
                    if info.status_code == 200 and info.json().get("blockHeight") is not None:
                        await asyncio.sleep(1.0)  # every worker has its height too
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
