"""Charging an upload: reserve in the spendable view, then an acknowledged UploadCharged.

The order is the contract (docs/payments.md, "The upload path"): the reservation takes
the winc atomically in Redis (``SpendableView.reserve``: no two processes spend the same
winc); the charge is produced to the ledger topic keyed by the signer and awaited at
acks=all before the receipt is signed. A step that fails after the charge is
acknowledged is refunded by an UploadRefunded; a charge whose send failed may or may not
be in the log, so it is left to the settler, which settles it once the feed has read
past one delivery timeout after it: refunded if the log has it, released if not.

The reservation owes its charge to the settler in the same atomic step, and the upload
claims it back only once its receipt is signed: a process killed anywhere in between
(its charge queued, sent, or acknowledged) leaves the charge to the settler rather than
a reservation nobody settles. Exactly one of the upload and the settler claims a charge;
an upload that finds the settler had it refunds (a repeated refund changes nothing)
and answers 503, never the receipt.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bundlestream.adapters.fresh_receipts import ViewUnavailable
from bundlestream.adapters.kafka_producer import BrokerUnavailable, EventProducer, Outgoing
from bundlestream.adapters.spendable_view import SpendableView
from bundlestream.api.event_messages import received_message
from bundlestream.api.outcomes import Outcome, Rejected, Unavailable
from bundlestream.core.ledger import Ledger, Refusal, decide_charge, decide_refund, evolve
from bundlestream.schemas import ledger_events as ev
from bundlestream.schemas.codec import decode, encode
from bundlestream.schemas.events import DataItemReceived

log = logging.getLogger(__name__)

INSUFFICIENT = Rejected(402, "Insufficient balance")
LEDGER_UNAVAILABLE = Unavailable("Upload Service is Unavailable. Ledger is unreachable")
UNSETTLED = Unavailable("Upload Service is Unavailable. This item's earlier charge is unsettled")
# A view being built after a start or a Redis loss is waited for this long before a
# paid upload answers 503: a start reads an empty or short log within about a second.
READY_WAIT_S = 3.0
READY_POLL_S = 0.1
CLAIM_TRIES = 3
_REFUSED: dict[str, Outcome] = {"insufficient": INSUFFICIENT, "seen": UNSETTLED}


@dataclass(frozen=True)
class Charging:
    """The upload path's payments port: charge, refund, and settle the uncertain."""

    view: SpendableView
    producer: EventProducer
    topic: str
    items_topic: str  # where an upload's DataItemReceived goes, produced beside its charge
    now: Callable[[], datetime]
    settle_after_s: float  # one producer delivery timeout, plus the feed's poll

    async def reserve(self, signer: str, item_id: str, winc: int) -> "UploadCharge | Outcome":
        """Take ``winc`` from ``signer``'s spendable balance and return the charge to
        publish, or the answer to give instead (402, or 503 when the view is down)."""
        charge = _charge_event(signer, item_id, winc, self.now())
        encoded = encode(charge)
        try:
            reserved = await self._reserve(signer, item_id, winc, _owed(encoded))
        except ViewUnavailable:
            return LEDGER_UNAVAILABLE
        if reserved != "reserved":
            return _REFUSED.get(reserved, LEDGER_UNAVAILABLE)
        return UploadCharge(self, charge, encoded)

    async def spendable(self, signer: str) -> int | None:
        """What ``signer`` may spend now, read without reserving; None when the view
        cannot say (down, or still being built after ``READY_WAIT_S``, as a reservation
        waits). For early refusals only: the reservation at the end is the decision."""
        try:
            for _ in range(int(READY_WAIT_S / READY_POLL_S)):
                spendable = await self.view.spendable(signer)
                if spendable is not None:
                    return spendable
                await asyncio.sleep(READY_POLL_S)
        except ViewUnavailable:
            return None
        return None

    async def publish(
        self, charge: ev.UploadCharged, encoded: bytes, item: DataItemReceived
    ) -> bool | None:
        """Produce the charge (``encoded``) and the upload's item event together, one
        wait for both acks=all. False: the charge is not acknowledged, and then it is the
        settler's (it may be in the log; the reservation owed it), never the caller's to
        refund. None: the charge is, the item event is not. True: both are."""
        charge_sent, item_sent = await self.producer.send_all(
            [
                Outgoing(self.topic, charge.address, encoded),
                received_message(self.items_topic, item),
            ]
        )
        if isinstance(charge_sent, BrokerUnavailable):
            log.warning("charge of %s not acknowledged: %s", charge.data_item_id, charge_sent)
            return False
        if isinstance(item_sent, BrokerUnavailable):
            log.warning("item event of %s not acknowledged: %s", charge.data_item_id, item_sent)
            return None
        return True

    async def _reserve(self, signer: str, item_id: str, winc: int, owed: bytes) -> str:
        """Reserve; while the view is being built, wait for it up to ``READY_WAIT_S``."""
        for _ in range(int(READY_WAIT_S / READY_POLL_S)):
            reserved = await self.view.reserve(signer, item_id, winc, owed)
            if reserved != "unavailable":
                return reserved
            await asyncio.sleep(READY_POLL_S)
        return "unavailable"

    async def refund(self, charge: ev.UploadCharged, reason: str) -> None:
        """Refund an acknowledged charge; if the broker does not take it now, the
        resolver sends it later (the charge is in the log, so it will be refunded)."""
        try:
            await self._send_refund(charge, reason)
        except BrokerUnavailable as exc:
            log.warning("refund of %s not acknowledged: %s", charge.data_item_id, exc)
            await self.settle_later(charge)

    async def _send_refund(self, charge: ev.UploadCharged, reason: str) -> None:
        decided = decide_refund(evolve(Ledger(), charge), charge.data_item_id, reason, self.now())
        for refund in _events(decided):
            await self.producer.send(self.topic, charge.address, encode(refund))

    async def release(self, charge: ev.UploadCharged) -> None:
        """Give back a reservation whose charge was never sent."""
        try:
            await self.view.release(charge.address, charge.data_item_id, int(charge.winc))
        except ViewUnavailable:
            log.error("reservation of %s not released: Redis down", charge.data_item_id)

    async def settle_later(self, charge: ev.UploadCharged) -> None:
        """Leave a charge whose refund failed to ``settle`` (owe it again)."""
        try:
            await self.view.owe(charge.data_item_id, _owed(encode(charge)))
        except ViewUnavailable:
            log.error("unsettled charge of %s not recorded: Redis down", charge.data_item_id)

    async def settle(self) -> None:
        """Settle every unsettled charge the feed has read past (see the module doc)."""
        caught_up = await self.view.caught_up_at()
        for item_id, record in (await self.view.unsettled()).items():
            stamp, _, body = record.partition(b"|")
            if float(stamp) + self.settle_after_s > caught_up:
                continue
            if not await self.view.claim(item_id):
                continue  # its upload claimed it back meanwhile
            charge = decode(body)
            assert isinstance(charge, ev.UploadCharged)
            try:
                await self._settle_one(charge)
            except BaseException:
                await self.settle_later(charge)  # for the next turn
                raise

    async def _settle_one(self, charge: ev.UploadCharged) -> None:
        marker = await self.view.marker(charge.data_item_id)
        if marker == "charged":
            await self._send_refund(charge, "unsettled")
        elif marker == "reserved":
            await self.view.release(charge.address, charge.data_item_id, int(charge.winc))

    async def run_settler(self, every_s: float) -> None:
        """``settle`` every ``every_s`` until cancelled; failures wait for the next turn."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.settle()
            except (ViewUnavailable, BrokerUnavailable) as exc:
                log.warning("settling charges: %s", exc)


def _owed(encoded: bytes) -> bytes:
    """What the settler keeps of an owed charge: when it was owed, then the charge."""
    return repr(time.time()).encode() + b"|" + encoded


def _events(decided: list[ev.LedgerEvent] | Refusal) -> list[ev.LedgerEvent]:
    if isinstance(decided, Refusal):
        raise RuntimeError(f"the ledger refused: {decided.rule}")
    return decided


def _charge_event(signer: str, item_id: str, winc: int, now: datetime) -> ev.UploadCharged:
    """``decide_charge`` on a ledger holding exactly the reserved winc for the signer:
    the reservation already took them from the signer's spendable balance."""
    reserved = ev.BalanceCredited(
        address=signer,
        credit_id="reservation",
        winc=str(winc),
        source="reservation",
        reason="reserved in the spendable view",
        credited_at=now,
    )
    decided = _events(
        decide_charge(evolve(Ledger(), reserved), signer, item_id, winc, (signer,), now)
    )
    charge = decided[0]
    if not isinstance(charge, ev.UploadCharged):
        raise RuntimeError(f"the ledger decided {type(charge).__name__}, not a charge")
    return charge


class ChargeNotAcknowledged(Exception):
    """The broker did not acknowledge an upload's UploadCharged (the settler has it)."""


class ItemNotAcknowledged(Exception):
    """The broker acknowledged an upload's charge but not its DataItemReceived."""


@dataclass
class UploadCharge:
    """One upload's reserved charge, from the reservation to its acknowledgement."""

    charging: Charging
    charge: ev.UploadCharged
    encoded: bytes  # the charge's event bytes, encoded once
    state: Literal["reserved", "sending", "acknowledged", "settler's"] = "reserved"

    async def send_with(self, item: DataItemReceived) -> None:
        """Send the charge and the item event in one produce (one delivery wait; the
        receipt waits for both). Raises ChargeNotAcknowledged, or ItemNotAcknowledged
        when only the item event has no acknowledgement (then the charge is refunded by
        ``undo``)."""
        self.state = "sending"
        sent = await self.charging.publish(self.charge, self.encoded, item)
        if sent is False:
            self.state = "settler's"  # Charging.publish left it to the settler
            raise ChargeNotAcknowledged(self.charge.data_item_id)
        self.state = "acknowledged"
        if sent is None:
            raise ItemNotAcknowledged(item.data_item_id)

    async def keep(self) -> bool:
        """Claim the acknowledged charge for the receipt just signed. False: the settler
        had it (or Redis cannot say); then it is refunded and no receipt may be given."""
        if await self._claim():
            return True
        self.state = "settler's"
        await self.charging.refund(self.charge, "unsettled")
        return False

    async def undo(self, reason: str) -> None:
        """Refund an acknowledged charge, release one never sent, and leave one whose
        send was cut short (it may be in the log) to the settler."""
        match self.state:
            case "acknowledged":
                await self._claim()  # claimed or not, a refund is the answer
                await self.charging.refund(self.charge, reason)
            case "reserved" if await self._claim():
                await self.charging.release(self.charge)

    async def _claim(self) -> bool:
        """Claim the owed charge, trying again when Redis did not answer (a full pool
        under load): it stays owed meanwhile, and only one claimer ever gets it."""
        for _ in range(CLAIM_TRIES):
            try:
                return await self.charging.view.claim(self.charge.data_item_id)
            except ViewUnavailable as exc:
                failure = exc
        log.error("charge of %s not claimed: %s", self.charge.data_item_id, failure)
        return False
