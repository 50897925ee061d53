"""State of chunked (multipart) uploads in Redis, shared by every API process.

One hash per upload (token, chunk size, status, progress, the receipt once finalized),
one hash of received parts (offset -> size), one of the bytes reserved per offset (parts
stored and chunks being written), and a finalize lock taken with ``SET NX`` so that
finalizing twice, from two processes at once, cannot create two items. Everything
expires after the session TTL.

Reserving and recording a part are Lua scripts, atomic with the finalize lock: a chunk
is recorded only while its session is ASSEMBLING and no finalize holds the lock, so a
finalize streams exactly the parts it listed, and a chunk that lost the race is refused.
"""

import enum
import json
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from bundlestream.adapters.fresh_receipts import ViewUnavailable
from bundlestream.core.receipts import Receipt

# KEYS: session, reserved, lock. ARGV: offset, size, cap, ttl. The offset's own earlier
# reservation is replaced, not added to (a chunk sent again overwrites its part).
_RESERVE = """
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('HGET', KEYS[1], 'status') ~= 'ASSEMBLING' then
  return -1
end
local total = tonumber(ARGV[2])
local reserved = redis.call('HGETALL', KEYS[2])
for i = 1, #reserved, 2 do
  if reserved[i] ~= ARGV[1] then total = total + tonumber(reserved[i + 1]) end
end
if total > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1
"""

# KEYS: session, parts, lock. ARGV: offset, size, ttl.
_ADD_PART = """
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('HGET', KEYS[1], 'status') ~= 'ASSEMBLING' then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""

# KEYS: parts, reserved. ARGV: offset. Back to what is stored at the offset, if anything.
_RELEASE = """
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored then redis.call('HSET', KEYS[2], ARGV[1], stored)
else redis.call('HDEL', KEYS[2], ARGV[1]) end
return 1
"""


class Reservation(enum.Enum):
    """Whether a chunk of a given size may be written at an offset."""

    GRANTED = 1
    OVER_CAP = 0  # the session's parts would exceed the cap (the maximum item size)
    CLOSED = -1  # the session is finalizing, finalized or failed


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
    receipt: Receipt | None
    # How the upload is paid when its creator paid for it (x402), as the routes wrote
    # it; None: from a balance at finalize.
    payment: str | None = None


class MultipartSessions:
    """Redis-backed sessions; every Redis failure surfaces as ViewUnavailable."""

    def __init__(self, redis: Redis, namespace: str, ttl_s: int) -> None:
        self._redis = redis
        self._ns = namespace
        self._ttl_s = ttl_s

    def _key(self, upload_id: str, suffix: str = "") -> str:
        return f"{self._ns}bs:mpu:{upload_id}{suffix}"

    async def create(
        self, upload_id: str, token: str, chunk_size: int, now_ms: int, payment: str | None = None
    ) -> None:
        fields: dict[FieldT, EncodableT] = {
            "token": token,
            "chunkSize": chunk_size,
            "created": now_ms,
            "status": "ASSEMBLING",
            "validated": 0,
        }
        if payment is not None:
            fields["payment"] = payment
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
            payment=fields.get("payment"),
        )

    async def exists(self, upload_id: str) -> bool:
        """False once the session expired (or never was)."""
        return bool(await self._run(self._redis.exists(self._key(upload_id))))

    async def reserve(self, upload_id: str, offset: int, size: int, cap: int) -> Reservation:
        """Reserve ``size`` bytes at ``offset`` if the session's total stays within ``cap``."""
        keys = [self._key(upload_id), self._key(upload_id, ":reserved"), self._lock(upload_id)]
        args = [str(offset), str(size), str(cap), str(self._ttl_s)]
        return Reservation(int(await self._script(_RESERVE, keys, args)))

    async def add_part(self, upload_id: str, offset: int, size: int) -> bool:
        """Record a stored part; False (nothing recorded) once a finalize has begun."""
        keys = [self._key(upload_id), self._key(upload_id, ":parts"), self._lock(upload_id)]
        return bool(await self._script(_ADD_PART, keys, [str(offset), str(size), str(self._ttl_s)]))

    async def release(self, upload_id: str, offset: int) -> None:
        """Give back a reservation whose chunk was not stored."""
        keys = [self._key(upload_id, ":parts"), self._key(upload_id, ":reserved")]
        await self._script(_RELEASE, keys, [str(offset)])

    async def parts(self, upload_id: str) -> dict[int, int]:
        raw = await self._run(self._redis.hgetall(self._key(upload_id, ":parts")))
        return {int(k): int(v) for k, v in raw.items()}

    async def update(self, upload_id: str, **fields: str | int) -> None:
        """Set status, failedReason, validated, dataItemId ... on an existing session."""
        mapping: dict[FieldT, EncodableT] = {name: value for name, value in fields.items()}
        await self._run(self._redis.hset(self._key(upload_id), mapping=mapping))

    async def finalized(self, upload_id: str, receipt: Receipt) -> None:
        await self.update(upload_id, status="FINALIZED", receipt=json.dumps(receipt))

    async def lock(self, upload_id: str, ttl_s: int) -> bool:
        """Take the finalize lock; False when another finalize holds it."""
        key = self._lock(upload_id)
        return bool(await self._run(self._redis.set(key, b"1", nx=True, ex=ttl_s)))

    async def unlock(self, upload_id: str) -> None:
        await self._run(self._redis.delete(self._lock(upload_id)))

    def _lock(self, upload_id: str) -> str:
        return self._key(upload_id, ":lock")

    async def _script(self, source: str, keys: list[str], args: list[str]) -> Any:
        return await self._run(self._redis.eval(source, len(keys), *keys, *args))

    @staticmethod
    async def _run(step: Any) -> Any:
        try:
            return await step
        except RedisError as exc:
            raise ViewUnavailable(str(exc)) from exc
