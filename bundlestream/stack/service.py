"""What every stack service offers to ``bundlestream stack up|down|status``."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import urlsplit

import httpx

from bundlestream.settings import Settings
from bundlestream.stack.process import ServiceProcess

# The tracked files of the stack (pom.xml, package.json) live beside the packages.
STACK_FILES = Path(__file__).resolve().parents[2] / "stack"


class Service(Protocol):
    """One detached service of the local stack.

    ``install`` is idempotent and skips work already done; ``start`` spawns the process
    (after any one-time initialisation of its data directory) without waiting;
    ``is_ready`` answers whether it serves requests now; ``after_ready`` creates what the
    application expects inside it (a database, a bucket) and is idempotent.
    """

    name: str
    stop_signal: signal.Signals

    @property
    def process(self) -> ServiceProcess: ...

    def ports(self) -> list[tuple[str, int]]:
        """The (host, port) pairs it listens on: they must be free before it starts."""
        ...

    def install(self) -> None: ...

    def start(self) -> None: ...

    def is_ready(self) -> bool: ...

    def after_ready(self) -> None: ...


def bundlestream_command(*args: str) -> list[str]:
    """argv running a ``bundlestream`` subcommand with this interpreter (no PATH lookup)."""
    return [sys.executable, "-u", "-m", "bundlestream.cli", *args]


class StackService:
    """What most services share: stopped with SIGTERM, a ``ServiceProcess`` named after
    the service under the stack directory, no ports, nothing to install or create, ready
    once its process runs. A service sets ``name``, writes ``start`` (mypy checks it
    against ``Service`` wherever it is used as one) and overrides the rest where it
    differs."""

    name: str
    stop_signal: signal.Signals = signal.SIGTERM

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def process(self) -> ServiceProcess:
        return ServiceProcess(self.name, self.settings.stack.dir)

    def ports(self) -> list[tuple[str, int]]:
        return []

    def install(self) -> None:
        """Nothing to install."""

    def is_ready(self) -> bool:
        return self.process.pid() is not None

    def after_ready(self) -> None:
        """Nothing to create."""


class UrlService(StackService):
    """A service that listens on the host and port of one of the settings' URLs."""

    def __init__(self, settings: Settings, url: str, default_port: int) -> None:
        super().__init__(settings)
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or default_port

    def ports(self) -> list[tuple[str, int]]:
        return [(self.host, self.port)]


def answers_ok(url: str, method: Literal["GET", "HEAD"] = "GET") -> bool:
    """True when ``url`` answers 200 within two seconds (a readiness probe)."""
    try:
        return httpx.request(method, url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def port_open(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def split_host_port(address: str) -> tuple[str, int]:
    """``"127.0.0.1:9092"`` → ``("127.0.0.1", 9092)``."""
    host, _, port = address.rpartition(":")
    return host, int(port)
