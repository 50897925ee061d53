"""x402 on the balance-paid routes: ``/tx`` and the chunked protocol (PAYMENTS.md §6,
"Signed upload flow", 2 and 3).

An upload nobody's balance pays for answers 402 with the x402 requirements, priced for
its Content-Length (the chunked finalize: for the assembled item's size), so an x402
client can pay and retry; without a known size, or while no price is known, it stays
the plain 402. A ``/tx`` request that carries ``X-PAYMENT`` is paid by it exactly as on
the x402 routes: verified before a byte is stored, settled once the item is durable and
its event acknowledged, before the receipt. A chunked upload created with
``totalBytes`` is paid by its creating request (api/x402_chunks.py).
"""

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from bundlestream.adapters.multipart_sessions import Session
from bundlestream.api import x402_chunks
from bundlestream.api.outcomes import Outcome, Rejected
from bundlestream.api.payments import OracleUnavailable
from bundlestream.api.request_payment import RequestPayment
from bundlestream.api.responses import respond
from bundlestream.api.x402_payment import Refusal402, X402Gate, X402Upload
from bundlestream.api.x402_routes import paid_response, payment_required, post_paid, quote

TX_ROUTE = "/v1/tx"


@dataclass(frozen=True)
class X402OnTx:
    """``upload_routes.PaidRoute`` for x402; ``route`` names the requirements' resource."""

    route: str = TX_ROUTE

    def pays(self, request: Request) -> bool:
        return "x-payment" in request.headers

    async def post(self, request: Request) -> Response:
        return await post_paid(request, self.route)

    async def unfunded(self, request: Request, size: int | None, refused: Rejected) -> Response:
        gate: X402Gate = request.state.x402
        if size is None:
            return respond(refused)
        try:
            usdc, _ = quote(request.state.payments, gate, size)
        except OracleUnavailable:
            return respond(refused)
        return payment_required(Refusal402(refused.message, gate.accepts(usdc, self.route)))

    async def create(self, request: Request, total_text: str, chunk_size: int | None) -> Response:
        return await x402_chunks.create_paid(request, total_text, chunk_size)

    async def finalize_payment(
        self, request: Request, session: Session
    ) -> RequestPayment | Response | None:
        return await x402_chunks.finalize_payment(request, session)

    def paid_answer(
        self, outcome: Outcome, payment: RequestPayment, retry_after_s: int
    ) -> Response:
        assert isinstance(payment, X402Upload)  # the only payment finalize_payment makes
        if payment.settled is None:  # an item uploaded before: its receipt, nothing paid
            return respond(outcome, retry_after_s)
        return paid_response(outcome, payment, retry_after_s)
