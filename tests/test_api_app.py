"""The API app answers /health, in process and as the real ``bundlestream api`` server."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from bundlestream.adapters.filesystem import FilesystemObjectStore
from bundlestream.adapters.object_store import ObjectStoreError
from bundlestream.api.app import create_app
from bundlestream.settings import Settings
from tests.ports import PORT_ATTEMPTS, child_ports, port_taken

# How long the server may take to come up: a bound for a loaded machine, not a timing.
START_DEADLINE_S = 180.0


async def test_health_under_both_prefixes(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings.updated(object_store__dir=tmp_path))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as client,
    ):
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/v1/health")).text == "OK"
        assert isinstance(app.state.object_store, FilesystemObjectStore)


def test_bundlestream_api_serves_health(tmp_path: Path) -> None:
    for _ in range(PORT_ATTEMPTS):
        [port] = child_ports(1)
        status, output = health_of_api_on(port, tmp_path)
        if not port_taken(output):
            break
    assert status == 200, output


def health_of_api_on(port: int, tmp_path: Path) -> tuple[int | None, str]:
    """Start ``bundlestream api`` on ``port``; the /health status once it answers (None if
    it exited first) and everything it printed."""
    env = {
        **os.environ,
        "BUNDLESTREAM_API_PORT": str(port),
        "BUNDLESTREAM_OBJECT_STORE_DIR": str(tmp_path),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bundlestream.cli", "api"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    status = None
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while server.poll() is None and time.monotonic() < deadline:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/health", timeout=30).status_code
                break
            except httpx.TransportError:
                time.sleep(0.25)
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=120)
    return status, output.decode(errors="replace")


def producer_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "kafka-producer"}


def height_refreshers() -> list[asyncio.Task[object]]:
    running = asyncio.all_tasks()
    return [t for t in running if getattr(t.get_coro(), "__qualname__", "") == "BlockHeight.run"]


async def test_a_start_up_that_fails_half_way_closes_what_it_opened(
    settings: Settings, tmp_path: Path
) -> None:
    """The object store opens after the producer (its poll thread) and the block-height
    refresher (a task); when boto3 refuses the S3 endpoint, both are stopped again."""
    broken = settings.updated(
        object_store__backend="s3",
        object_store__s3_endpoint="not a url",
        object_store__dir=tmp_path,
    )
    app = create_app(broken)
    threads_before = producer_threads()
    with pytest.raises(ObjectStoreError, match="not a url"):
        async with app.router.lifespan_context(app):
            pytest.fail("the lifespan started with an invalid S3 endpoint")
    assert not [t for t in producer_threads() - threads_before if t.is_alive()]
    assert height_refreshers() == []
