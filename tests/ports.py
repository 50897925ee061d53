"""Loopback ports for tests on a shared machine.

A port found free and then released can be taken by any process (an outgoing connection
picks ephemeral ports from the same range) before the test binds it again. So a server
run in process is handed a socket that is already listening, a port meant to refuse
connections stays bound for as long as it is used, and a child process that binds its own
port gets one the kernel never hands out on its own, and is started again on another one
when its port was taken first. Which free port a test gets never changes its outcome.
"""

from __future__ import annotations

import contextlib
import random
import socket
from collections.abc import Iterator
from pathlib import Path

# Tries of a child process that binds its own port: each fails only if another process
# took the port between our probe and the child's bind.
PORT_ATTEMPTS = 5
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
# Ports below this are left to services with well-known ports.
FIRST_CHILD_PORT = 20_000


def listening_socket() -> socket.socket:
    """A loopback TCP socket, listening on a port the kernel chose (uvicorn's ``sockets=``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port where every connection is refused while the block runs: bound but
    not listening (Linux answers a connect with a reset), so no other process can take it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield port_of(sock)


def child_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports, free a moment ago, for a child process that binds
    them itself. They lie below the kernel's ephemeral range, so no outgoing connection is
    handed one meanwhile; a process that binds one explicitly first makes the child fail,
    and the caller starts it again on others (``PORT_ATTEMPTS``, ``port_taken``)."""
    low = int(EPHEMERAL_RANGE.read_text().split()[0])
    chosen: list[socket.socket] = []
    try:
        for port in random.sample(range(FIRST_CHILD_PORT, low), low - FIRST_CHILD_PORT):
            with contextlib.suppress(OSError):
                chosen.append(bound(port))
            if len(chosen) == count:
                return [port_of(sock) for sock in chosen]
        raise RuntimeError(f"fewer than {count} free ports below {low}")
    finally:
        for sock in chosen:
            sock.close()


def bound(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock


def port_taken(log: str) -> bool:
    """Whether a child's log says that a port it was given was bound by someone else."""
    return "address already in use" in log.lower()
