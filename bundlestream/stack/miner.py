"""The local miner: asks arlocal to mine a block every ``arlocal_mine_interval_s`` seconds.

arlocal only mines on request (GET /mine); without this, posted bundles would never
gain confirmations and nothing would reach permanence in local mode. Runs as its own
detached process, ``bundlestream stack miner``, started and stopped with the stack.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

import httpx

from bundlestream.settings import Settings
from bundlestream.stack.service import StackService, bundlestream_command


class Miner(StackService):
    """The miner process as a stack service (part of this package: nothing to install);
    ready as soon as it runs."""

    name = "miner"

    def start(self) -> None:
        self.process.spawn(
            bundlestream_command("stack", "miner"),
            env={
                "BUNDLESTREAM_GATEWAY_URL": self.settings.arweave.gateway_url,
                "BUNDLESTREAM_ARLOCAL_MINE_INTERVAL_S": str(
                    self.settings.stack.arlocal_mine_interval_s
                ),
            },
        )


def mine_once(client: httpx.Client, gateway_url: str) -> bool:
    """Ask the gateway for one block; False (and a log line) when it does not answer."""
    try:
        response = client.get(f"{gateway_url}/mine")
    except httpx.HTTPError as exc:
        print(f"mine failed: {exc!r}", file=sys.stderr)
        return False
    return response.status_code == 200


def mine_until(stop: threading.Event, gateway_url: str, interval_s: float) -> None:
    """Mine every ``interval_s`` seconds until ``stop`` is set."""
    with httpx.Client(timeout=10) as client:
        while not stop.wait(interval_s):
            mine_once(client, gateway_url)


def run_miner(args: argparse.Namespace, settings: Settings) -> int:
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    print(
        f"mining {settings.arweave.gateway_url} every {settings.stack.arlocal_mine_interval_s}s",
        flush=True,
    )
    mine_until(stop, settings.arweave.gateway_url, settings.stack.arlocal_mine_interval_s)
    return 0
