"""POST /tx and /tx/{token}: one raw signed data item in, a receipt out."""

import time
from functools import partial
from typing import Protocol, TypeGuard

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from bundlestream.adapters.multipart_sessions import Session
from bundlestream.api.context import ApiContext
from bundlestream.api.ingest import ingest
from bundlestream.api.outcomes import INVALID_CONTENT_TYPE, Outcome, Rejected, too_large
from bundlestream.api.request_numbers import decimal
from bundlestream.api.request_payment import RequestPayment
from bundlestream.api.responses import respond

OCTET_STREAM = "application/octet-stream"


class PaidRoute(Protocol):
    """The other way an upload route is paid: by the request itself (x402 on /tx and in
    the chunked protocol, api/x402_tx.py), instead of a balance; and the 402 that says
    how, when no balance pays."""

    def pays(self, request: Request) -> bool:
        """Whether the request carries its own payment."""
        ...

    async def post(self, request: Request) -> Response:
        """Upload the request's item, paid by the request."""
        ...

    async def unfunded(self, request: Request, size: int | None, refused: Rejected) -> Response:
        """The 402 for an upload of ``size`` bytes nobody's balance pays: what the
        request could pay with, or ``refused`` as it is when the size is unknown."""
        ...

    async def create(self, request: Request, total_text: str, chunk_size: int | None) -> Response:
        """A chunked upload of ``total_text`` bytes its creating request pays for."""
        ...

    async def finalize_payment(
        self, request: Request, session: Session
    ) -> RequestPayment | Response | None:
        """The payment a chunked upload was created with, verified again for its
        finalize (or the answer instead); None when a balance pays for it."""
        ...

    def paid_answer(
        self, outcome: Outcome, payment: RequestPayment, retry_after_s: int
    ) -> Response:
        """The answer to an upload ``payment`` paid for."""
        ...


def content_length(request: Request) -> int | None:
    return decimal(request.headers.get("content-length"))


def paid_by(request: Request) -> tuple[str, ...]:
    """Every x-paid-by header, comma separated lists flattened, in order, each payer
    once: the payer walk visits a payer once however often it is named (PAYMENTS §4)."""
    values = request.headers.getlist("x-paid-by")
    payers = (a.strip() for v in values for a in v.split(","))
    return tuple(dict.fromkeys(a for a in payers if a))


def too_many_payers(max_entries: int) -> Rejected:
    return Rejected(400, f"Too many x-paid-by addresses: at most {max_entries} are accepted")


def refuse_before_body(request: Request, max_item_size: int, max_payers: int) -> Outcome | None:
    """What the headers alone decide (upstream's checks, in upstream's order)."""
    size = content_length(request)
    if size is not None and size > max_item_size:
        return too_large(max_item_size)
    content_type = request.headers.get("content-type")
    if content_type is not None and content_type != OCTET_STREAM:
        return Rejected(400, INVALID_CONTENT_TYPE)
    if len(paid_by(request)) > max_payers:
        return too_many_payers(max_payers)
    return None


async def post_data_item(request: Request, max_payers: int, paid: PaidRoute | None) -> Response:
    api: ApiContext = request.state.api
    if paid is not None and paid.pays(request):
        return await paid.post(request)
    started = time.perf_counter()
    outcome = refuse_before_body(request, api.upload.max_item_size, max_payers)
    if outcome is None:
        size, payers = content_length(request), paid_by(request)
        try:
            outcome = await ingest(api.upload, request.stream(), size, payers)
        except ClientDisconnect:
            return Response(status_code=499)  # nobody is listening; the item was discarded
    api.metrics.count(outcome, time.perf_counter() - started)
    if paid is not None and unfunded(outcome):
        return await paid.unfunded(request, content_length(request), outcome)
    return respond(outcome, api.retry_after_s)


def unfunded(outcome: Outcome | object) -> TypeGuard[Rejected]:
    """A 402: nobody's balance pays for the item."""
    return isinstance(outcome, Rejected) and outcome.status == 402


def routes(max_paid_by_entries: int, paid: PaidRoute | None = None) -> list[Route]:
    """The upload routes, at the root and under /v1 as upstream serves them."""
    endpoint = partial(post_data_item, max_payers=max_paid_by_entries, paid=paid)
    return [
        Route(prefix + p, endpoint, methods=["POST"])
        for prefix in ("", "/v1")
        for p in ("/tx", "/tx/{token}")
    ]
