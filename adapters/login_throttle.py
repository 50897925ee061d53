"""Failed console logins counted in Redis, per account and per client IP.

A fixed window per key (INCR, and EXPIRE on the first failure of the window): once
either counter reaches its limit, further tries are refused until the window ends,
right password or not (OWASP Authentication Cheat Sheet, "Login Throttling"). Unlike
the upload rate limiter this fails closed: without Redis, no login is tried at all.
"""

from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError


class ThrottleUnavailable(Exception):
    """Redis did not answer: the console refuses logins rather than count nothing."""


@dataclass(frozen=True)
class ThrottleLimits:
    """Failures allowed per window, per account and per client IP."""

    per_user: int
    per_ip: int
    window_s: int


class LoginThrottle:
    """The counters of one namespace (a deployment's topic prefix)."""

    def __init__(self, redis: Redis, namespace: str, limits: ThrottleLimits) -> None:
        self._redis = redis
        self._ns = namespace
        self._limits = limits

    async def allows(self, user: str, ip: str) -> bool:
        """False when the account or the IP has used up its failures of this window."""
        try:
            counts = await self._redis.mget([self._key("user", user), self._key("ip", ip)])
        except RedisError as exc:
            raise ThrottleUnavailable(str(exc)) from exc
        by_user, by_ip = (int(count or 0) for count in counts)
        return by_user < self._limits.per_user and by_ip < self._limits.per_ip

    async def record_failure(self, user: str, ip: str) -> None:
        """Count one failed login against the account and the IP."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in (self._key("user", user), self._key("ip", ip)):
                    pipe.incr(key)
                    pipe.expire(key, self._limits.window_s, nx=True)
                await pipe.execute()
        except RedisError as exc:
            raise ThrottleUnavailable(str(exc)) from exc

    def _key(self, kind: str, value: str) -> str:
        return f"{self._ns}bs:console-login:{kind}:{value}"
