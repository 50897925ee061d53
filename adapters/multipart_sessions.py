"""State of chunked (multipart) uploads in Redis, shared by every API process.

One hash per upload (token, chunk size, status, progress, the receipt once finalized),
one hash of received parts (offset -> size), and a finalize lock taken with ``SET NX``
so that finalizing twice, from two processes at once, cannot create two items.
Everything expires after the session TTL.
"""

import json
from dataclasses import dataclass
from typing import Any

from bundlestream.adapters.fresh_receipts import ViewUnavailable
from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT


@dataclass(frozen=True)
class Session:
    """One chunked upload as the routes see it."""

    upload_id: str
    token: str
    chunk_size: int
    created_ms: int
    status: str
    failed_reason: str | None
    validated_bytes: int
    receipt: dict[str, Any] | None


class MultipartSessions:
    """Redis-backed sessions; every Redis failure surfaces as ViewUnavailable."""

    def __init__(self, redis: Redis, namespace: str, ttl_s: int) -> None:
        self._redis = redis
        self._ns = namespace
        self._ttl_s = ttl_s

    def _key(self, upload_id: str, suffix: str = "") -> str:
        return f"{self._ns}bs:mpu:{upload_id}{suffix}"

    async def create(self, upload_id: str, token: str, chunk_size: int, now_ms: int) -> None:
        fields: dict[FieldT, EncodableT] = {
            "token": token,
            "chunkSize": chunk_size,
            "created": now_ms,
            "status": "ASSEMBLING",
            "validated": 0,
        }
        await self._run(self._redis.hset(self._key(upload_id), mapping=fields))
        await self._run(self._redis.expire(self._key(upload_id), self._ttl_s))

    async def get(self, upload_id: str) -> Session | None:
        raw = await self._run(self._redis.hgetall(self._key(upload_id)))
        if not raw:
            return None
        fields = {k.decode(): v.decode() for k, v in raw.items()}
        receipt = fields.get("receipt")
        return Session(
            upload_id=upload_id,
            token=fields.get("token", "arweave"),
            chunk_size=int(fields.get("chunkSize", 0)),
            created_ms=int(fields.get("created", 0)),
            status=fields.get("status", "ASSEMBLING"),
            failed_reason=fields.get("failedReason"),
            validated_bytes=int(fields.get("validated", 0)),
            receipt=json.loads(receipt) if receipt else None,
        )

    async def exists(self, upload_id: str) -> bool:
        """False once the session expired (or never was)."""
        return bool(await self._run(self._redis.exists(self._key(upload_id))))

    async def add_part(self, upload_id: str, offset: int, size: int) -> None:
        key = self._key(upload_id, ":parts")
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, str(offset), str(size))
            pipe.expire(key, self._ttl_s)
            await self._run(pipe.execute())

    async def parts(self, upload_id: str) -> dict[int, int]:
        raw = await self._run(self._redis.hgetall(self._key(upload_id, ":parts")))
        return {int(k): int(v) for k, v in raw.items()}

    async def update(self, upload_id: str, **fields: str | int) -> None:
        """Set status, failedReason, validated, dataItemId ... on an existing session."""
        mapping: dict[FieldT, EncodableT] = {name: value for name, value in fields.items()}
        await self._run(self._redis.hset(self._key(upload_id), mapping=mapping))

    async def finalized(self, upload_id: str, receipt: dict[str, Any]) -> None:
        await self.update(upload_id, status="FINALIZED", receipt=json.dumps(receipt))

    async def lock(self, upload_id: str, ttl_s: int) -> bool:
        """Take the finalize lock; False when another finalize holds it."""
        key = self._key(upload_id, ":lock")
        return bool(await self._run(self._redis.set(key, b"1", nx=True, ex=ttl_s)))

    async def unlock(self, upload_id: str) -> None:
        await self._run(self._redis.delete(self._key(upload_id, ":lock")))

    @staticmethod
    async def _run(step: Any) -> Any:
        try:
            return await step
        except RedisError as exc:
            raise ViewUnavailable(str(exc)) from exc
