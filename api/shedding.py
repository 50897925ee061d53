"""Overload is shed, not queued: bounded in-flight work per process, and a per-IP limit.

Upstream collapsed under load because every request waited in unbounded queues (the
DB pool, the event loop) until clients timed out and retried. Here a request beyond
the bounds is answered at once with 503 + Retry-After (process overloaded) or 429 +
Retry-After (one client over its rate), before its body is read.
"""

import logging
from collections.abc import Collection

from bundlestream.adapters.rate_limiter import RateLimiter
from bundlestream.api.metrics import ApiMetrics
from bundlestream.api.responses import too_many_requests, unavailable
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

UNMETERED = frozenset(
    {"/health", "/v1/health", "/metrics", "/openapi.json", "/info", "/v1/info", "/"}
)


def declared_size(scope: Scope) -> int:
    """Content-Length of the request, 0 when absent or unreadable."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return max(0, int(value))
            except ValueError:
                return 0
    return 0


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class LoadShedder:
    """ASGI middleware: at most ``max_requests`` requests and ``max_bytes`` declared
    body bytes in flight in this process; beyond them 503 with Retry-After."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_requests: int,
        max_bytes: int,
        retry_after_s: int,
        metrics: ApiMetrics,
        unmetered: Collection[str] = UNMETERED,
    ) -> None:
        self.app = app
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.retry_after_s = retry_after_s
        self.metrics = metrics
        self.unmetered = unmetered
        self.requests = 0
        self.bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.unmetered:
            await self.app(scope, receive, send)
            return
        size = declared_size(scope)
        reason = self._over_bound(size)
        if reason is not None:
            self.metrics.shed.labels(reason).inc()
            response = unavailable(f"Upload Service is overloaded ({reason})", self.retry_after_s)
            await response(scope, receive, send)
            return
        self._add(1, size)
        try:
            await self.app(scope, receive, send)
        finally:
            self._add(-1, -size)

    def _over_bound(self, size: int) -> str | None:
        if self.requests >= self.max_requests:
            return "requests"
        # A single body larger than the whole budget still gets in when nothing else is.
        if size and self.bytes and self.bytes + size > self.max_bytes:
            return "bytes"
        return None

    def _add(self, requests: int, size: int) -> None:
        self.requests += requests
        self.bytes += size
        self.metrics.inflight_requests.set(self.requests)
        self.metrics.inflight_bytes.set(self.bytes)


class RateLimit:
    """ASGI middleware: a per-client-IP request budget counted in Redis (shared by all
    API processes), 429 with Retry-After beyond it. The limiter comes from the lifespan
    state (``scope['state']['rate_limiter']``); without Redis it lets requests through."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        retry_after_s: int,
        metrics: ApiMetrics,
        unmetered: Collection[str] = UNMETERED,
    ) -> None:
        self.app = app
        self.retry_after_s = retry_after_s
        self.metrics = metrics
        self.unmetered = unmetered

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if await self._over_rate(scope):
            self.metrics.shed.labels("rate").inc()
            await too_many_requests(self.retry_after_s)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _over_rate(self, scope: Scope) -> bool:
        limiter: RateLimiter | None = scope.get("state", {}).get("rate_limiter")
        if scope["type"] != "http" or scope["path"] in self.unmetered or limiter is None:
            return False
        return not await limiter.allow(client_ip(scope))
