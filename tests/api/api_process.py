"""The API as a real process (what production runs), for tests that kill it.

``ApiProcess`` starts a command with the test's settings in its BUNDLESTREAM_*
environment, waits for /health and the block height, and keeps its output in a file.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from bundlestream.settings import Settings


def uvicorn_command(port: int) -> list[str]:
    """One uvicorn process serving the app, as ``bundlestream api --supervised`` does."""
    app = "bundlestream.api.app:app_from_environment"
    return [sys.executable, "-m", "uvicorn", "--factory", app, "--port", str(port)]


def supervised_command() -> list[str]:
    """``bundlestream api``: the supervisor (its port comes from the environment)."""
    return [sys.executable, "-m", "bundlestream.cli", "api"]


def children(pid: int) -> list[int]:
    """The pids of ``pid``'s child processes (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment from which ``Settings()`` reads back these settings."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, list | dict):
            text = json.dumps(value)  # pydantic-settings reads complex fields as JSON
        else:
            text = str(value)
        env[f"BUNDLESTREAM_{name.upper()}"] = text
    return env


async def eventually(condition: Callable[[], bool], what: str, tries: int = 600) -> None:
    """Wait until ``condition()`` holds (checked every 0.1 s), or fail naming ``what``."""
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never: {what}")


class ApiProcess:
    """One started process serving ``settings`` on ``settings.api_port``."""

    def __init__(self, settings: Settings, command: Sequence[str], output: Path) -> None:
        self.settings = settings
        self.url = f"http://127.0.0.1:{settings.api_port}"
        self.output = output
        with output.open("ab") as sink:
            self.process = subprocess.Popen(
                command, env=settings_environment(settings), stdout=sink, stderr=subprocess.STDOUT
            )

    async def ready(self) -> None:
        """Until /health answers 200 and /info knows the block height."""
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            for _ in range(600):
                assert self.process.poll() is None, self.log()
                try:
                    info = await client.get("/info")
                    if info.status_code == 200 and info.json().get("blockHeight") is not None:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"API never became ready:\n{self.log()}")

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def kill(self) -> None:
        """kill -9: no shutdown code of ours runs."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()
