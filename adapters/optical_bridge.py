"""The optical bridge port on httpx: ``POST`` a JSON array of signed data item headers to
one AR.IO gateway URL. Transport failures and non-2xx answers become
``OpticalPostError``; the caller decides whether to retry."""

import httpx

from bundlestream.adapters.arweave_gateway import retry_after
from bundlestream.core.optical import PUBLIC_KEY_HEADER


class OpticalPostError(Exception):
    """The gateway did not answer, or answered with an error status."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class OpticalBridge:
    """Posts headers signed by one key; share one instance per process (it pools
    connections). ``public_key`` is the signing key's base64url modulus."""

    def __init__(self, public_key: str, timeout_s: float = 10.0) -> None:
        self._client = httpx.AsyncClient(
            timeout=timeout_s,
            headers={PUBLIC_KEY_HEADER: public_key, "content-type": "application/json"},
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def post(self, url: str, body: bytes) -> None:
        """Deliver ``body`` (``core.optical.optical_body``) to ``url``."""
        try:
            response = await self._client.post(url, content=body)
        except httpx.HTTPError as exc:
            raise OpticalPostError(f"POST {url}: {exc!r}") from exc
        if not 200 <= response.status_code < 300:
            raise OpticalPostError(
                f"POST {url}: {response.status_code} {response.text[:200]!r}",
                retry_after(response),
            )
