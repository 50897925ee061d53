"""Per-client request budget in Redis: a fixed window counter shared by all API processes."""

import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class RateLimiter:
    """At most ``limit`` requests per ``window_s`` seconds per client key.

    Fails open: a Redis outage must not turn into refusing every client (the upload
    path itself answers 503 when it needs Redis and cannot reach it).
    """

    def __init__(
        self,
        redis: Redis,
        namespace: str,
        limit: int,
        window_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._ns = namespace
        self._limit = limit
        self._window_s = max(1, window_s)
        self._clock = clock

    async def allow(self, client: str) -> bool:
        """Count one request for ``client``; False when it is over its budget."""
        if self._limit <= 0:
            return True
        window = int(self._clock()) // self._window_s
        key = f"{self._ns}bs:rate:{client}:{window}"
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.incr(key)
                pipe.expire(key, self._window_s + 1)
                count, _ = await pipe.execute()
        except RedisError as exc:
            log.warning("rate limiter unavailable, letting %s through: %s", client, exc)
            return True
        return int(count) <= self._limit
