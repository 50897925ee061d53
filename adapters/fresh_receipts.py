"""Redis view of fresh uploads: the receipts just issued.

Status must answer the moment a receipt is returned, before any projection has caught
up; this short-lived view bridges that gap. It is also the fast duplicate check of the
upload path (the exact dedup is the stream's, keyed per owner partition).
Keys are namespaced so that several deployments (or tests) can share one Redis.
"""

import json
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError


class ViewUnavailable(Exception):
    """Redis did not answer; the caller decides whether that is fatal."""


@dataclass(frozen=True)
class FreshWrite:
    """One remembered receipt as the key-value write that keeps it, for a caller that
    makes it part of an atomic step of its own (a paid upload's claim)."""

    key: str
    value: str
    ttl_s: int


class FreshView(Protocol):
    """The port: just-issued receipts, each kept for a while.

    Every method raises ViewUnavailable when the view cannot answer. Records
    round-trip as JSON.
    """

    async def has_receipt(self, item_id: str) -> bool:
        """True when a receipt was issued for ``item_id``: its event is in the log."""
        ...

    async def remember(self, item_id: str, record: dict[str, Any]) -> None:
        """Keep what status answers for a freshly receipted item."""
        ...

    async def get(self, item_id: str) -> dict[str, Any] | None:
        """The record remembered for ``item_id``, or None."""
        ...

    def write_of(self, item_id: str, record: dict[str, Any]) -> FreshWrite:
        """What ``remember`` writes, to be written by another atomic step instead."""
        ...

    def receipt_key(self, item_id: str) -> str:
        """Where ``has_receipt`` looks, for another atomic step to check instead."""
        ...


class FreshReceipts:
    """Issued receipts, with a TTL; nothing here marks an upload in flight.

    An in-flight marker cannot be exactly right: one taken when the header is parsed can
    be taken by anyone who has seen the id (the signature is verified only at the end of
    the body), and one that outlives its upload (a kill -9 leaves it until its TTL) tells
    the client's retry "already uploaded" for an item in no event. So the duplicate
    answer rests on a receipt alone, which is written only after the event is
    acknowledged; two concurrent uploads of one item both go through and the stream's
    exact dedup keeps the first.
    """

    def __init__(self, redis: Redis, namespace: str, receipt_ttl_s: int) -> None:
        self._redis = redis
        self._ns = namespace
        self._receipt_ttl_s = receipt_ttl_s

    def _key(self, kind: str, item_id: str) -> str:
        return f"{self._ns}bs:{kind}:{item_id}"

    async def has_receipt(self, item_id: str) -> bool:
        """True when a receipt was issued for ``item_id``: its event is in the log."""
        try:
            return bool(await self._redis.exists(self.receipt_key(item_id)))
        except RedisError as exc:
            raise ViewUnavailable(str(exc)) from exc

    async def remember(self, item_id: str, record: dict[str, Any]) -> None:
        """Keep what status answers for a freshly receipted item."""
        write = self.write_of(item_id, record)
        try:
            await self._redis.set(write.key, write.value, ex=write.ttl_s)
        except RedisError as exc:
            raise ViewUnavailable(str(exc)) from exc

    def write_of(self, item_id: str, record: dict[str, Any]) -> FreshWrite:
        return FreshWrite(self.receipt_key(item_id), json.dumps(record), self._receipt_ttl_s)

    def receipt_key(self, item_id: str) -> str:
        return self._key("receipt", item_id)

    async def get(self, item_id: str) -> dict[str, Any] | None:
        """The record remembered for ``item_id``, or None."""
        try:
            raw = await self._redis.get(self.receipt_key(item_id))
        except RedisError as exc:
            raise ViewUnavailable(str(exc)) from exc
        if raw is None:
            return None
        record: dict[str, Any] = json.loads(raw)
        return record
