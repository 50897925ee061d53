"""The upload path: one signed data item in, a receipt out.

Order is the contract (ARCHITECTURE: "receipt only after the payload is durable and the
event is acknowledged"): stream-parse and verify while writing the raw item once to the
object store (or keep it for the event when small), produce DataItemReceived and await
its acks=all delivery, and only then sign the receipt. Nothing here touches Postgres.
Memory is bounded by the header plus the inline threshold, whatever the item size.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from bundlestream.adapters.fresh_receipts import ViewUnavailable
from bundlestream.adapters.object_store import ObjectStoreError, ObjectWriter
from bundlestream.api.best_effort import quietly
from bundlestream.api.charging import ChargeNotAcknowledged, ItemNotAcknowledged, UploadCharge
from bundlestream.api.credit_sharing import Sharing, share
from bundlestream.api.event_messages import received_event
from bundlestream.api.outcomes import (
    ITEM_ERRORS,
    Accepted,
    Duplicate,
    Outcome,
    Rejected,
    Unavailable,
    fresh_status,
    refusal,
    rejected_item,
    unreachable,
)
from bundlestream.api.request_payment import RequestPayment
from bundlestream.api.upload_path import PublishFailed, UploadPath, raw_key
from bundlestream.core.admission import Decision, Payable, Refused
from bundlestream.core.ans104 import DataItem, DataItemHeader, DataItemParser
from bundlestream.core.receipts import Receipt
from bundlestream.schemas.events import DataItemReceived

log = logging.getLogger(__name__)

WRITE_BATCH = 1024 * 1024
CACHE_DOWN = Unavailable("Upload Service is Unavailable. Cache is unreachable")


class _Abort(Exception):
    """Ends an upload early with an outcome; nothing of the item is kept."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome)
        self.outcome = outcome


async def ingest(
    path: UploadPath,
    body: AsyncIterator[bytes],
    declared_size: int | None = None,
    paid_by: tuple[str, ...] = (),
    payment: RequestPayment | None = None,
    payer: str | None = None,
) -> Outcome:
    """Take one data item from ``body`` to a receipt, or say why not. ``payer``: whose
    balance pays and whom admission judges, when not the item's signer (an unsigned
    upload the service signs for the requester)."""
    upload = _Upload(path, declared_size, paid_by)
    upload.payment = payment  # the request pays: no balance is read or charged
    upload.payer = payer
    try:
        async for chunk in body:
            await upload.feed(chunk)
        return await upload.finish()
    except _Abort as stop:
        await upload.discard()
        return stop.outcome
    except BaseException:
        await upload.discard()
        raise
    finally:
        upload.release(upload.held)


class _Upload:
    """State of one upload in flight: the parser, the staged bytes, the open writer."""

    def __init__(self, path: UploadPath, declared_size: int | None, paid_by: tuple[str, ...]):
        self.path = path
        self.payment: RequestPayment | None = None  # set when the request pays (x402)
        self.payer: str | None = None  # set when someone other than the signer pays
        self.declared_size = declared_size
        self.paid_by = paid_by
        self.parser = DataItemParser(path.max_item_size)
        self.staged = bytearray()
        self.writer: ObjectWriter | None = None
        self.header: DataItemHeader | None = None
        self.committed = False
        self.received = 0
        self.winc = 0
        self.payable: int | None = None
        # The signer's spendable winc as read at the header, for early 402s; None: unknown.
        self.spendable: int | None = None
        self.charge: UploadCharge | None = None
        self.sharing: Sharing | None = None  # approvals its tags create or revoke
        self.held = 0  # bytes of this body counted in ``path.memory``
        self.receipt_unchecked = False  # True: the reservation checks it, atomically

    def release(self, size: int) -> None:
        self.held -= size
        self.path.memory.release(size)

    async def feed(self, chunk: bytes) -> None:
        self.received += len(chunk)
        self.held += len(chunk)
        self.path.memory.hold(len(chunk))
        if self.header is not None and self.payment is None:
            self._admission_so_far(self.header)
        if self.writer is not None:
            # Payload of a large item: parse and write it in ~1 MiB batches.
            self.staged += chunk
            if len(self.staged) >= WRITE_BATCH:
                await self._flush(self.writer, parse=True)
            return
        self._parse(chunk)
        self.staged += chunk
        if self.header is None and self.parser.header is not None:
            await self._on_header(self.parser.header)
        if self.header is not None and len(self.staged) > self.path.inline_max:
            await self._open_writer(self.header.id)

    def _parse(self, data: bytes) -> None:
        try:
            self.parser.feed(data)
        except ITEM_ERRORS as exc:
            raise _Abort(rejected_item(exc)) from exc

    async def _on_header(self, header: DataItemHeader) -> None:
        """Refuse what the header alone decides: blocklist, balance, an issued receipt."""
        self.header = header
        early = self._admission_by_header(header)
        if early is not None:
            raise _Abort(refusal(early))
        priced = self.payment is None and self.path.charging is not None
        read_balance = False  # approvals may pay (``paid_by``): only the reservation can say
        if priced and self._may_be_paid(header):
            if not self._may_stream():
                self.receipt_unchecked = True  # the reservation right after the body checks
                return
            read_balance = not self.paid_by
        await self._check_receipt(header.id)
        if read_balance and self.path.charging is not None:
            self.spendable = await self.path.charging.spendable(self._addresses(header)[1])
            self._admission_so_far(header)

    async def _check_receipt(self, item_id: str) -> None:
        """202 only when a receipt exists, i.e. the event is acknowledged: never on a
        mark left by an upload in flight (or killed), nor on "raw/<id> exists" (an
        object can outlive a crash between its commit and the event)."""
        self.receipt_unchecked = False
        try:
            receipted = await self.path.fresh.has_receipt(item_id)
        except ViewUnavailable as exc:
            raise _Abort(CACHE_DOWN) from exc
        if receipted:
            raise _Abort(Duplicate(item_id))

    def _admission_by_header(self, header: DataItemHeader) -> Refused | None:
        """Blocklist always; the free tier too when Content-Length tells the size (the
        balance is known only to the charge's atomic reservation, at the end)."""
        admission, addresses = self.path.admission, self._addresses(header)
        if self.declared_size is None:
            return admission.refuses_early(*addresses)
        decision = admission.decide(*addresses, self.declared_size)
        return decision if isinstance(decision, Refused) else None

    def _admission_so_far(self, header: DataItemHeader) -> None:
        """Refuse as soon as the item (its declared length, else the bytes that arrived)
        costs more than the owner may spend: the early 402, chunked bodies included. An
        item is never smaller than what arrived, so a refusal now is the one at the end,
        but for a credit that lands while the body streams (the balance is read once, at
        the header; the reservation at the end decides every accepted upload)."""
        size = self.received if self.declared_size is None else self.declared_size
        decision = self.path.admission.decide(*self._addresses(header), size)
        if isinstance(decision, Refused):
            raise _Abort(refusal(decision))
        spendable = self.spendable
        if spendable is not None and isinstance(decision, Payable) and decision.winc > spendable:
            raise _Abort(Rejected(402, "Insufficient balance"))

    def _may_be_paid(self, header: DataItemHeader) -> bool:
        """Whether this upload can cost anything (only then is the balance read)."""
        size = self.declared_size
        if size is None:
            return True
        decision = self.path.admission.decide(*self._addresses(header), size)
        return isinstance(decision, Payable)

    def _may_stream(self) -> bool:
        """Whether a body may still be on its way after the header (only then can an
        early 402 spare reading it): an item declared within the inline bound is held in
        memory whole, and the reservation right after it answers the same 402."""
        return self.declared_size is None or self.declared_size > self.path.inline_max

    async def _open_writer(self, item_id: str) -> None:
        try:
            self.writer = await self.path.store.writer(raw_key(item_id))
        except ObjectStoreError as exc:
            raise _Abort(unreachable("Object Store", item_id)) from exc
        await self._flush(self.writer, parse=False)  # staged bytes are parsed already

    async def _flush(self, writer: ObjectWriter, *, parse: bool) -> None:
        """Parse (in a thread) and write the staged bytes, one batch of ~1 MiB at a time.

        Batching makes one thread hop per MiB rather than per socket read. Hashing a
        batch in a worker thread (hashlib releases the GIL on large buffers) keeps the
        event loop free for small uploads while large ones stream.
        """
        data, self.staged = bytes(self.staged), bytearray()
        if parse:
            await asyncio.to_thread(self._parse, data)
        try:
            await writer.write(data)
        except ObjectStoreError as exc:
            raise _Abort(unreachable("Object Store", self._item_id())) from exc
        self.release(len(data))
        await self.path.memory.wait_for_room()  # holding nothing now: never a deadlock

    async def finish(self) -> Outcome:
        if self.writer is not None:
            await self._flush(self.writer, parse=True)
        item = self._complete()
        if self.payment is None:
            await self._admit(item)
            await self._charge(item)  # reserved before the commit: a refused item leaves nothing
        else:
            self.winc = _covered(self.payment.admit(item, self.declared_size))
        try:
            await self._share(item)
            await self._make_durable(item)
            if self.payment is not None:  # durable first; a failed settlement keeps nothing
                await self._settle(item, self.payment)
            receipt = await self._record(item)
            record = fresh_status(item, receipt)
            if self.charge is not None and not await self.charge.keep(
                self.path.fresh.write_of(item.id, record)
            ):
                raise _Abort(unreachable("Ledger", item.id))  # keep() refunded it
            if self.sharing is not None:
                await self.sharing.keep()
        except BaseException:
            if self.charge is not None:
                await self.charge.undo("the upload failed after its charge")
            if self.sharing is not None:
                await self.sharing.undo()
            raise
        if self.charge is None:  # a kept charge remembered its receipt as it was claimed
            await self._remember(item.id, record)
        return Accepted(receipt, self.sharing.answer() if self.sharing else {})

    def _complete(self) -> DataItem:
        try:
            return self.parser.finish()
        except ITEM_ERRORS as exc:
            raise _Abort(rejected_item(exc)) from exc

    def _addresses(self, header: DataItemHeader) -> tuple[str, str]:
        """(owner, native) address of who pays: the signer, unless ``payer`` is set."""
        if self.payer is not None:
            return self.payer, self.payer
        return header.owner_address, header.native_address

    async def _admit(self, item: DataItem) -> None:
        decision: Decision = self.path.admission.decide(*self._addresses(item.header), item.size)
        if self.receipt_unchecked and not isinstance(decision, Payable):
            await self._check_receipt(item.id)  # no reservation will
        if isinstance(decision, Refused):
            raise _Abort(refusal(decision))
        if isinstance(decision, Payable):
            self.payable = decision.winc
        else:
            self.winc = decision.winc

    async def _settle(self, item: DataItem, payment: RequestPayment) -> None:
        refused = await payment.settle(item)
        if refused is not None:
            if self.committed:
                await quietly(self.path.store.delete(raw_key(item.id)))
            raise _Abort(refused)

    async def _charge(self, item: DataItem) -> None:
        """Reserve a paid upload's price; its UploadCharged goes out with the item event."""
        if self.payable is None:
            return
        if self.path.charging is None:
            raise _Abort(Rejected(402, "Insufficient balance"))
        signer = self._addresses(item.header)[1]
        key = self.path.fresh.receipt_key(item.id) if self.receipt_unchecked else None
        reserved = await self.path.charging.reserve(
            signer, item.id, self.payable, self.paid_by, key
        )
        if not isinstance(reserved, UploadCharge):
            raise _Abort(reserved)
        self.charge, self.winc = reserved, int(reserved.charge.winc)

    async def _share(self, item: DataItem) -> None:
        """Approvals the item's tags create or revoke (api/credit_sharing.py)."""
        charging = self.path.charging
        if self.payment is None and charging is not None:
            shared = await share(charging, item, charging.now())
            if shared is not None and not isinstance(shared, Sharing):
                raise _Abort(shared)
            self.sharing = shared

    async def _publish(self, event: DataItemReceived) -> None:
        """The item event, and beside it a paid upload's charge and the approvals'
        events: all acknowledged."""
        if self.payment is not None:
            await self.payment.send_beside(self.path.publish(event))
        elif self.charge is not None:
            beside = self.sharing.outgoing() if self.sharing else []
            await self.charge.send_with(event, beside)
        elif self.sharing is not None:
            await self.sharing.send_with(event)
        else:
            await self.path.publish(event)

    async def _make_durable(self, item: DataItem) -> None:
        if self.writer is None:
            return
        try:
            await self.writer.commit()
        except ObjectStoreError as exc:
            raise _Abort(unreachable("Object Store", item.id)) from exc
        self.committed = True

    async def _record(self, item: DataItem) -> Receipt:
        """Publish the event, then sign: never a receipt without an acknowledged event."""
        height = self.path.height()
        if height is None:
            raise _Abort(unreachable("Arweave gateway", item.id))
        timestamp = self.path.now_ms()
        deadline = height + self.path.deadline_margin
        try:
            kept = raw_key(item.id) if self.writer is not None else bytes(self.staged)
            event = received_event(item, kept, timestamp, deadline, self.winc, self.paid_by)
            await self._publish(event)
        except (PublishFailed, ChargeNotAcknowledged, ItemNotAcknowledged) as exc:
            raise _Abort(unreachable("Event log", item.id)) from exc
        receipt = await asyncio.to_thread(
            self.path.sign,
            id=item.id,
            deadline_height=deadline,
            timestamp=timestamp,
            winc=str(self.winc),
            data_caches=list(self.path.data_caches),
            fast_finality_indexes=list(self.path.fast_finality_indexes),
            owner=item.header.owner_address,
        )
        return receipt

    async def _remember(self, item_id: str, record: dict[str, Any]) -> None:
        """Make status answer at once. The event is already acknowledged, so a Redis
        failure here must not turn into an error: the receipt is true."""
        try:
            await self.path.fresh.remember(item_id, record)
        except ViewUnavailable as exc:
            log.warning("fresh receipt view not written for %s: %s", item_id, exc)

    def _item_id(self) -> str:
        return "" if self.header is None else self.header.id

    async def discard(self) -> None:
        """Leave no partial object behind: abort a writer that was not committed.

        A committed object is kept even when its event failed: a produce that timed out
        may still have reached the log ("no acknowledgement" is not "not written"), and
        an event whose object was deleted would be an item lost. An orphan object costs
        only space; the client's retry rewrites the same key with the same bytes.
        """
        if self.writer is not None and not self.committed:
            await quietly(self.writer.abort())


def _covered(admitted: Outcome | int) -> int:
    if not isinstance(admitted, int):
        raise _Abort(admitted)
    return admitted
