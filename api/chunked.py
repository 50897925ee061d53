"""The chunked upload protocol of the Turbo SDK: create, chunks in any order, finalize.

Chunks are stored as object-store parts keyed by their byte offset, so they may arrive
in parallel and out of order. Finalizing streams the parts, in offset order, through
the same upload path as POST /tx (parse, verify, one durable copy, event, receipt); a
Redis lock makes a second finalize wait for the first instead of making a second item.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from bundlestream.adapters.fresh_receipts import ViewUnavailable
from bundlestream.adapters.multipart_sessions import MultipartSessions, Reservation, Session
from bundlestream.adapters.object_store import ObjectStore
from bundlestream.adapters.tasks import stop
from bundlestream.api.best_effort import quietly
from bundlestream.api.ingest import ingest
from bundlestream.api.outcomes import Accepted, Duplicate, Outcome, Rejected, Unavailable
from bundlestream.api.upload_path import UploadPath

log = logging.getLogger(__name__)

FAILED = {402: "UNDERFUNDED"}
PENDING = frozenset({"ASSEMBLING", "VALIDATING", "FINALIZING"})


@dataclass(frozen=True)
class ChunkBounds:
    min: int
    max: int
    default: int


@dataclass(frozen=True)
class Finalizing:
    """Finalization runs elsewhere (async finalize, or another request holds the lock)."""


@dataclass
class ChunkedUploads:
    """Use cases of the chunked protocol; resources come from the app lifespan."""

    sessions: MultipartSessions
    store: ObjectStore
    upload: UploadPath
    bounds: ChunkBounds
    now_ms: Callable[[], int]
    new_id: Callable[[], str]
    lock_ttl_s: int = 3600

    def __post_init__(self) -> None:
        self.background: set[asyncio.Task[object]] = set()

    async def create(self, token: str, chunk_size: int | None) -> dict[str, object] | None:
        """A new session, or None when ``chunk_size`` is out of bounds."""
        size = self.bounds.default if chunk_size is None else chunk_size
        if not self.bounds.min <= size <= self.bounds.max:
            return None
        upload_id = self.new_id()
        await self.sessions.create(upload_id, token, size, self.now_ms())
        return {"id": upload_id, "min": self.bounds.min, "max": self.bounds.max, "chunkSize": size}

    async def describe(self, session: Session) -> dict[str, object]:
        parts = await self.sessions.parts(session.upload_id)
        return {
            "id": session.upload_id,
            "min": self.bounds.min,
            "max": self.bounds.max,
            "size": session.chunk_size,
            "chunks": [[offset, parts[offset]] for offset in sorted(parts)],
            "failedReason": session.failed_reason,
        }

    async def status(self, session: Session) -> dict[str, object]:
        parts = await self.sessions.parts(session.upload_id)
        body: dict[str, object] = {
            "status": session.status,
            "timestamp": self.now_ms(),
            "bytesReceived": sum(parts.values()),
            "bytesValidated": session.validated_bytes,
        }
        if session.receipt is not None:
            body["receipt"] = session.receipt
        if session.failed_reason is not None:
            body["failedReason"] = session.failed_reason
        return body

    async def status_stream(self, upload_id: str, every_s: float = 1.0) -> AsyncIterator[str]:
        """Status as server-sent events until a final status (or the session expires)."""
        while (session := await self.sessions.get(upload_id)) is not None:
            status = await self.status(session)
            yield f"data: {json.dumps(status)}\n\n"
            if session.status not in PENDING:
                return
            await asyncio.sleep(every_s)

    async def put_chunk(
        self, session: Session, offset: int, size: int, body: AsyncIterator[bytes]
    ) -> Reservation:
        """Store the ``size`` bytes of ``body`` at ``offset``; GRANTED once stored.

        The session's parts never exceed the maximum item size (OVER_CAP, refused before
        the body is read). A chunk whose session stopped assembling is refused (CLOSED):
        before its body when that is already so, else its stored bytes are deleted,
        because a finalize that began meanwhile does not stream them.
        """
        upload_id, cap = session.upload_id, self.upload.max_item_size
        verdict = (
            Reservation.OVER_CAP
            if offset + size > cap
            else await self.sessions.reserve(upload_id, offset, size, cap)
        )
        if verdict is not Reservation.GRANTED:
            return verdict
        try:
            recorded = await self._store_part(upload_id, offset, body)
        except BaseException:
            await quietly(self.sessions.release(upload_id, offset))
            raise
        if not recorded:
            await quietly(self.store.delete(part_key(upload_id, offset)))
            await quietly(self.sessions.release(upload_id, offset))
            return Reservation.CLOSED
        return Reservation.GRANTED

    async def _store_part(self, upload_id: str, offset: int, body: AsyncIterator[bytes]) -> bool:
        """Write and commit the part; whether the session recorded it. Aborted writes
        leave nothing."""
        writer = await self.store.writer(part_key(upload_id, offset))
        try:
            async for piece in body:
                await writer.write(piece)
            size = await writer.commit()
        except BaseException:
            await writer.abort()
            raise
        return await self.sessions.add_part(upload_id, offset, size)

    async def finalize(
        self, session: Session, paid_by: tuple[str, ...], wait: bool
    ) -> Outcome | Finalizing:
        """Finalize once. ``wait=False`` runs it in the background (async finalize)."""
        if session.status == "FINALIZED" and session.receipt is not None:
            return Accepted(session.receipt)
        if session.failed_reason is not None:
            return failed_outcome(session.failed_reason)
        if not await self.sessions.lock(session.upload_id, self.lock_ttl_s):
            return Finalizing()
        if wait:
            return await self._finalize_locked(session, paid_by)
        task = asyncio.create_task(self._finalize_locked(session, paid_by))
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return Finalizing()

    async def _finalize_locked(self, session: Session, paid_by: tuple[str, ...]) -> Outcome:
        upload_id = session.upload_id
        try:
            outcome = await self._assemble_and_ingest(upload_id, paid_by)
            await self._settle(upload_id, outcome)
            return await self._final_answer(upload_id, outcome)
        except ViewUnavailable as exc:
            log.warning("finalize %s: cache unavailable: %s", upload_id, exc)
            return Unavailable("Upload Service is Unavailable. Cache is unreachable")
        except Exception:
            log.exception("finalize %s failed", upload_id)
            await quietly(self.sessions.update(upload_id, status="ASSEMBLING"))
            return Unavailable("Upload Service is Unavailable.")
        finally:
            await quietly(self.sessions.unlock(upload_id))

    async def _assemble_and_ingest(self, upload_id: str, paid_by: tuple[str, ...]) -> Outcome:
        parts = await self.sessions.parts(upload_id)
        if not contiguous(parts):
            return Rejected(400, "Invalid Data Item! Chunks do not cover the item contiguously")
        await self.sessions.update(upload_id, status="VALIDATING", validated=0)
        body = self._read_parts(upload_id, parts)
        return await ingest(self.upload, body, sum(parts.values()), paid_by)

    async def _read_parts(self, upload_id: str, parts: dict[int, int]) -> AsyncIterator[bytes]:
        done = 0
        for offset in sorted(parts):
            async for piece in self.store.read(part_key(upload_id, offset)):
                yield piece
            done += parts[offset]
            await self.sessions.update(upload_id, validated=done)
        await self.sessions.update(upload_id, status="FINALIZING")

    async def _settle(self, upload_id: str, outcome: Outcome) -> None:
        match outcome:
            case Accepted(receipt=receipt):
                await self.sessions.finalized(upload_id, receipt)
                await self._drop_parts(upload_id)
            case Duplicate(item_id=item_id):
                await self._settle_duplicate(upload_id, item_id)
            case Rejected(status=status):
                reason = FAILED.get(status, "INVALID")
                await self.sessions.update(upload_id, status=reason, failedReason=reason)
                await self._drop_parts(upload_id)
            case Unavailable():
                await self.sessions.update(upload_id, status="ASSEMBLING")

    async def _final_answer(self, upload_id: str, outcome: Outcome) -> Outcome:
        """A duplicate settled with the earlier upload's receipt answers that receipt."""
        if not isinstance(outcome, Duplicate):
            return outcome
        session = await self.sessions.get(upload_id)
        receipt = session.receipt if session is not None else None
        return outcome if receipt is None else Accepted(receipt)

    async def _settle_duplicate(self, upload_id: str, item_id: str, wait_s: float = 60) -> None:
        """The item was uploaded before (or is being uploaded right now by another
        request): finalize with that upload's receipt once it exists."""
        for _ in range(int(wait_s * 2)):
            record = await self.upload.fresh.get(item_id)
            if record is not None:
                await self.sessions.finalized(upload_id, record["receipt"])
                await self._drop_parts(upload_id)
                return
            await asyncio.sleep(0.5)
        await self.sessions.update(upload_id, status="ASSEMBLING")  # finalize may be retried

    async def _drop_parts(self, upload_id: str) -> None:
        for offset in await self.sessions.parts(upload_id):
            await quietly(self.store.delete(part_key(upload_id, offset)))

    async def close(self) -> None:
        """Cancel background finalizations (at shutdown); their locks expire."""
        await stop(*self.background)


PARTS_PREFIX = "mpu/"


def part_key(upload_id: str, offset: int) -> str:
    return f"{PARTS_PREFIX}{upload_id}/{offset:020d}"


def contiguous(parts: dict[int, int]) -> bool:
    """The parts tile [0, total) with no gap or overlap."""
    expected = 0
    for offset in sorted(parts):
        if offset != expected:
            return False
        expected += parts[offset]
    return expected > 0


def failed_outcome(reason: str) -> Outcome:
    if reason == "UNDERFUNDED":
        return Rejected(402, "Insufficient balance")
    return Rejected(400, "Invalid Data Item!")
