"""The local x402 facilitator (``bundlestream facilitator``) as a stack service."""

from __future__ import annotations

from bundlestream.settings import Settings
from bundlestream.stack.service import UrlService, answers_ok, bundlestream_command


class Facilitator(UrlService):
    """Verifies and settles x402 payments on the local EVM node; started after it, and
    ready when ``GET /supported`` answers."""

    name = "facilitator"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, settings.x402.facilitator_url, 8546)

    def start(self) -> None:
        self.process.spawn(bundlestream_command("facilitator"))

    def is_ready(self) -> bool:
        return answers_ok(f"{self.settings.x402.facilitator_url}/supported")
