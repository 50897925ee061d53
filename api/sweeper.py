"""Reclaims what unfinished uploads leave in the object store.

Two kinds of leftovers, both invisible to the log:

- writes neither committed nor aborted, because their API process was killed mid-upload
  (a filesystem temp file, an incomplete S3 multipart upload), once nothing has been
  written to them for ``abandoned_age_s``;
- the parts of chunked uploads whose session expired: Redis forgets the session after
  its TTL, the parts would stay forever.

The multipart protocol has no events (``schemas/`` holds none: nothing of a session is
in the log), so each sweep that reclaims something says so in one log line and in the
``bundlestream_reclaimed_objects_total`` counter. Every API process sweeps at start-up
and then every ``every_s``; deleting is idempotent, so processes sweeping at once agree.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bundlestream.adapters.fresh_receipts import ViewUnavailable
from bundlestream.adapters.multipart_sessions import MultipartSessions
from bundlestream.adapters.object_store import ObjectStore, ObjectStoreError
from bundlestream.api.chunked import PARTS_PREFIX
from bundlestream.api.metrics import ApiMetrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Swept:
    """What one sweep of expired sessions reclaimed."""

    parts: int
    sessions: int


async def reclaim_expired_parts(store: ObjectStore, sessions: MultipartSessions) -> Swept:
    """Delete the parts of every session Redis no longer knows."""
    expired: dict[str, bool] = {}
    parts = 0
    async for key in store.keys(PARTS_PREFIX):
        upload_id = key.removeprefix(PARTS_PREFIX).split("/", 1)[0]
        if upload_id not in expired:
            expired[upload_id] = not await sessions.exists(upload_id)
        if expired[upload_id]:
            await store.delete(key)
            parts += 1
    return Swept(parts, sum(expired.values()))


@dataclass(frozen=True)
class Sweeper:
    """The sweep loop of one API process; ``run`` until cancelled at shutdown."""

    store: ObjectStore
    sessions: MultipartSessions
    metrics: ApiMetrics
    abandoned_age_s: float
    every_s: float
    clock: Callable[[], float] = time.time

    async def run(self) -> None:
        while True:
            await self.sweep()
            await asyncio.sleep(self.every_s)

    async def sweep(self) -> None:
        """Both steps, each on its own: one failing does not hold back the other."""
        try:
            writes = await self.store.reclaim_abandoned(self.clock() - self.abandoned_age_s)
        except ObjectStoreError as exc:
            log.warning("sweeping abandoned writes failed: %s", exc)
        else:
            self._record("abandoned_write", writes, "abandoned writes (of a killed process)")
        try:
            swept = await reclaim_expired_parts(self.store, self.sessions)
        except (ObjectStoreError, ViewUnavailable) as exc:
            log.warning("sweeping expired multipart sessions failed: %s", exc)
        else:
            self._record("expired_part", swept.parts, f"parts of {swept.sessions} expired sessions")

    def _record(self, kind: str, count: int, what: str) -> None:
        self.metrics.reclaimed.labels(kind).inc(count)
        if count:  # something was left behind by a crash or an abandoned session
            log.warning("reclaimed %d %s", count, what)
