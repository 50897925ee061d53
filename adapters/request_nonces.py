"""Nonces of signed requests that spend a balance, each spent once (Redis).

A signed request (core.signed_requests) proves who signed its ``x-nonce``, not when:
a request that spends the signer's balance must not be replayable, so its nonce is
recorded here, per signer, and a nonce seen before is refused. Entries outlive any
retry window (30 days); a nonce is any string the client chooses (turbo-sdk: 32 hex
digits of randomness).
"""

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bundlestream.adapters.fresh_receipts import ViewUnavailable

TTL_S = 30 * 24 * 3600


class RequestNonces:
    """Spent nonces by signer, under ``{prefix}nonce:``."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._ns = f"{prefix}nonce:"

    async def spend(self, signer: str, nonce: str) -> bool:
        """Record ``nonce`` as spent by ``signer``; False when it was spent before."""
        try:
            fresh = await self._redis.set(f"{self._ns}{signer}:{nonce}", b"1", nx=True, ex=TTL_S)
        except RedisError as exc:
            raise ViewUnavailable(str(exc)) from exc
        return bool(fresh)
