"""The gateway's storage price, cached and refreshed in the background.

Upstream fetched ``/price/10737418240`` with a 15-minute cache (PAYMENTS.md §2); here a
background task refreshes the cached value, so a price quote or a paid upload only
reads memory and a slow gateway slows nothing (the pattern of ``block_height``).
"""

import asyncio
import logging

import httpx

log = logging.getLogger(__name__)

# Upstream prices 10 GiB and scales linearly (PAYMENTS.md §2, step 1).
REFERENCE_BYTES = 10 * 1024**3


class GatewayPrice:
    """Winc the gateway asks for ``REFERENCE_BYTES``; None until the first answer."""

    def __init__(self, client: httpx.AsyncClient, gateway_url: str, refresh_s: float) -> None:
        self._client = client
        self._url = f"{gateway_url.rstrip('/')}/price/{REFERENCE_BYTES}"
        self._refresh_s = refresh_s
        self._winc: int | None = None

    def current(self) -> int | None:
        """The cached price (never a remote call)."""
        return self._winc

    async def refresh(self) -> None:
        """Fetch the price once; keep the previous value when the gateway fails."""
        try:
            response = await self._client.get(self._url, timeout=10.0)
            response.raise_for_status()
            winc = int(response.text.strip())
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("price refresh from %s failed: %s", self._url, exc)
            return
        if winc < 0:
            log.warning("price refresh from %s: negative price %d ignored", self._url, winc)
            return
        self._winc = winc

    async def run(self) -> None:
        """Refresh forever (cancel to stop); quicker retries until a first value exists."""
        while True:
            await self.refresh()
            delay = self._refresh_s if self._winc is not None else min(1.0, self._refresh_s)
            await asyncio.sleep(delay)
