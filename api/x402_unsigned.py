"""Unsigned x402 uploads: the service signs a raw payload into a data item with its own
wallet (``POST /x402/data-item/unsigned``, as turbo-sdk posts, and upstream's
``/x402/upload/unsigned``).

The item's size is known from Content-Length and the tags before the body arrives
(core.unsigned_items), so the payment is checked against the price of the whole item
first, exactly as for a signed upload. The payload is spooled while its deep hash is
computed, the header signed, and then header and payload go through the same upload
path (durable, settled, recorded, receipted) as any x402 item; the receipt names the new
item's id. Instead of ``X-PAYMENT``, a signed request pays from the requester's balance
(api/unsigned_balance.py).
"""

import asyncio
import tempfile
from collections.abc import AsyncIterator
from typing import IO

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bundlestream.api.context import ApiContext
from bundlestream.api.ingest import WRITE_BATCH, ingest
from bundlestream.api.outcomes import Unavailable, too_large
from bundlestream.api.responses import respond
from bundlestream.api.unsigned_balance import balance_payer, priced_path, refuse_payer
from bundlestream.api.upload_routes import content_length, unfunded
from bundlestream.api.x402_payment import X402Upload
from bundlestream.api.x402_routes import authorize, paid_response
from bundlestream.api.x402_tx import X402OnTx
from bundlestream.core.ans104 import Tag
from bundlestream.core.ans104.signing import ArweaveSigner, sign_data_item_header
from bundlestream.core.deephash import BlobHasher
from bundlestream.core.jwk import ArweaveKey
from bundlestream.core.unsigned_items import TagsRefused, requested_tags, signed_header_length

UNSIGNED_ROUTE = "/v1/x402/data-item/unsigned"
# ANS-104 type 1: the owner is a 4096-bit RSA modulus.
ARWEAVE_OWNER_BYTES = 512
# Payloads up to this stay in memory while spooled; larger ones go to a temporary file.
SPOOL_IN_MEMORY = 8 * 1024 * 1024


async def post_unsigned(request: Request) -> Response:
    api: ApiContext = request.state.api
    wallet: ArweaveKey = request.state.x402_wallet
    size = content_length(request)
    if size is None:
        return PlainTextResponse("Content-Length is required", status_code=411)
    if len(wallet.owner_bytes) != ARWEAVE_OWNER_BYTES:
        return respond(Unavailable("Unsigned uploads need a 4096-bit service wallet"))
    try:
        tags = tags_of(request)
        item_size = signed_header_length(wallet.owner_bytes, tags) + size
    except TagsRefused as exc:
        return PlainTextResponse(str(exc), status_code=400)
    if item_size > api.upload.max_item_size:
        return respond(too_large(api.upload.max_item_size))
    payer = balance_payer(request)
    if payer is not None:
        refused = await refuse_payer(request, payer, item_size, UNSIGNED_ROUTE)
        return refused or await sign_and_ingest(request, wallet, tags, size, payer=payer)
    authorized = await authorize(request, item_size, UNSIGNED_ROUTE)
    if not isinstance(authorized, X402Upload):
        return authorized
    return await sign_and_ingest(request, wallet, tags, size, payment=authorized)


async def sign_and_ingest(
    request: Request,
    wallet: ArweaveKey,
    tags: list[Tag],
    size: int,
    payment: X402Upload | None = None,
    payer: str | None = None,
) -> Response:
    """Spool the payload, sign its item, and take it through the upload path, paid by
    ``payment`` (x402) or charged to ``payer``'s balance."""
    api: ApiContext = request.state.api
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        try:
            digest = await spooled(request.stream(), spool, size)
        except ClientDisconnect:
            return Response(status_code=499)  # nothing settled, nothing kept
        if digest is None:
            return PlainTextResponse("Body differs from its Content-Length", status_code=400)
        signer = ArweaveSigner(wallet)
        header = await asyncio.to_thread(sign_data_item_header, signer, digest, tags=tags)
        item = item_bytes(header, spool)
        path = api.upload if payer is None else priced_path(api.upload)
        outcome = await ingest(path, item, len(header) + size, payment=payment, payer=payer)
    if payment is not None:
        return paid_response(outcome, payment, api.retry_after_s)
    if unfunded(outcome):  # the balance was spent meanwhile: x402 can still pay
        return await X402OnTx(UNSIGNED_ROUTE).unfunded(request, len(header) + size, outcome)
    return respond(outcome, api.retry_after_s)


def tags_of(request: Request) -> list[Tag]:
    content_type = request.headers.get("content-type")
    return requested_tags(
        request.headers.get("x-data-item-tags"), request.headers.items(), content_type
    )


async def spooled(body: AsyncIterator[bytes], spool: IO[bytes], size: int) -> bytes | None:
    """Write the payload to ``spool``; its blob deep hash, or None when it is not ``size``
    bytes long."""
    hasher = BlobHasher()
    async for chunk in body:
        hasher.update(chunk)
        if hasher.length > size:
            return None
        spool.write(chunk)
    return hasher.digest() if hasher.length == size else None


async def item_bytes(header: bytes, spool: IO[bytes]) -> AsyncIterator[bytes]:
    """The signed header, then the spooled payload in ~1 MiB reads."""
    yield header
    spool.seek(0)
    while chunk := spool.read(WRITE_BATCH):
        yield chunk


def routes() -> list[Route]:
    return [
        Route(prefix + path, post_unsigned, methods=["POST"])
        for prefix in ("", "/v1")
        for path in ("/x402/data-item/unsigned", "/x402/upload/unsigned")
    ]
