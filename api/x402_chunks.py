"""x402 for chunked uploads, as turbo-sdk 1.43 pays for them: when the upload is created.

The SDK opens a paid upload with ``GET /chunks/{token}/-1/-1?chunkSize=N&totalBytes=T``
through x402-fetch: a 402 names the price of a T-byte item, and the retry carries
``X-PAYMENT``. The create verifies that payment (every check of an x402 upload, the
facilitator's ``/verify`` included) and keeps it with the session; nothing is settled
then. The finalize verifies it again, for an assembled item that must be exactly T
bytes, and it is settled as on every x402 route: once the item is durable, before its
event and receipt. So money moves only for an item that is kept. The requirements ask
for an authorization valid ``X402_CHUNKED_MAX_TIMEOUT_S``, long enough to reach the
finalize.
"""

import json
from dataclasses import dataclass
from fractions import Fraction

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from bundlestream.adapters.multipart_sessions import Session
from bundlestream.api.chunked import PENDING
from bundlestream.api.context import ApiContext
from bundlestream.api.payments import OracleUnavailable
from bundlestream.api.request_numbers import decimal
from bundlestream.api.x402_payment import X402Gate, X402Upload
from bundlestream.api.x402_routes import (
    oracle_unavailable,
    quote,
    required_payment,
    verified_payment,
)

CHUNKS_ROUTE = "/v1/chunks"


@dataclass(frozen=True)
class DeclaredPayment:
    """The payment a chunked upload was created with, kept in its session."""

    header: str  # X-PAYMENT as sent
    usdc: int  # the quote it was verified against
    ar_usd: Fraction  # the rate of that quote (the credit is computed at it)
    total_bytes: int

    def encoded(self) -> str:
        rate = f"{self.ar_usd.numerator}/{self.ar_usd.denominator}"
        fields = {"header": self.header, "usdc": self.usdc, "arUsd": rate}
        return json.dumps({**fields, "totalBytes": self.total_bytes})

    @staticmethod
    def decoded(text: str) -> "DeclaredPayment":
        fields = json.loads(text)
        return DeclaredPayment(
            fields["header"], fields["usdc"], Fraction(fields["arUsd"]), fields["totalBytes"]
        )


async def verified(request: Request, declared: DeclaredPayment) -> X402Upload | Response:
    """The declared payment, verified now; or the answer (402, 503) to give instead."""
    gate: X402Gate = request.state.x402
    timeout_s = gate.chunked_max_timeout_s
    return await verified_payment(
        request, declared.header, declared.usdc, declared.ar_usd, CHUNKS_ROUTE, timeout_s
    )


async def create_paid(request: Request, total_text: str, chunk_size: int | None) -> Response:
    """A chunked upload of ``total_text`` bytes, paid by the request: 402 with the
    requirements, or the session once ``X-PAYMENT`` is verified."""
    api: ApiContext = request.state.api
    gate: X402Gate = request.state.x402
    total, bounds = decimal(total_text), api.chunked.bounds
    if not total or total > api.upload.max_item_size:
        return PlainTextResponse("totalBytes must be a positive item size", status_code=400)
    if not bounds.min <= (chunk_size or bounds.default) <= bounds.max:
        return invalid_chunk_size(api)
    try:
        usdc, ar_usd = quote(request.state.payments, gate, total)
    except OracleUnavailable:
        return oracle_unavailable()
    header = required_payment(request, usdc, CHUNKS_ROUTE, gate.chunked_max_timeout_s)
    if isinstance(header, Response):
        return header
    declared = DeclaredPayment(header, usdc, ar_usd, total)
    authorized = await verified(request, declared)
    if isinstance(authorized, Response):
        return authorized
    created = await api.chunked.create(request.path_params["token"], chunk_size, declared.encoded())
    return invalid_chunk_size(api) if created is None else JSONResponse(created)


def invalid_chunk_size(api: ApiContext) -> Response:
    bounds = api.chunked.bounds
    body = {"error": "Invalid chunk size", "min": bounds.min, "max": bounds.max}
    return JSONResponse(body, status_code=400)


async def finalize_payment(request: Request, session: Session) -> X402Upload | Response | None:
    """The payment a finalize settles: the session's own, verified again for the item the
    chunks make; None when the session was not paid at create (or is already done)."""
    if session.payment is None or session.status not in PENDING:
        return None
    declared = DeclaredPayment.decoded(session.payment)
    api: ApiContext = request.state.api
    size = sum((await api.chunked.sessions.parts(session.upload_id)).values())
    if size != declared.total_bytes:
        message = f"The chunks hold {size} bytes; {declared.total_bytes} were paid for"
        return PlainTextResponse(message, status_code=400)
    return await verified(request, declared)
