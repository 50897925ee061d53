"""Credit sharing on the upload path, and the timer that ends approvals.

An item tagged ``x-approve-payment`` (the approved address), ``x-amount`` (winc) and
optionally ``x-expires-seconds`` creates an approval whose id is the item's id: its
amount is reserved from the signer's spendable balance at once, in the view's atomic
step, and its ApprovalCreated goes out with the item's event. ``x-delete-payment-
approval`` revokes the signer's approvals to that address: the view takes what each has
left (one taker per approval, however many processes try) and ApprovalRevoked returns
exactly that. The answer carries ``createdApproval`` / ``revokedApprovals`` (PAYMENTS.md
§4). A taken end stays recorded in the view until its event is applied; the timer here
resends it after a delivery timeout, and ends approvals past their expiry the same way.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bundlestream.adapters.fresh_receipts import ViewUnavailable
from bundlestream.adapters.kafka_producer import BrokerUnavailable, EventProducer, Outgoing
from bundlestream.adapters.spendable_view import Reservation, SpendableView
from bundlestream.api.charging import LEDGER_UNAVAILABLE, Charging
from bundlestream.api.event_messages import received_message
from bundlestream.api.outcomes import Outcome, Rejected
from bundlestream.api.upload_path import PublishFailed
from bundlestream.core.ans104 import DataItem
from bundlestream.core.approvals import TakenEnd, end_event, taken_end
from bundlestream.core.spendable import approval_marker, parse_member, view_change
from bundlestream.schemas import ledger_events as ev
from bundlestream.schemas.codec import encode
from bundlestream.schemas.events import DataItemReceived

log = logging.getLogger(__name__)

APPROVE, AMOUNT, EXPIRES = "x-approve-payment", "x-amount", "x-expires-seconds"
REVOKE = "x-delete-payment-approval"
_REFUSED = {"insufficient": Rejected(402, "Insufficient balance")}
_USED_ID = Rejected(400, "Approval with this data item ID already exists")


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _whole(value: str | None, name: str, least: int) -> int | Rejected:
    if value is not None and value.isdecimal() and int(value) >= least:
        return int(value)
    return Rejected(400, f"Invalid {name} tag: {value!r}")


@dataclass
class Sharing:
    """One upload's approvals, from the reservation to the receipt."""

    charging: Charging
    now: datetime
    created: ev.ApprovalCreated | None = None
    revoked: list[tuple[ev.ApprovalRevoked, int]] = field(default_factory=list)
    sent: bool = False

    async def create(self, item: DataItem, approved: str) -> Outcome | None:
        winc = _whole(item.header.tag(AMOUNT), AMOUNT, 1)
        expires = item.header.tag(EXPIRES)
        seconds = 0 if expires is None else _whole(expires, EXPIRES, 1)
        if isinstance(winc, Rejected) or isinstance(seconds, Rejected):
            return winc if isinstance(winc, Rejected) else seconds  # type: ignore[return-value]
        payer, marker = item.header.native_address, approval_marker(item.id)
        created = ev.ApprovalCreated(
            address=payer,
            approval_id=item.id,
            approved_address=approved,
            winc=str(winc),
            created_at=self.now,
            expires_at=self.now + timedelta(seconds=seconds) if seconds else None,
        )
        body = encode(created)
        hold = Reservation(
            payer, marker, marker, winc, repr(self.now.timestamp()), body, _ms(self.now)
        )
        try:
            status, _ = await self.charging.hold(hold)
        except ViewUnavailable:
            return LEDGER_UNAVAILABLE
        if status != "reserved":
            return _REFUSED.get(status, _USED_ID if status == "seen" else LEDGER_UNAVAILABLE)
        self.created = created
        return None

    async def revoke(self, item: DataItem, approved: str) -> Outcome | None:
        payer = item.header.native_address
        end = TakenEnd(payer, approved, "", "revoked", item.id, self.now, 0)
        try:
            taken = await self.charging.view.take(payer, approved, "", end.record(), _ms(self.now))
        except ViewUnavailable:
            return LEDGER_UNAVAILABLE
        for approval_id, left, approved_winc in taken:
            event = end_event(
                TakenEnd(payer, approved, approval_id, "revoked", item.id, self.now, left)
            )
            assert isinstance(event, ev.ApprovalRevoked)
            self.revoked.append((event, approved_winc))
        return None if taken else Rejected(400, f"No valid approvals for {approved} to revoke")

    def outgoing(self) -> list[Outgoing]:
        """The ledger events to produce beside the item's; from now on a creation may be
        in the log (the settler's, not ``undo``'s, if the upload fails)."""
        self.sent = True
        events: list[ev.LedgerEvent] = [e for e, _ in self.revoked]
        events += [self.created] if self.created else []
        return [Outgoing(self.charging.topic, e.address, encode(e)) for e in events]

    async def send_with(self, item: DataItemReceived) -> None:
        """Produce the item's event and these events, one wait for all acks=all (an
        upload with no charge); PublishFailed when any is not acknowledged."""
        messages = [received_message(self.charging.items_topic, item), *self.outgoing()]
        sent = await self.charging.producer.send_all(messages)
        failed = [r for r in sent if isinstance(r, BrokerUnavailable)]
        if failed:
            raise PublishFailed(str(failed[0]))

    def answer(self) -> dict[str, object]:
        """The receipt's ``createdApproval`` / ``revokedApprovals`` (upstream's shapes)."""
        out: dict[str, object] = {}
        if (c := self.created) is not None:
            out["createdApproval"] = {
                "approvalDataItemId": c.approval_id,
                "approvedAddress": c.approved_address,
                "payingAddress": c.address,
                "approvedWincAmount": c.winc,
                "usedWincAmount": "0",
                "creationDate": _iso(c.created_at),
                **({"expirationDate": _iso(c.expires_at)} if c.expires_at else {}),
            }
        if self.revoked:
            out["revokedApprovals"] = [_revoked(e, winc) for e, winc in self.revoked]
        return out

    async def keep(self) -> None:
        """The receipt is signed: the creation is the log's, no longer the settler's, and
        its counter opens now (the approved address may spend it at once)."""
        if self.created is not None:
            marker = approval_marker(self.created.approval_id)
            [opened] = view_change(self.created).approvals
            try:
                await self.charging.view.open(marker, opened)
            except ViewUnavailable as exc:  # the feed opens it when it reads the event
                log.warning("approval %s not opened yet: %s", marker, exc)
            await _quiet_claim(self.charging.view, marker)

    async def undo(self) -> None:
        """Release a creation never sent (one that was may be in the log: the settler's).
        A revoke taken stays taken: its end is resent until it is in the log."""
        c = self.created
        if c is None or self.sent:
            return
        marker = approval_marker(c.approval_id)
        if await _quiet_claim(self.charging.view, marker):
            share = (ev.Payment(payer_address=c.address, winc=c.winc),)
            await self.charging.give_back(marker, c.address, share)


def _revoked(event: ev.ApprovalRevoked, approved_winc: int) -> dict[str, object]:
    used = approved_winc - int(event.returned_winc)
    return {
        "approvalDataItemId": event.approval_id,
        "approvedAddress": event.address,
        "payingAddress": event.paying_address,
        "approvedWincAmount": str(approved_winc),
        "usedWincAmount": str(used),
        "inactiveReason": "revoked",
        "inactiveDate": _iso(event.revoked_at),
        "revokeDataItemId": event.revoke_data_item_id,
    }


async def _quiet_claim(view: SpendableView, field_name: str) -> bool:
    try:
        return await view.claim(field_name)
    except ViewUnavailable as exc:
        log.error("approval %s not claimed: %s", field_name, exc)
        return False


async def share(charging: Charging, item: DataItem, now: datetime) -> Sharing | Outcome | None:
    """The item's approvals (None: it has no credit-sharing tag), or why it is refused."""
    approve, revoke = item.header.tag(APPROVE), item.header.tag(REVOKE)
    if not approve and not revoke:
        return None
    sharing = Sharing(charging, now)
    refused = await sharing.create(item, approve) if approve else None
    if refused is None and revoke:
        refused = await sharing.revoke(item, revoke)
    if refused is not None:
        await sharing.undo()
        return refused
    return sharing


@dataclass(frozen=True)
class ApprovalEnds:
    """Ends approvals past their expiry and resends taken ends not yet in the log."""

    view: SpendableView
    producer: EventProducer
    topic: str
    now: Callable[[], datetime]
    resend_after_s: float

    async def expire_due(self) -> None:
        now = self.now()
        for member in await self.view.due(_ms(now)):
            payer, approved, approval_id = parse_member(member)
            end = TakenEnd(payer, approved, approval_id, "expired", "-", now, 0)
            for _, left, _ in await self.view.take(
                payer, approved, approval_id, end.record(), _ms(now)
            ):
                await self._send(TakenEnd(payer, approved, approval_id, "expired", "-", now, left))

    async def resend_taken(self) -> None:
        before = _ms(self.now()) - int(self.resend_after_s * 1000)
        for member in await self.view.ending(before):
            payer, approved, approval_id = parse_member(member)
            stored = await self.view.taken(payer, approved, approval_id)
            if stored is not None:
                await self._send(taken_end(payer, approved, approval_id, stored))

    async def _send(self, end: TakenEnd) -> None:
        await self.producer.send(self.topic, end.approved, encode(end_event(end)))

    async def run(self, every_s: float) -> None:
        """Expire and resend every ``every_s`` until cancelled; failures wait a turn."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.expire_due()
                await self.resend_taken()
            except (ViewUnavailable, BrokerUnavailable) as exc:
                log.warning("ending approvals: %s", exc)
