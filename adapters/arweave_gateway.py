"""The Arweave gateway port on httpx: price, anchor, height, post a transaction, chunks,
status. Transport failures and unexpected answers become our own error types; a caller
decides whether to retry (``GatewayError.retry_after_s`` carries a 429's Retry-After).
"""

from collections.abc import Callable
from typing import Any

import httpx

from bundlestream.adapters.chain import ChainUnavailable
from bundlestream.core.confirmation import TxStatus
from bundlestream.core.encoding import b64url_decode
from bundlestream.core.jwk import owner_address
from bundlestream.core.top_ups import Transfer


class GatewayError(ChainUnavailable):
    """The gateway did not answer, or answered with an error status."""

    def __init__(self, message: str, status: int | None = None, retry_after_s: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


# Told of each failed request: its method, the first segment of its path (``tx``,
# ``chunk``, ...) and the answer's status (None: no answer).
ErrorObserver = Callable[[str, str, int | None], None]


def _ignore(method: str, route: str, status: int | None) -> None:
    return None


class ArweaveGateway:
    """One gateway base URL; share one instance per process (it pools connections).

    ``on_error`` hears of every request that raises ``GatewayError`` (a 404 a caller
    expects too), before it is raised.
    """

    def __init__(
        self, base_url: str, timeout_s: float = 30.0, on_error: ErrorObserver = _ignore
    ) -> None:
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self._on_error = on_error

    async def close(self) -> None:
        await self._client.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        route = path.strip("/").split("/")[0]
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self._on_error(method, route, None)
            raise GatewayError(f"{method} {path}: {exc!r}") from exc
        if response.status_code >= 400:
            self._on_error(method, route, response.status_code)
            raise GatewayError(
                f"{method} {path}: {response.status_code} {response.text[:200]!r}",
                response.status_code,
                retry_after(response),
            )
        return response

    async def price(self, data_size: int) -> int:
        """Winston to store ``data_size`` bytes (``GET /price/{bytes}``)."""
        return int((await self._request("GET", f"/price/{data_size}")).text)

    async def tx_anchor(self) -> str:
        """A recent block hash to anchor a transaction (``GET /tx_anchor``)."""
        return (await self._request("GET", "/tx_anchor")).text.strip()

    async def height(self) -> int:
        """The gateway's current block height (``GET /info``)."""
        return int((await self._request("GET", "/info")).json()["height"])

    async def block_height(self, block_hash: str) -> int | None:
        """Height of the block ``block_hash``, or None when the gateway does not know it."""
        try:
            response = await self._request("GET", f"/block/hash/{block_hash}")
            return int(response.json()["height"])
        except (GatewayError, ValueError, KeyError, TypeError):
            return None

    async def post_tx(self, tx_json: bytes) -> None:
        """``POST /tx``; GatewayError on any refusal (the caller checks if it is known)."""
        headers = {"content-type": "application/json"}
        await self._request("POST", "/tx", content=tx_json, headers=headers)

    async def post_chunk(self, body: dict[str, str]) -> None:
        """``POST /chunk`` with a chunk, its proof and its transaction's data_root."""
        await self._request("POST", "/chunk", json=body)

    async def tx_status(self, tx_id: str) -> TxStatus:
        """``GET /tx/{id}/status``: unknown (404), pending (202 or a text body), or mined."""
        try:
            response = await self._request("GET", f"/tx/{tx_id}/status")
        except GatewayError as exc:
            if exc.status == 404:
                return TxStatus(known=False)
            raise
        try:
            body = response.json()
        except ValueError:
            return TxStatus(known=True)  # "Pending"
        if not isinstance(body, dict) or "block_height" not in body:
            return TxStatus(known=True)
        return TxStatus(
            known=True,
            block_height=int(body["block_height"]),
            block_id=str(body["block_indep_hash"]),
            confirmations=int(body.get("number_of_confirmations", 0)),
        )

    async def transfer(self, tx_id: str) -> Transfer | None:
        """The AR transfer of ``tx_id`` (``GET /tx/{id}`` and its status), None when the
        gateway does not know it; its sender is the address of the transaction's owner."""
        try:
            response = await self._request("GET", f"/tx/{tx_id}")
        except GatewayError as exc:
            if exc.status in (404, 410):
                return None
            raise
        try:
            tx = response.json()
            sender = owner_address(b64url_decode(str(tx["owner"])))
            recipient, quantity = str(tx.get("target") or ""), int(tx.get("quantity") or 0)
        except (ValueError, KeyError, TypeError) as exc:
            raise GatewayError(f"GET /tx/{tx_id}: not a transaction: {exc!r}") from exc
        status = await self.tx_status(tx_id)
        return Transfer(
            "arweave", tx_id, sender, recipient, quantity, status.block_height, status.confirmations
        )

    async def balance(self, address: str) -> int:
        """Winston held by ``address`` (``GET /wallet/{address}/balance``)."""
        return int((await self._request("GET", f"/wallet/{address}/balance")).text)

    async def mint(self, address: str, winston: int) -> None:
        """arlocal only: credit ``address`` (``GET /mint/{address}/{amount}``)."""
        await self._request("GET", f"/mint/{address}/{winston}")


def retry_after(response: httpx.Response) -> float | None:
    """Seconds a 429/503 asks to wait (``Retry-After`` in seconds), or None."""
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
