"""The current Arweave block height, cached and refreshed in the background.

Receipts promise inclusion by ``height + margin``. Upstream asked the gateway for the
height on every upload, so a slow gateway slowed every upload; here a background task
refreshes a cached value and uploads only read it.
"""

import asyncio
import logging

import httpx

log = logging.getLogger(__name__)


class BlockHeight:
    """Last height seen at ``{gateway}/info``; None until the first answer."""

    def __init__(self, client: httpx.AsyncClient, gateway_url: str, refresh_s: float) -> None:
        self._client = client
        self._url = gateway_url.rstrip("/") + "/info"
        self._refresh_s = refresh_s
        self._height: int | None = None

    def current(self) -> int | None:
        """The cached height (never a remote call)."""
        return self._height

    async def refresh(self) -> None:
        """Fetch the height once; keep the previous value when the gateway fails."""
        try:
            response = await self._client.get(self._url, timeout=10.0)
            response.raise_for_status()
            height = int(response.json()["height"])
        except (httpx.HTTPError, KeyError, ValueError, TypeError) as exc:
            log.warning("block height refresh from %s failed: %s", self._url, exc)
            return
        self._height = max(height, self._height or 0)

    async def run(self) -> None:
        """Refresh forever (cancel to stop); quicker retries until a first value exists."""
        while True:
            await self.refresh()
            delay = self._refresh_s if self._height is not None else min(1.0, self._refresh_s)
            await asyncio.sleep(delay)
