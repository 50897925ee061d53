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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from bundlestream.adapters.fresh_receipts import FreshWrite, ViewUnavailable
from bundlestream.adapters.kafka_producer import BrokerUnavailable, EventProducer, Outgoing
from bundlestream.adapters.spendable_view import Reservation, SpendableView
from bundlestream.api.event_messages import received_message
from bundlestream.api.outcomes import Duplicate, Outcome, Rejected, Unavailable
from bundlestream.core.ledger import Ledger, Refusal, decide_refund, evolve, reserved_charge
from bundlestream.core.spendable import item_marker, parse_split, split_text
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

    async def reserve(
        self,
        signer: str,
        item_id: str,
        winc: int,
        paid_by: tuple[str, ...] = (),
        receipt_key: str | None = None,
    ) -> "UploadCharge | Outcome":
        """Take ``winc`` from the ``paid_by`` payers' approvals to ``signer`` and then
        from ``signer``'s spendable balance, and return the charge to publish, or the
        answer to give instead (402, 503 when the view is down, or 202 when
        ``receipt_key`` is given and the item has its receipt: checked in the same
        step, which saves the upload a round trip of its own)."""
        now = self.now()
        template = reserved_charge(signer, item_id, winc, now)
        encoded = encode(template)
        reservation = Reservation(
            signer,
            item_marker(item_id),
            item_id,
            winc,
            _stamp(),
            encoded,
            _ms(now),
            paid_by,
            receipt_key=receipt_key,
        )
        try:
            reserved, payments = await self.hold(reservation)
        except ViewUnavailable:
            return LEDGER_UNAVAILABLE
        if reserved == "receipted":
            return Duplicate(item_id)
        if reserved != "reserved":
            return _REFUSED.get(reserved, LEDGER_UNAVAILABLE)
        if payments != template.payments:
            template = replace(template, payments=payments)
            encoded = encode(template)
        return UploadCharge(self, template, encoded)

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
        self,
        charge: ev.UploadCharged,
        encoded: bytes,
        item: DataItemReceived,
        beside: Sequence[Outgoing] = (),
    ) -> bool | None:
        """Produce the charge (``encoded``) and, once it is acknowledged (acks=all), the
        upload's item event and ``beside`` (its approvals' events). False: the charge is
        not acknowledged, and then it is the settler's (it may be in the log; the
        reservation owed it), never the caller's to refund. None: the charge is, the
        rest is not. True: all are.

        Two partitions are never written atomically: sent together, a broker killed
        between the two writes kept an item event whose charge was lost (a kill -9 run
        of tests/api/test_paid_crashes.py). In this order an item event in the log
        always has its charge before it, and a charge without its item is refunded."""
        [charge_sent] = await self.producer.send_all(
            [Outgoing(self.topic, charge.address, encoded)]
        )
        if isinstance(charge_sent, BrokerUnavailable):
            log.warning("charge of %s not acknowledged: %s", charge.data_item_id, charge_sent)
            return False
        rest = await self.producer.send_all([received_message(self.items_topic, item), *beside])
        failed = [r for r in rest if isinstance(r, BrokerUnavailable)]
        if failed:
            log.warning("events of %s not acknowledged: %s", charge.data_item_id, failed[0])
            return None
        return True

    async def hold(self, reservation: Reservation) -> tuple[str, tuple[ev.Payment, ...]]:
        """Reserve; while the view is being built, wait for it up to ``READY_WAIT_S``."""
        for _ in range(int(READY_WAIT_S / READY_POLL_S)):
            reserved = await self.view.reserve(reservation)
            if reserved[0] != "unavailable":
                return reserved
            await asyncio.sleep(READY_POLL_S)
        return "unavailable", ()

    async def refund(self, charge: ev.UploadCharged, reason: str) -> None:
        """Refund an acknowledged charge; if the broker does not take it now, the
        resolver sends it later (the charge is in the log, so it will be refunded)."""
        try:
            await self._send_refund(charge, reason)
        except (BrokerUnavailable, ViewUnavailable) as exc:
            log.warning("refund of %s not acknowledged: %s", charge.data_item_id, exc)
            await self.settle_later(charge)

    async def _send_refund(self, charge: ev.UploadCharged, reason: str) -> None:
        """Refund once; the view decides where each approval share goes (back to a live
        approval, or to its payer once the approval has ended)."""
        decided = decide_refund(evolve(Ledger(), charge), charge.data_item_id, reason, self.now())
        payments = await self.view.decide_refund(
            charge.data_item_id, charge.address, charge.payments
        )
        for refund in _events(decided):
            assert isinstance(refund, ev.UploadRefunded)
            refund = replace(refund, payments=payments)
            await self.producer.send(self.topic, charge.address, encode(refund))

    async def release(self, charge: ev.UploadCharged) -> None:
        """Give back a reservation whose charge was never sent."""
        await self.give_back(item_marker(charge.data_item_id), charge.address, charge.payments)

    async def give_back(self, marker: str, approved: str, payments: tuple[ev.Payment, ...]) -> None:
        """Release a reservation; a share of an approval that has ended meanwhile is
        credited to its payer by an event (its end returned only what was left)."""
        try:
            _, orphans = await self.view.release(marker, approved, payments)
            for p in orphans:
                credit = ev.BalanceCredited(
                    address=p.payer_address,
                    credit_id=f"released:{marker}:{p.approval_id}",
                    winc=p.winc,
                    source="approval_release",
                    reason=f"a reservation of approval {p.approval_id} never charged",
                    credited_at=self.now(),
                )
                await self.producer.send(self.topic, p.payer_address, encode(credit))
        except (ViewUnavailable, BrokerUnavailable) as exc:
            log.error("reservation %s not released: %s", marker, exc)

    async def settle_later(self, charge: ev.UploadCharged) -> None:
        """Leave a charge whose refund failed to ``settle`` (owe it again)."""
        try:
            record = _stamp().encode() + b"|" + split_text(charge.payments).encode() + b"|"
            await self.view.owe(charge.data_item_id, record + encode(charge))
        except ViewUnavailable:
            log.error("unsettled charge of %s not recorded: Redis down", charge.data_item_id)

    async def settle(self) -> None:
        """Settle every unsettled charge the feed has read past (see the module doc)."""
        caught_up = await self.view.caught_up_at()
        for field, record in (await self.view.unsettled()).items():
            stamp, _, rest = record.partition(b"|")
            split, _, body = rest.partition(b"|")
            if float(stamp) + self.settle_after_s > caught_up:
                continue
            if not await self.view.claim(field):
                continue  # its upload claimed it back meanwhile
            event = decode(body)
            if isinstance(event, ev.ApprovalCreated):
                await self._settle_approval(field, event)
                continue
            assert isinstance(event, ev.UploadCharged)
            charge = replace(event, payments=parse_split(split.decode()) or event.payments)
            try:
                await self._settle_one(charge)
            except BaseException:
                await self.settle_later(charge)  # for the next turn
                raise

    async def _settle_one(self, charge: ev.UploadCharged) -> None:
        marker = await self.view.marker(charge.data_item_id)
        if marker in ("charged", "refunding"):
            await self._send_refund(charge, "unsettled")
        elif marker == "reserved":
            await self.release(charge)

    async def _settle_approval(self, field: str, created: ev.ApprovalCreated) -> None:
        """An approval whose creation may not be in the log: released if it is not (its
        marker still reserved once the feed read past it), kept if it is."""
        share = ev.Payment(payer_address=created.address, winc=created.winc)
        await self.give_back(field, created.address, (share,))

    async def run_settler(self, every_s: float) -> None:
        """``settle`` every ``every_s`` until cancelled; failures wait for the next turn."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.settle()
            except (ViewUnavailable, BrokerUnavailable) as exc:
                log.warning("settling charges: %s", exc)


def _stamp() -> str:
    """When a reservation was owed (the settler waits a delivery timeout after it)."""
    return repr(time.time())


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _events(decided: list[ev.LedgerEvent] | Refusal) -> list[ev.LedgerEvent]:
    if isinstance(decided, Refusal):
        raise RuntimeError(f"the ledger refused: {decided.rule}")
    return decided


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

    async def send_with(self, item: DataItemReceived, beside: Sequence[Outgoing] = ()) -> None:
        """Send the charge and the item event in one produce (one delivery wait; the
        receipt waits for both). Raises ChargeNotAcknowledged, or ItemNotAcknowledged
        when only the item event has no acknowledgement (then the charge is refunded by
        ``undo``)."""
        self.state = "sending"
        sent = await self.charging.publish(self.charge, self.encoded, item, beside)
        if sent is False:
            self.state = "settler's"  # Charging.publish left it to the settler
            raise ChargeNotAcknowledged(self.charge.data_item_id)
        self.state = "acknowledged"
        if sent is None:
            raise ItemNotAcknowledged(item.data_item_id)

    async def keep(self, remember: FreshWrite | None = None) -> bool:
        """Claim the acknowledged charge for the receipt just signed, writing
        ``remember`` (its fresh receipt) in the same step. False: the settler had it (or
        Redis cannot say); then it is refunded, nothing is remembered and no receipt may
        be given."""
        if await self._claim(remember):
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

    async def _claim(self, then: FreshWrite | None = None) -> bool:
        """Claim the owed charge, trying again when Redis did not answer (a full pool
        under load): it stays owed meanwhile, and only one claimer ever gets it."""
        for _ in range(CLAIM_TRIES):
            try:
                return await self.charging.view.claim(self.charge.data_item_id, then)
            except ViewUnavailable as exc:
                failure = exc
        log.error("charge of %s not claimed: %s", self.charge.data_item_id, failure)
        return False
