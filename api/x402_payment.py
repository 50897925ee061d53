"""One x402-paid upload, from its ``X-PAYMENT`` to the ledger (docs/payments.md, "x402").

Before a byte of the body is kept, ``X402Gate.authorize`` checks the payment against the
quote for the declared Content-Length (core.x402.check_payment) and asks the
facilitator's ``/verify``. The body is then read to exactly that length and the item
made durable; only then does ``X402Upload.settle`` ask for ``/settle``, and only a
settled payment lets the item's event out, with the payment's ledger events beside it
(BalanceCredited of the whole payment to the payer, UploadCharged of the item's price:
what is left is the payer's balance). The receipt comes after both are acknowledged.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction

from bundlestream.adapters.fresh_receipts import ViewUnavailable
from bundlestream.adapters.kafka_producer import BrokerUnavailable, EventProducer
from bundlestream.adapters.x402_facilitator import Facilitator, FacilitatorUnavailable
from bundlestream.adapters.x402_settlements import Settled, X402Settlements
from bundlestream.api.charging import ChargeNotAcknowledged
from bundlestream.api.outcomes import Outcome, Rejected, Unavailable
from bundlestream.core import x402
from bundlestream.core.admission import AdmissionPolicy
from bundlestream.core.ans104 import DataItem
from bundlestream.schemas import ledger_events as ev
from bundlestream.schemas.codec import encode

log = logging.getLogger(__name__)

FACILITATOR_DOWN = Unavailable("Upload Service is Unavailable. x402 facilitator is unreachable")


@dataclass(frozen=True)
class Refusal402:
    """A 402 with the payment requirements, and what was wrong with the payment."""

    error: str
    accepts: list[dict[str, object]]


@dataclass(frozen=True)
class X402Gate:
    """The x402 side of the upload API, opened once per process."""

    token: x402.Token
    pay_to: str
    facilitator: Facilitator
    settlements: X402Settlements
    producer: EventProducer
    ledger_topic: str
    buffer_percent: int
    min_usdc: int
    max_timeout_s: int
    public_url: str
    now: Callable[[], float]
    # What a chunked upload's authorization must stay valid for: it is settled at the
    # finalize, after every chunk has arrived.
    chunked_max_timeout_s: int = 3600

    def quote(self, winc: int, ar_usd: Fraction) -> int:
        """USDC base units for an upload priced ``winc``."""
        return x402.usdc_price(winc, ar_usd, self.buffer_percent, self.min_usdc)

    def accepts(
        self, usdc: int, route: str, max_timeout_s: int | None = None
    ) -> list[dict[str, object]]:
        resource = self.public_url.rstrip("/") + route
        timeout_s = self.max_timeout_s if max_timeout_s is None else max_timeout_s
        return [x402.requirements(self.token, usdc, self.pay_to, resource, timeout_s)]

    async def authorize(
        self,
        header: str,
        usdc: int,
        ar_usd: Fraction,
        admission: AdmissionPolicy,
        route: str,
        max_timeout_s: int | None = None,
    ) -> "X402Upload | Refusal402 | Outcome":
        """The checks before the body: local ones, an earlier settlement, ``/verify``."""
        accepts = self.accepts(usdc, route, max_timeout_s)
        payment = x402.decode_payment(header)
        if isinstance(payment, x402.PaymentRefused):
            return Refusal402(payment.message, accepts)
        refused = x402.check_payment(payment, self.token, usdc, self.pay_to, int(self.now()))
        if refused is not None:
            return Refusal402(refused.message, accepts)
        upload = X402Upload(self, payment, ar_usd, admission, self._exact(accepts[0], payment))
        try:
            upload.earlier = await self.settlements.get(
                payment.authorization.payer, payment.authorization.nonce
            )
        except ViewUnavailable:
            return Unavailable("Upload Service is Unavailable. Cache is unreachable")
        if upload.earlier is not None:
            return upload  # settled before: settle() tells a retry from a replay
        try:
            verdict = await self.facilitator.verify(payment.document, upload.requirements)
        except FacilitatorUnavailable:
            return FACILITATOR_DOWN
        if not verdict.is_valid:
            return Refusal402(f"payment not valid: {verdict.invalid_reason}", accepts)
        return upload

    @staticmethod
    def _exact(required: dict[str, object], payment: x402.Payment) -> dict[str, object]:
        """The requirements the facilitator checks: ours, for the authorized amount (at
        least the quote, checked above; an "exact" facilitator wants it equal)."""
        return {**required, "maxAmountRequired": str(payment.authorization.value)}


@dataclass
class X402Upload:
    """One upload's payment (api.request_payment.RequestPayment)."""

    gate: X402Gate
    payment: x402.Payment
    ar_usd: Fraction
    admission: AdmissionPolicy
    requirements: dict[str, object]
    earlier: Settled | None = None
    settled: Settled | None = None
    item_id: str = ""
    winc: int = 0
    credited: int = field(default=0)

    @property
    def payer(self) -> str:
        return self.payment.authorization.payer

    def admit(self, item: DataItem, declared_size: int | None) -> Outcome | int:
        if declared_size != item.size:
            return Rejected(400, "Data item length differs from its Content-Length")
        header = item.header
        if self.admission.refuses_early(header.owner_address, header.native_address):
            return Rejected(403, "Forbidden")
        self.winc = self.admission.price.winc_for(item.size) or 0
        self.credited = x402.winc_for_usdc(self.payment.authorization.value, self.ar_usd)
        if self.winc == 0 or self.credited < self.winc:
            return Unavailable("Pricing Oracle Unavailable")
        self.item_id = item.id
        return self.winc

    async def settle(self, item: DataItem) -> Outcome | None:
        if self.earlier is not None:
            if self.earlier.data_item_id != item.id:
                return Rejected(402, "x402 authorization already used for another data item")
            self.settled = self.earlier  # a retry: settled once, never twice
            return None
        try:
            result = await self.gate.facilitator.settle(self.payment.document, self.requirements)
        except FacilitatorUnavailable:
            return FACILITATOR_DOWN
        if not result.success:
            return Rejected(402, f"x402 settlement failed: {result.error_reason}")
        self.settled = Settled(item.id, result.transaction)
        await self._remember(self.settled)
        return None

    async def _remember(self, settled: Settled) -> None:
        auth = self.payment.authorization
        try:
            await self.gate.settlements.record(auth.payer, auth.nonce, settled)
        except ViewUnavailable:
            log.error(
                "settlement %s of %s not recorded: Redis down", settled.transaction, auth.nonce
            )

    def ledger_events(self, now: datetime) -> list[ev.LedgerEvent]:
        """The whole payment credited to the payer, then the item's price charged."""
        assert self.settled is not None
        auth = self.payment.authorization
        credit = ev.BalanceCredited(
            address=self.payer,
            credit_id=f"x402:{auth.nonce}",
            winc=str(self.credited),
            source="x402",
            reason=f"x402 {self.payment.network} {self.settled.transaction}",
            credited_at=now,
        )
        share = ev.Payment(payer_address=self.payer, winc=str(self.winc))
        charge = ev.UploadCharged(
            address=self.payer,
            data_item_id=self.item_id,
            winc=str(self.winc),
            payments=(share,),
            charged_at=now,
        )
        return [credit, charge]

    async def send_beside(self, item_send: Awaitable[None]) -> None:
        item_sent, ledger_sent = await asyncio.gather(
            item_send, self._send_ledger(), return_exceptions=True
        )
        if isinstance(ledger_sent, BaseException):
            raise ChargeNotAcknowledged(self.item_id) from ledger_sent
        if isinstance(item_sent, BaseException):
            raise item_sent

    async def _send_ledger(self) -> None:
        for event in self.ledger_events(datetime.now(UTC)):
            try:
                await self.gate.producer.send(self.gate.ledger_topic, self.payer, encode(event))
            except BrokerUnavailable:
                log.error("x402 settlement of %s not in the ledger yet", self.item_id)
                raise

    def response_fields(self) -> tuple[dict[str, object], str]:
        """The receipt's ``x402Payment`` and the ``X-Payment-Response`` header."""
        assert self.settled is not None
        auth = self.payment.authorization
        body: dict[str, object] = {
            "paymentId": auth.nonce,
            "txHash": self.settled.transaction,
            "network": self.payment.network,
            "mode": "payg",
            "usdcAmount": str(auth.value),
            "wincCharged": str(self.winc),
            "wincCredited": str(self.credited - self.winc),
        }
        header = x402.payment_response(
            True, self.settled.transaction, self.payment.network, auth.payer
        )
        return body, header
