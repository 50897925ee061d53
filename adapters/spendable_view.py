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
from dataclasses import dataclass, replace
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bundlestream.adapters import spendable_scripts as lua
from bundlestream.adapters.fresh_receipts import FreshWrite, ViewUnavailable
from bundlestream.core.spendable import (
    ApprovalOp,
    ViewChange,
    end_marker,
    item_marker,
    parse_split,
)
from bundlestream.schemas import ledger_events as ev


class SpendableView:
    """Spendable balances of one deployment (keys under ``{prefix}ledger:``)."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._ns = f"{prefix}ledger:"
        self._reserve = redis.register_script(lua.RESERVE)
        self._apply = redis.register_script(lua.APPLY)
        self._release = redis.register_script(lua.RELEASE)
        self._refund = redis.register_script(lua.REFUND)
        self._take = redis.register_script(lua.TAKE)
        self._open = redis.register_script(lua.OPEN)
        self._claim = redis.register_script(lua.CLAIM)

    def _key(self, name: str) -> str:
        return self._ns + name

    def _balance_key(self, address: str) -> str:
        return self._key(f"balance:{address}")

    def _pair_key(self, payer: str, approved: str) -> str:
        return self._key(f"approvals:{payer}>{approved}")

    async def reserve(self, reservation: "Reservation") -> tuple[str, tuple[ev.Payment, ...]]:
        """``reserved`` with who pays what, ``insufficient``, ``seen`` (reserved before:
        nothing taken), ``receipted`` (its ``receipt_key`` exists: nothing taken) or
        ``unavailable`` (the view is being rebuilt). The approvals of
        the ``paid_by`` payers to the signer in that order (oldest first), the signer's
        balance where listed, else for the remainder unless ``list_only``: all in one
        step, so no two processes spend the same winc. The reservation is owed (its
        record under ``unsettled``) in the same step; ``claim`` takes it back."""
        r = reservation
        keys = [self._key("ready"), self._key(r.marker), self._key("unsettled")]
        keys += [self._key(f"scratch:{r.field}"), self._balance_key(r.signer)]
        args: list[str | int | bytes] = [r.winc, r.field, r.stamp, r.body, r.now_ms]
        args += [int(r.list_only), len(r.paid_by)]
        for payer in r.paid_by:
            mine = payer == r.signer
            keys.append(self._balance_key(payer) if mine else self._pair_key(payer, r.signer))
            args += [payer, int(mine)]
        args.append(r.signer)
        if r.receipt_key is not None:
            keys.append(r.receipt_key)
        status, split = await self._call(self._reserve(keys=keys, args=args))
        return _text(status), parse_split(_text(split))

    async def release(
        self, marker: str, approved: str, payments: Sequence[ev.Payment]
    ) -> tuple[bool, tuple[ev.Payment, ...]]:
        """Give back a reservation whose event never reached the log: whether it was
        still reserved, and the approval shares whose approval has ended since (their
        payers are owed them, by an event)."""
        keys = [self._key(marker)] + [self._share_key(p, approved) for p in payments]
        args = [a for p in payments for a in (p.approval_id or "-", p.winc)]
        found = await self._call(self._release(keys=keys, args=args))
        return bool(found[0]), tuple(payments[int(i) - 1] for i in found[1:])

    async def decide_refund(
        self, item_id: str, approved: str, payments: Sequence[ev.Payment]
    ) -> tuple[ev.Payment, ...]:
        """The refund's payments: each approval share back to its approval while that
        approval is live (put back now), else to its payer's balance; decided once."""
        shares = [p for p in payments if p.approval_id is not None]
        keys = [self._key(item_marker(item_id)), self._key(f"refund:{item_id}")]
        keys += [self._pair_key(p.payer_address, approved) for p in shares]
        args = [a for p in shares for a in (p.approval_id or "", p.winc)]
        flags = iter(_text(await self._call(self._refund(keys=keys, args=args))))
        return tuple(
            p if p.approval_id is None or next(flags) == "1" else replace(p, approval_id=None)
            for p in payments
        )

    async def take(
        self, payer: str, approved: str, approval_id: str, record: str, now_ms: int
    ) -> list[tuple[str, int, int]]:
        """Take what is left of ``payer``'s approval ``approval_id`` to ``approved`` (''
        = all of them): (id, winc left, winc approved) for each taken here, none for one
        another caller took. The end stays recorded (``ending``) until its event is
        applied."""
        keys = [self._pair_key(payer, approved), self._key("ending")]
        args: list[str | int] = [approval_id, record, now_ms, payer, approved]
        found = await self._call(self._take(keys=keys, args=args))
        f = [_text(v) for v in found]
        return [(f[i], int(f[i + 1]), int(f[i + 2].split(" ")[2])) for i in range(0, len(f), 3)]

    async def open(self, marker: str, op: ApprovalOp) -> bool:
        """Open the counter of an approval whose reserved creation is acknowledged."""
        keys = [self._key(marker), self._pair_key(op.payer, op.approved)]
        keys += [self._key(end_marker(op.approval_id)), self._key("expiries")]
        _, approval_id, winc, meta, member = _op_args(op)
        args = [approval_id, winc, meta, member]
        return bool(await self._call(self._open(keys=keys, args=args)))

    async def due(self, now_ms: int) -> list[str]:
        """Approvals (``payer approved id``) whose expiry is at or before ``now_ms``."""
        found = await self._call(self._redis.zrangebyscore(self._key("expiries"), 0, now_ms))
        return [_text(m) for m in found]

    async def ending(self, before_ms: int) -> list[str]:
        """Approvals whose end was taken before ``before_ms`` and not yet applied."""
        found = await self._call(self._redis.zrangebyscore(self._key("ending"), 0, before_ms))
        return [_text(m) for m in found]

    async def taken(self, payer: str, approved: str, approval_id: str) -> str | None:
        """The record of an approval's taken end (``TAKE``'s record and the winc)."""
        value = await self._call(
            self._redis.hget(self._pair_key(payer, approved), f"t:{approval_id}")
        )
        return None if value is None else _text(value)

    async def approval_left(self, payer: str, approved: str, approval_id: str) -> int | None:
        """What an approval's counter holds (None: no counter)."""
        value = await self._call(
            self._redis.hget(self._pair_key(payer, approved), f"a:{approval_id}")
        )
        return None if value is None else int(value)

    def _share_key(self, p: ev.Payment, approved: str) -> str:
        if p.approval_id is None:
            return self._balance_key(p.payer_address)
        return self._pair_key(p.payer_address, approved)

    async def marker(self, item_id: str) -> str | None:
        """reserved, charged, refunding, refunded, or None."""
        return await self.marker_of(item_marker(item_id))

    async def marker_of(self, marker: str) -> str | None:
        value = await self._call(self._redis.get(self._key(marker)))
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
        keys = [self._key(n) for n in ("alive", f"applied:{partition}", "expiries", "ending")]
        args: list[str | int] = []
        for offset, change in changes:
            keys += [self._key(change.marker)]
            keys += [self._balance_key(address) for address, _ in change.deltas]
            args += [offset, change.kind, len(change.deltas), len(change.approvals)]
            args += [delta for _, delta in change.deltas]
            for op in change.approvals:
                keys += [self._pair_key(op.payer, op.approved)]
                keys += [self._key(end_marker(op.approval_id))]
                args += _op_args(op)
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

    async def claim(self, item_id: str, then: FreshWrite | None = None) -> bool:
        """Take an owed charge off ``unsettled``; True for the one caller that did (the
        upload that signs its receipt, or the settler), False if another had. ``then``
        is written in the same step, only by the caller that claimed."""
        if then is None:
            return bool(await self._call(self._redis.hdel(self._key("unsettled"), item_id)))
        args: list[str | int] = [item_id, then.value, then.ttl_s]
        return bool(
            await self._call(self._claim(keys=[self._key("unsettled"), then.key], args=args))
        )

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


def _op_args(op: ApprovalOp) -> list[str | int]:
    meta = f"{op.created_ms} {op.expires_ms} {op.winc}"
    return [op.op, op.approval_id, op.winc, meta, op.member]


@dataclass(frozen=True)
class Reservation:
    """What ``SpendableView.reserve`` takes: ``winc`` for ``signer`` under ``marker``,
    owed under ``field`` of ``unsettled`` as ``stamp|split|body``."""

    signer: str
    marker: str
    field: str
    winc: int
    stamp: str
    body: bytes
    now_ms: int
    paid_by: tuple[str, ...] = ()
    list_only: bool = False
    receipt_key: str | None = None  # checked first: a receipted item reserves nothing


def _text(reply: bytes | str) -> str:
    return reply.decode() if isinstance(reply, bytes) else reply
