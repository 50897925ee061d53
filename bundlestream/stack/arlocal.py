"""arlocal, the local Arweave node simulator, on loopback at ``gateway_url``."""

from __future__ import annotations

import signal
from urllib.parse import urlsplit

import httpx

from bundlestream.settings import Settings
from bundlestream.stack.node import NODE_DIR, install_node_packages
from bundlestream.stack.process import ServiceProcess


class Arlocal:
    """arlocal with a persistent sqlite chain under the stack directory."""

    name = "arlocal"
    stop_signal = signal.SIGTERM

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        url = urlsplit(settings.arweave.gateway_url)
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or 1984

    @property
    def process(self) -> ServiceProcess:
        return ServiceProcess(self.name, self.settings.stack.dir)

    def ports(self) -> list[tuple[str, int]]:
        return [(self.host, self.port)]

    def install(self) -> None:
        install_node_packages(self.settings.stack.cache_dir)

    def start(self) -> None:
        home = self.settings.stack.dir / "arlocal"
        home.mkdir(parents=True, exist_ok=True)
        # arlocal joins --dbpath onto its working directory, so it runs inside ``home``.
        self.process.spawn(
            [
                "node",
                str(NODE_DIR / "arlocal-loopback.js"),
                self.host,
                str(self.port),
                "--persist",
                "--dbpath",
                "db",
            ],
            cwd=home,
        )

    def is_ready(self) -> bool:
        try:
            return (
                httpx.get(f"{self.settings.arweave.gateway_url}/info", timeout=2).status_code == 200
            )
        except httpx.HTTPError:
            return False

    def after_ready(self) -> None:
        """Nothing to create: arlocal starts with its genesis state."""
