"""arlocal, the local Arweave node simulator, on loopback at ``gateway_url``."""

from __future__ import annotations

from bundlestream.settings import Settings
from bundlestream.stack.node import NODE_DIR, install_node_packages
from bundlestream.stack.service import UrlService, answers_ok


class Arlocal(UrlService):
    """arlocal with a persistent sqlite chain under the stack directory; nothing to
    create once ready: arlocal starts with its genesis state."""

    name = "arlocal"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.arweave.gateway_url, 1984)

    def install(self) -> None:
        install_node_packages(self.settings.stack.cache_dir)

    def start(self) -> None:
        home = self.settings.stack.dir / "arlocal"
        home.mkdir(parents=True, exist_ok=True)
        # arlocal joins --dbpath onto its working directory, so it runs inside ``home``.
        script = str(NODE_DIR / "arlocal-loopback.js")
        argv = ["node", script, self.host, str(self.port), "--persist", "--dbpath", "db"]
        self.process.spawn(argv, cwd=home)

    def is_ready(self) -> bool:
        return answers_ok(f"{self.settings.arweave.gateway_url}/info")
