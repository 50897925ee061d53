"""Redis view of spendable balances: the upload path's atomic check-and-reserve.

Every API process reserves with one Lua script (atomic in Redis: two processes cannot
both take the last winc); the ledger feed applies the ledger topic's events to the same
keys with another, guarded by the last applied offset of each partition, so an event is
applied once however many feeds read it. Amounts stay in Redis' 64-bit integers
(DECRBY/INCRBY), never in Lua's doubles, so winc up to 2^63 are exact.

``alive`` is written when a feed starts building the view and ``ready`` once it has
caught up; a Redis that lost its data has neither, so reservations answer unavailable
until a feed has rebuilt the view from the log. Errors become ViewUnavailable.
"""

from collections.abc import Awaitable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bundlestream.adapters.fresh_receipts import ViewUnavailable
from bundlestream.core.spendable import ViewChange, item_marker

# KEYS: ready, balance, the item's marker, unsettled; ARGV: winc, item id, the record
# the settler settles the charge by if the upload never claims it back.
_RESERVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unavailable' end
if redis.call('EXISTS', KEYS[3]) == 1 then return 'seen' end
local left = redis.call('DECRBY', KEYS[2], ARGV[1])
if left < 0 then redis.call('INCRBY', KEYS[2], ARGV[1]) return 'insufficient' end
redis.call('SET', KEYS[3], 'reserved')
redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
return 'reserved'
"""

# KEYS: alive, applied, then per event its marker and its balances; ARGV: per event its
# offset, kind, number of balances and their deltas. Events in offset order.
_APPLY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 'lost' end
local applied = tonumber(redis.call('GET', KEYS[2]) or '-1')
local k, a = 3, 1
while a <= #ARGV do
  local offset, kind, n = tonumber(ARGV[a]), ARGV[a + 1], tonumber(ARGV[a + 2])
  if offset > applied then
    applied = offset
    local marker = redis.call('GET', KEYS[k])
    local apply = false
    if kind == 'once' then
      apply = not marker
      if apply then redis.call('SET', KEYS[k], 'done') end
    elseif kind == 'charge' then
      if marker == 'reserved' then redis.call('SET', KEYS[k], 'charged') end
      apply = not marker
      if apply then redis.call('SET', KEYS[k], 'charged') end
    elseif kind == 'refund' then
      apply = marker == 'charged'
      if apply then redis.call('SET', KEYS[k], 'refunded') end
    end
    if apply then
      for i = 1, n do redis.call('INCRBY', KEYS[k + i], ARGV[a + 2 + i]) end
    end
  end
  k, a = k + 1 + n, a + 3 + n
end
redis.call('SET', KEYS[2], applied)
return 'applied'
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) ~= 'reserved' then return 0 end
redis.call('DEL', KEYS[1])
redis.call('INCRBY', KEYS[2], ARGV[1])
return 1
"""


class SpendableView:
    """Spendable balances of one deployment (keys under ``{prefix}ledger:``)."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._ns = f"{prefix}ledger:"
        self._reserve = redis.register_script(_RESERVE)
        self._apply = redis.register_script(_APPLY)
        self._release = redis.register_script(_RELEASE)

    def _key(self, name: str) -> str:
        return self._ns + name

    def _balance_key(self, address: str) -> str:
        return self._key(f"balance:{address}")

    async def reserve(self, address: str, item_id: str, winc: int, record: bytes) -> str:
        """``reserved``, ``insufficient``, ``seen`` (item reserved before: nothing
        taken) or ``unavailable`` (the view is being rebuilt). A reservation is owed
        (``record`` under ``unsettled``) in the same step, so a process killed after it
        leaves its charge to the settler; ``claim`` takes it back."""
        keys = [self._key("ready"), self._balance_key(address), self._key(item_marker(item_id))]
        keys.append(self._key("unsettled"))
        return _text(await self._call(self._reserve(keys=keys, args=[winc, item_id, record])))

    async def release(self, address: str, item_id: str, winc: int) -> bool:
        """Give back a reservation whose charge never reached the log."""
        keys = [self._key(item_marker(item_id)), self._balance_key(address)]
        return bool(await self._call(self._release(keys=keys, args=[winc])))

    async def marker(self, item_id: str) -> str | None:
        """reserved, charged, refunded, or None."""
        value = await self._call(self._redis.get(self._key(item_marker(item_id))))
        return None if value is None else value.decode()

    async def spendable(self, address: str) -> int | None:
        """What ``address`` may spend now, or None while the view is not ready: one
        round trip (the readiness and the balance in one MGET)."""
        keys = [self._key("ready"), self._balance_key(address)]
        ready, value = await self._call(self._redis.mget(keys))
        if ready is None:
            return None
        return 0 if value is None else int(value)

    async def balance(self, address: str) -> int:
        value = await self._call(self._redis.get(self._balance_key(address)))
        return 0 if value is None else int(value)

    async def apply(self, partition: int, changes: Sequence[tuple[int, ViewChange]]) -> str:
        """Apply ``(offset, change)`` pairs of one partition, in offset order; offsets
        applied before are skipped. ``applied`` or ``lost`` (Redis lost the view)."""
        keys = [self._key("alive"), self._key(f"applied:{partition}")]
        args: list[str | int] = []
        for offset, change in changes:
            keys += [self._key(change.marker)]
            keys += [self._balance_key(address) for address, _ in change.deltas]
            args += [offset, change.kind, len(change.deltas)]
            args += [delta for _, delta in change.deltas]
        return _text(await self._call(self._apply(keys=keys, args=args)))

    async def applied(self, partitions: Sequence[int]) -> dict[int, int]:
        """The last applied offset of each partition (-1: none)."""
        values = await self._call(self._redis.mget([self._key(f"applied:{p}") for p in partitions]))
        return {p: -1 if v is None else int(v) for p, v in zip(partitions, values, strict=True)}

    async def start_building(self) -> None:
        await self._call(self._redis.set(self._key("alive"), "1"))

    async def is_alive(self) -> bool:
        return bool(await self._call(self._redis.exists(self._key("alive"))))

    async def is_ready(self) -> bool:
        return bool(await self._call(self._redis.exists(self._key("ready"))))

    async def mark_ready(self) -> None:
        await self._call(self._redis.set(self._key("ready"), "1"))

    async def mark_caught_up(self, at_s: float) -> None:
        """The feed had read every event written before ``at_s`` (epoch seconds)."""
        await self._call(self._redis.set(self._key("caught-up-at"), repr(at_s)))

    async def caught_up_at(self) -> float:
        value = await self._call(self._redis.get(self._key("caught-up-at")))
        return 0.0 if value is None else float(value)

    async def owe(self, item_id: str, record: bytes) -> None:
        """Remember a charge whose outcome is not settled (the resolver settles it)."""
        await self._call(self._redis.hset(self._key("unsettled"), item_id, record))

    async def unsettled(self) -> dict[str, bytes]:
        found = await self._call(self._redis.hgetall(self._key("unsettled")))
        return {k.decode(): v for k, v in found.items()}

    async def claim(self, item_id: str) -> bool:
        """Take an owed charge off ``unsettled``; True for the one caller that did (the
        upload that signs its receipt, or the settler), False if another had."""
        return bool(await self._call(self._redis.hdel(self._key("unsettled"), item_id)))

    async def forget(self) -> None:
        """Drop the whole view (what a Redis that lost its data looks like)."""
        keys = [k async for k in self._redis.scan_iter(match=self._ns + "*", count=1000)]
        if keys:
            await self._call(self._redis.delete(*keys))

    async def _call(self, pending: Awaitable[Any]) -> Any:
        try:
            return await pending
        except RedisError as exc:
            raise ViewUnavailable(str(exc)) from exc


def _text(reply: bytes | str) -> str:
    return reply.decode() if isinstance(reply, bytes) else reply
