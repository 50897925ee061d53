"""What every stack service offers to ``bundlestream stack up|down|status``."""

from __future__ import annotations

import signal
import socket
from pathlib import Path
from typing import Protocol

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
