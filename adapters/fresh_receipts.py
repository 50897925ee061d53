"""Redis view of fresh uploads: in-flight claims and the receipts just issued.

Status must answer the moment a receipt is returned, before any projection has caught
up; this short-lived view bridges that gap. It is also the fast duplicate check of the
upload path (the exact dedup is the stream's, keyed per owner partition).
Keys are namespaced so that several deployments (or tests) can share one Redis.
"""

import contextlib
import json
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError


class ViewUnavailable(Exception):
    """Redis did not answer; the caller decides whether that is fatal."""


class FreshView(Protocol):
    """The port: in-flight claims and just-issued receipts, each kept for a while.

    ``claim``, ``remember`` and ``get`` raise ViewUnavailable when the view cannot
    answer; ``release`` is best effort and never raises. Records round-trip as JSON.
    """

    async def claim(self, item_id: str) -> bool:
        """Mark ``item_id`` in flight; False when it is in flight or already receipted."""
        ...

    async def release(self, item_id: str) -> None:
        """Drop the in-flight marker of ``item_id``."""
        ...

    async def remember(self, item_id: str, record: dict[str, Any]) -> None:
        """Keep what status answers for a receipted item; its claim ends."""
        ...

    async def get(self, item_id: str) -> dict[str, Any] | None:
        """The record remembered for ``item_id``, or None."""
        ...


class FreshReceipts:
    """In-flight markers (``SET NX``) and issued receipts, with TTLs."""

    def __init__(
        self, redis: Redis, namespace: str, receipt_ttl_s: int, inflight_ttl_s: int
    ) -> None:
        self._redis = redis
        self._ns = namespace
        self._receipt_ttl_s = receipt_ttl_s
        self._inflight_ttl_s = inflight_ttl_s

    def _key(self, kind: str, item_id: str) -> str:
        return f"{self._ns}bs:{kind}:{item_id}"

    async def claim(self, item_id: str) -> bool:
        """Mark ``item_id`` in flight; False when it is in flight or already receipted."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.exists(self._key("receipt", item_id))
                pipe.set(self._key("inflight", item_id), b"1", nx=True, ex=self._inflight_ttl_s)
                exists, claimed = await pipe.execute()
        except RedisError as exc:
            raise ViewUnavailable(str(exc)) from exc
        if exists:
            await self.release(item_id)
            return False
        return bool(claimed)

    async def release(self, item_id: str) -> None:
        """Drop the in-flight marker (best effort: it also expires by itself)."""
        with contextlib.suppress(RedisError):
            await self._redis.delete(self._key("inflight", item_id))

    async def remember(self, item_id: str, record: dict[str, Any]) -> None:
        """Keep what status answers for a freshly receipted item, then release the claim."""
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(self._key("receipt", item_id), json.dumps(record), ex=self._receipt_ttl_s)
                pipe.delete(self._key("inflight", item_id))
                await pipe.execute()
        except RedisError as exc:
            raise ViewUnavailable(str(exc)) from exc

    async def get(self, item_id: str) -> dict[str, Any] | None:
        """The record remembered for ``item_id``, or None."""
        try:
            raw = await self._redis.get(self._key("receipt", item_id))
        except RedisError as exc:
            raise ViewUnavailable(str(exc)) from exc
        if raw is None:
            return None
        record: dict[str, Any] = json.loads(raw)
        return record
