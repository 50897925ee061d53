"""``bundlestream facilitator``: the local x402 facilitator, verifying and settling on the
EVM node at ``x402.evm_rpc_url``.

The protocol is the x402 SDK's (PyPI ``x402``): its ``x402FacilitatorSync`` routes an
``exact`` payment of x402 version 1 on ``x402.network`` to the SDK's EIP-3009 mechanism,
which checks the authorization (recipient, amount, validity window, EIP-712 signature,
a simulated ``transferWithAuthorization``) and settles it by sending that call from the
facilitator key's account. This module is only its HTTP face, the routes every x402
facilitator serves: ``POST /verify``, ``POST /settle``, ``GET /supported``.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from x402 import x402FacilitatorSync
from x402.mechanisms.evm import FacilitatorWeb3Signer
from x402.mechanisms.evm.exact.v1.facilitator import ExactEvmSchemeV1
from x402.schemas.v1 import PaymentPayloadV1, PaymentRequirementsV1

from bundlestream.settings import Settings


def facilitator_of(settings: Settings) -> x402FacilitatorSync:
    """The SDK's facilitator for ``exact`` payments on the configured network."""
    signer = FacilitatorWeb3Signer(
        private_key=settings.x402.facilitator_key.get_secret_value(),
        rpc_url=settings.x402.evm_rpc_url,
    )
    facilitator = x402FacilitatorSync()
    facilitator.register_v1([settings.x402.network], ExactEvmSchemeV1(signer))
    return facilitator


def _parsed(body: Any) -> tuple[PaymentPayloadV1, PaymentRequirementsV1]:
    if not isinstance(body, dict) or body.get("x402Version") != 1:
        raise ValueError("x402Version 1 is the version served here")
    payload = PaymentPayloadV1.model_validate(body.get("paymentPayload"))
    return payload, PaymentRequirementsV1.model_validate(body.get("paymentRequirements"))


def create_facilitator_app(facilitator: x402FacilitatorSync) -> Starlette:
    """The HTTP routes around ``facilitator``; the SDK's calls are blocking (web3), so
    each runs in a worker thread."""

    async def call(request: Request, operation: str) -> JSONResponse | PlainTextResponse:
        try:
            payload, requirements = _parsed(await request.json())
        except (ValueError, ValidationError) as exc:
            return PlainTextResponse(f"invalid {operation} request: {exc}", status_code=400)
        method = facilitator.verify if operation == "verify" else facilitator.settle
        result = await run_in_threadpool(method, payload, requirements)
        return JSONResponse(result.model_dump(by_alias=True, exclude_none=True))

    async def verify(request: Request) -> JSONResponse | PlainTextResponse:
        return await call(request, "verify")

    async def settle(request: Request) -> JSONResponse | PlainTextResponse:
        return await call(request, "settle")

    async def supported(request: Request) -> JSONResponse:
        kinds = facilitator.get_supported().model_dump(by_alias=True, exclude_none=True)
        return JSONResponse(kinds)

    return Starlette(
        routes=[
            Route("/verify", verify, methods=["POST"]),
            Route("/settle", settle, methods=["POST"]),
            Route("/supported", supported, methods=["GET"]),
        ]
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the facilitator on the host and port of ``x402.facilitator_url``."""
    host, port = facilitator_address(settings.x402.facilitator_url)
    app = create_facilitator_app(facilitator_of(settings))
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


def facilitator_address(url: str) -> tuple[str, int]:
    """Host and port a facilitator URL names (port 80 when it names none)."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    subparsers.add_parser(
        "facilitator", help="the local x402 facilitator (verify and settle on the EVM node)"
    ).set_defaults(run=run)
