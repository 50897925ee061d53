"""Overload is shed, not queued: admission by what the process lacks, and a per-IP limit.

Upstream collapsed under load because every request waited in unbounded queues (the
DB pool, the event loop) until clients timed out and retried. Here a request the
process cannot take on (``api/capacity.py``) is answered at once, before its body is
read, with 503 + Retry-After (process overloaded) or 429 + Retry-After (one client over
its rate). A body already admitted is never refused for load: it is slowed instead.
"""

import logging
from collections.abc import Collection

from starlette.types import ASGIApp, Receive, Scope, Send

from bundlestream.adapters.rate_limiter import RateLimiter
from bundlestream.api.capacity import Capacity
from bundlestream.api.metrics import ApiMetrics
from bundlestream.api.request_numbers import decimal
from bundlestream.api.responses import refused_before_body, too_many_requests

log = logging.getLogger(__name__)

UNMETERED = frozenset(
    {"/health", "/v1/health", "/metrics", "/openapi.json", "/info", "/v1/info", "/"}
)


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RequestHead:
    """What admission reads of a request's headers: whether a body follows, its declared
    length, and whether the client waits for 100 Continue before sending it."""

    def __init__(self, scope: Scope) -> None:
        headers = {name.lower(): value for name, value in scope.get("headers", ())}
        length = headers.get(b"content-length")
        self.declared = decimal(length.decode("latin-1")) if length is not None else None
        self.has_body = b"transfer-encoding" in headers or bool(self.declared)
        self.expects_continue = headers.get(b"expect", b"").lower() == b"100-continue"


class LoadShedder:
    """ASGI middleware: a request the process's ``Capacity`` (from the lifespan state,
    ``scope['state']['capacity']``) cannot take on is refused before its body is read.

    The refusal is 503 + Retry-After + ``Connection: close``, or 417 to a client that
    sent ``Expect: 100-continue`` (RFC 9110 §10.1.1: it then never sends the body). The
    connection is closed gracefully (``api/protocol.py``), so the client reads the answer
    even while it is still sending the body, instead of a reset.
    """

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
        capacity: Capacity | None = scope.get("state", {}).get("capacity")
        if scope["type"] != "http" or scope["path"] in self.unmetered or capacity is None:
            await self.app(scope, receive, send)
            return
        head = RequestHead(scope)
        reason = capacity.refusal(head.has_body, head.declared)
        if reason is not None:
            self.metrics.shed.labels(reason).inc()
            message = f"Upload Service is overloaded ({reason})"
            response = refused_before_body(message, self.retry_after_s, head.expects_continue)
            await response(scope, receive, send)
            return
        capacity.requests += 1
        try:
            await self.app(scope, receive, send)
        finally:
            capacity.requests -= 1


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
