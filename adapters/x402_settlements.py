"""Which x402 authorizations this service settled, and for which item (Redis).

An EIP-3009 nonce can move money once; this record makes our side of it idempotent
too: a retried upload of the same item with the same authorization finds its settlement
here and is not settled (nor refused as a replay) again, while the same authorization
offered for another item is a replay. Entries outlive any retry window (30 days).
"""

import json
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bundlestream.adapters.fresh_receipts import ViewUnavailable

TTL_S = 30 * 24 * 3600


@dataclass(frozen=True)
class Settled:
    """One settlement: the item it paid for and the transaction that moved the money."""

    data_item_id: str
    transaction: str


class X402Settlements:
    """Settlements by (payer, nonce), under ``{prefix}x402:settled:``."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._ns = f"{prefix}x402:settled:"

    def _key(self, payer: str, nonce: str) -> str:
        return f"{self._ns}{payer.lower()}:{nonce.lower()}"

    async def get(self, payer: str, nonce: str) -> Settled | None:
        try:
            raw = await self._redis.get(self._key(payer, nonce))
        except RedisError as exc:
            raise ViewUnavailable(str(exc)) from exc
        if raw is None:
            return None
        record = json.loads(raw)
        return Settled(record["data_item_id"], record["transaction"])

    async def record(self, payer: str, nonce: str, settled: Settled) -> None:
        value = json.dumps(
            {"data_item_id": settled.data_item_id, "transaction": settled.transaction}
        )
        try:
            await self._redis.set(self._key(payer, nonce), value, ex=TTL_S)
        except RedisError as exc:
            raise ViewUnavailable(str(exc)) from exc
