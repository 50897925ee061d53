"""Loopback ports for tests on a shared machine.

A port found free and then released can be taken by any process (an outgoing connection
picks ephemeral ports from the same range) before the test binds it again. So a server
run in process is handed a socket that is already listening, a port meant to refuse
connections stays bound for as long as it is used, and a child process that binds its own
port is started again on another one when its port was taken first.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

# Tries of a child process that binds its own port: each fails only if another process
# took the port between our probe and the child's bind.
PORT_ATTEMPTS = 5


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


def probed_port() -> int:
    """A port free a moment ago, for a child process that binds it itself; the caller
    retries on another one when the child finds it taken (see ``PORT_ATTEMPTS``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return port_of(sock)
