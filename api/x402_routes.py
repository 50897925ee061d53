"""The x402 routes: pay per upload with an ``X-PAYMENT`` header (PAYMENTS.md §6).

``POST /x402/data-item/signed`` and ``/x402/upload/signed`` (also under /v1, where
turbo-sdk posts) take one signed data item; ``GET /v1/x402/price/:sigType/:address?bytes=N``
quotes. Content-Length is required (411 without it): the quote is for the declared
length, and the body must be exactly that long. Without a payment, or with one that does
not pay, the answer is 402 with the requirements; a facilitator that cannot be reached
makes these routes answer 503 and no other route.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from fractions import Fraction
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bundlestream.adapters.kafka_producer import EventProducer
from bundlestream.adapters.receipt_key import load_or_create_receipt_key
from bundlestream.adapters.request_nonces import RequestNonces
from bundlestream.adapters.x402_facilitator import Facilitator
from bundlestream.adapters.x402_settlements import X402Settlements
from bundlestream.api.context import ApiContext
from bundlestream.api.ingest import ingest
from bundlestream.api.outcomes import Accepted, Outcome
from bundlestream.api.payments import OracleUnavailable, Payments
from bundlestream.api.resources import redis_of
from bundlestream.api.responses import respond
from bundlestream.api.upload_routes import content_length, refuse_before_body
from bundlestream.api.x402_payment import Refusal402, X402Gate, X402Upload
from bundlestream.core import x402
from bundlestream.schemas.topics import LEDGER_EVENTS
from bundlestream.settings import Settings

SIGNED_ROUTE = "/v1/x402/data-item/signed"


def payment_required(refusal: Refusal402) -> Response:
    body = x402.payment_required(refusal.accepts, refusal.error)
    return JSONResponse(body, status_code=402, headers={"X-Payment-Required": "x402-1"})


def oracle_unavailable() -> Response:
    return PlainTextResponse("Pricing Oracle Unavailable", status_code=503)


def quote(payments: Payments, gate: X402Gate, byte_count: int) -> tuple[int, Any]:
    """(USDC base units, AR_USD) for an item of ``byte_count`` bytes."""
    winc = payments.bytes_quote(byte_count).winc
    ar_usd = payments.rate("arweave", "usd")
    return gate.quote(winc, ar_usd), ar_usd


async def price(request: Request) -> Response:
    """200 with the requirements for ``?bytes=N``, as upstream's price route answers."""
    text = request.query_params.get("bytes", "")
    if not text.isdigit():
        return PlainTextResponse("bytes must be a non-negative integer", status_code=400)
    gate: X402Gate = request.state.x402
    try:
        usdc, _ = quote(request.state.payments, gate, int(text))
    except OracleUnavailable:
        return oracle_unavailable()
    return JSONResponse(x402.payment_required(gate.accepts(usdc, SIGNED_ROUTE), ""))


async def authorize(
    request: Request, size: int, route: str = SIGNED_ROUTE
) -> X402Upload | Response:
    """The payment for ``size`` bytes, verified; or the response to give instead."""
    gate: X402Gate = request.state.x402
    try:
        usdc, ar_usd = quote(request.state.payments, gate, size)
    except OracleUnavailable:
        return oracle_unavailable()
    header = required_payment(request, usdc, route)
    if isinstance(header, Response):
        return header
    return await verified_payment(request, header, usdc, ar_usd, route)


def required_payment(
    request: Request, usdc: int, route: str, max_timeout_s: int | None = None
) -> str | Response:
    """The request's ``X-PAYMENT``, or the 402 that asks for ``usdc``."""
    header = request.headers.get("x-payment")
    if header is not None:
        return header
    gate: X402Gate = request.state.x402
    accepts = gate.accepts(usdc, route, max_timeout_s)
    return payment_required(Refusal402("X-PAYMENT header is required", accepts))


async def verified_payment(
    request: Request,
    header: str,
    usdc: int,
    ar_usd: Fraction,
    route: str,
    max_timeout_s: int | None = None,
) -> X402Upload | Response:
    """``header`` checked against the quote ``usdc`` (X402Gate.authorize); or the 402
    or 503 to answer instead."""
    gate: X402Gate = request.state.x402
    api: ApiContext = request.state.api
    admission = api.upload.admission
    authorized = await gate.authorize(header, usdc, ar_usd, admission, route, max_timeout_s)
    if isinstance(authorized, Refusal402):
        return payment_required(authorized)
    if isinstance(authorized, X402Upload):
        return authorized
    return respond(authorized, api.retry_after_s)


async def post_signed(request: Request) -> Response:
    return await post_paid(request, SIGNED_ROUTE)


async def post_paid(request: Request, route: str) -> Response:
    """One signed data item paid by the request's ``X-PAYMENT``, quoted for ``route``."""
    api: ApiContext = request.state.api
    size = content_length(request)
    if size is None:
        return PlainTextResponse("Content-Length is required", status_code=411)
    early = refuse_before_body(request, api.upload.max_item_size, 0)
    if early is not None:
        return respond(early, api.retry_after_s)
    authorized = await authorize(request, size, route)
    if not isinstance(authorized, X402Upload):
        return authorized
    try:
        outcome = await ingest(api.upload, request.stream(), size, payment=authorized)
    except ClientDisconnect:
        return Response(status_code=499)  # nothing settled, nothing kept
    return paid_response(outcome, authorized, api.retry_after_s)


def paid_response(
    outcome: Outcome, payment: X402Upload, retry_after_s: int, status: int = 200
) -> Response:
    """The receipt with ``x402Payment``, and ``X-Payment-Response``, as upstream."""
    if not isinstance(outcome, Accepted):
        return respond(outcome, retry_after_s)
    fields, header = payment.response_fields()
    body = {**outcome.receipt, "x402Payment": fields}
    return JSONResponse(body, status_code=status, headers={"X-Payment-Response": header})


def routes() -> list[Route]:
    """The signed-upload and price routes, at the root and under /v1."""
    return [
        *(
            Route(prefix + path, post_signed, methods=["POST"])
            for prefix in ("", "/v1")
            for path in ("/x402/data-item/signed", "/x402/upload/signed")
        ),
        *(
            Route(prefix + "/x402/price/{sig_type}/{address}", price, methods=["GET"])
            for prefix in ("", "/v1")
        ),
    ]


def token_of(settings: Settings) -> x402.Token:
    s = settings.x402
    return x402.Token(s.network, s.chain_id, s.asset, s.asset_name, s.asset_version)


@contextlib.asynccontextmanager
async def x402_api(settings: Settings, producer: EventProducer) -> AsyncIterator[dict[str, Any]]:
    """Open the facilitator client and the settlement record; yields ``{"x402": gate}``."""
    async with contextlib.AsyncExitStack() as stack:
        s = settings.x402
        facilitator = Facilitator(s.facilitator_url, s.facilitator_timeout_s)
        stack.push_async_callback(facilitator.aclose)
        redis = redis_of(settings)
        stack.push_async_callback(redis.aclose)
        gate = X402Gate(
            token=token_of(settings),
            pay_to=s.pay_to,
            facilitator=facilitator,
            settlements=X402Settlements(redis, settings.kafka.topic_prefix),
            producer=producer,
            ledger_topic=LEDGER_EVENTS.full_name(settings.kafka.topic_prefix),
            buffer_percent=s.pricing_buffer_percent,
            min_usdc=s.min_usdc,
            max_timeout_s=s.max_timeout_s,
            public_url=s.public_url,
            now=time.time,
            chunked_max_timeout_s=s.chunked_max_timeout_s,
        )
        wallet = await asyncio.to_thread(
            load_or_create_receipt_key,
            settings.arweave.receipt_key_path,
            settings.arweave.receipt_key_size,
        )
        nonces = RequestNonces(redis, settings.kafka.topic_prefix)
        yield {"x402": gate, "x402_wallet": wallet, "request_nonces": nonces}
