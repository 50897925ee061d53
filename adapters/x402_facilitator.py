"""An x402 facilitator over HTTP (``/verify``, ``/settle``), through the x402 SDK's client.

The SDK's ``HTTPFacilitatorClient`` speaks the wire format; this port adds only our
error types: a facilitator that cannot be reached, times out or answers other than 200
raises ``FacilitatorUnavailable`` (the upload answers 503), while a verdict — valid or
not, settled or not — is returned as the SDK's response.
"""

from collections.abc import Awaitable
from typing import Any, TypeVar

import httpx
from x402.http import FacilitatorConfig, HTTPFacilitatorClient
from x402.schemas import SettleResponse, VerifyResponse
from x402.schemas.v1 import PaymentPayloadV1, PaymentRequirementsV1

Verdict = TypeVar("Verdict", VerifyResponse, SettleResponse)


class FacilitatorUnavailable(Exception):
    """The facilitator gave no verdict (down, slow, or an error answer)."""


class Facilitator:
    """One facilitator at ``url``; ``aclose`` when done."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self._client = HTTPFacilitatorClient(FacilitatorConfig(url=url, timeout=timeout_s))

    async def verify(self, payment: dict[str, Any], requirements: dict[str, Any]) -> VerifyResponse:
        payload, required = _models(payment, requirements)
        return await _answered("verify", self._client.verify(payload, required))

    async def settle(self, payment: dict[str, Any], requirements: dict[str, Any]) -> SettleResponse:
        payload, required = _models(payment, requirements)
        return await _answered("settle", self._client.settle(payload, required))

    async def aclose(self) -> None:
        await self._client.aclose()


async def _answered(operation: str, call: Awaitable[Verdict]) -> Verdict:
    """The facilitator's verdict; FacilitatorUnavailable when it gave none."""
    try:
        return await call
    except (httpx.HTTPError, ValueError) as exc:
        raise FacilitatorUnavailable(f"{operation}: {exc}") from exc


def _models(
    payment: dict[str, Any], requirements: dict[str, Any]
) -> tuple[PaymentPayloadV1, PaymentRequirementsV1]:
    return PaymentPayloadV1.model_validate(payment), PaymentRequirementsV1.model_validate(
        requirements
    )
