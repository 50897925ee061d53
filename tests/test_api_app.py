"""The API app answers /health, in process and as the real ``bundlestream api`` server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from bundlestream.adapters.filesystem import FilesystemObjectStore
from bundlestream.api.app import create_app

from bundlestream.settings import Settings
from tests.ports import PORT_ATTEMPTS, child_ports, port_taken

# How long the server may take to come up: a bound for a loaded machine, not a timing.
START_DEADLINE_S = 180.0


async def test_health_under_both_prefixes(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings.model_copy(update={"object_store_dir": tmp_path}))
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
