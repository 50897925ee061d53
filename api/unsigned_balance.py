"""Unsigned uploads paid from a prepaid balance: who asks is who pays.

The requester is named the way upstream's payment service names the sender of a signed
request (PAYMENTS.md §1, "sig"; core.signed_requests): ``x-signature`` over ``x-nonce``
with ``x-public-key`` and ``x-signature-type``. Because that request spends a balance,
its nonce is spent once (adapters.request_nonces): a copied header cannot pay twice.
The item the service signs is priced without the free tier (the service is its signer)
and charged to the requester exactly as a signed upload is charged to its signer
(api/charging.py); a balance short of the price gets the x402 402, before the body.
"""

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bundlestream.adapters.fresh_receipts import ViewUnavailable
from bundlestream.adapters.request_nonces import RequestNonces
from bundlestream.api.charging import INSUFFICIENT
from bundlestream.api.context import ApiContext
from bundlestream.api.outcomes import Unavailable, refusal
from bundlestream.api.responses import respond
from bundlestream.api.upload_path import UploadPath
from bundlestream.api.x402_tx import X402OnTx
from bundlestream.core.admission import Payable, Refused
from bundlestream.core.signed_requests import signer_address

# Longer nonces are refused: each one spent is a Redis key for 30 days.
MAX_NONCE_LENGTH = 128
NONCE_SPENT = "x-nonce was used before: sign a new one for each upload"


def balance_payer(request: Request) -> str | None:
    """The signed request's signer when it pays from a balance (no ``X-PAYMENT``)."""
    if "x-payment" in request.headers:
        return None
    return signer_address(request.headers)


def priced_path(upload: UploadPath) -> UploadPath:
    """The upload path with every byte priced: items the service signs have no free tier."""
    return replace(upload, admission=upload.admission.without_free_tier())


async def refuse_payer(request: Request, payer: str, item_size: int, route: str) -> Response | None:
    """What stops ``payer`` before the body: a spent nonce, a refusal, a short balance."""
    api: ApiContext = request.state.api
    nonces: RequestNonces = request.state.request_nonces
    nonce = request.headers["x-nonce"]
    try:
        fresh = len(nonce) <= MAX_NONCE_LENGTH and await nonces.spend(payer, nonce)
    except ViewUnavailable:
        return respond(Unavailable("Upload Service is Unavailable. Cache is unreachable"))
    if not fresh:
        return PlainTextResponse(NONCE_SPENT, status_code=400)
    decision = priced_path(api.upload).admission.decide(payer, payer, item_size)
    if isinstance(decision, Refused):
        return respond(refusal(decision), api.retry_after_s)
    charging = api.upload.charging
    if charging is None or not isinstance(decision, Payable):
        return None
    spendable = await charging.spendable(payer)
    if spendable is not None and decision.winc > spendable:
        return await X402OnTx(route).unfunded(request, item_size, INSUFFICIENT)
    return None
