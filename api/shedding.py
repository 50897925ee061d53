"""Overload is shed, not queued: bounded in-flight work per process, and a per-IP limit.

Upstream collapsed under load because every request waited in unbounded queues (the
DB pool, the event loop) until clients timed out and retried. Here a request beyond
the bounds is answered at once with 503 + Retry-After (process overloaded) or 429 +
Retry-After (one client over its rate); a body beyond the byte budget as soon as
its bytes arrive.
"""

import logging
from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bundlestream.adapters.rate_limiter import RateLimiter
from bundlestream.api.metrics import ApiMetrics
from bundlestream.api.responses import too_many_requests, unavailable

log = logging.getLogger(__name__)

UNMETERED = frozenset(
    {"/health", "/v1/health", "/metrics", "/openapi.json", "/info", "/v1/info", "/"}
)


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class ByteBudgetExceeded(Exception):
    """Raised from ``receive`` when a body's next bytes would go beyond the budget."""


class LoadShedder:
    """ASGI middleware: at most ``max_requests`` requests in flight in this process, and
    at most ``max_bytes`` body bytes received by them; beyond either, 503 + Retry-After.

    Bytes are reserved as they arrive (Content-Length or chunked alike) and released
    when the request ends, never from what a header declares: a client that declares
    10 GiB and sends nothing holds nothing. A body whose next bytes would go beyond
    the budget ends with 503, unless no other request holds bytes, so one body larger
    than the whole budget still gets in when nothing else is.
    """

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
        if self.requests >= self.max_requests:
            await self._shed("requests", scope, receive, send)
            return
        held = _Held(self, receive, send)
        self._add(1, 0)
        try:
            await self.app(scope, held.receive, held.send)
        except ByteBudgetExceeded:
            if held.started:
                raise
            await self._shed("bytes", scope, receive, send)
        finally:
            self._add(-1, -held.bytes)

    async def _shed(self, reason: str, scope: Scope, receive: Receive, send: Send) -> None:
        self.metrics.shed.labels(reason).inc()
        response = unavailable(f"Upload Service is overloaded ({reason})", self.retry_after_s)
        await response(scope, receive, send)

    def reserve(self, held: "_Held", size: int) -> None:
        """Count ``size`` more bytes of ``held``'s body, or refuse them."""
        others = self.bytes - held.bytes
        if others and self.bytes + size > self.max_bytes:
            raise ByteBudgetExceeded()
        held.bytes += size
        self._add(0, size)

    def _add(self, requests: int, size: int) -> None:
        self.requests += requests
        self.bytes += size
        self.metrics.inflight_requests.set(self.requests)
        self.metrics.inflight_bytes.set(self.bytes)


class _Held:
    """One request's share of the budget: its body bytes so far, whether it answered."""

    def __init__(self, shedder: LoadShedder, receive: Receive, send: Send) -> None:
        self.shedder = shedder
        self._receive = receive
        self._send = send
        self.bytes = 0
        self.started = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request" and message.get("body"):
            self.shedder.reserve(self, len(message["body"]))
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


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
