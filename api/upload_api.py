"""The upload API as one piece ``create_app`` mounts: routes, middleware, lifespan."""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from bundlestream.api import chunk_routes, openapi, status_routes, upload_routes
from bundlestream.api.metrics import ApiMetrics
from bundlestream.api.resources import upload_api
from bundlestream.api.shedding import LoadShedder, RateLimit
from bundlestream.core.admission import UploadPrice
from bundlestream.settings import Settings


@dataclass
class UploadApi:
    """Built once per app; ``lifespan`` opens the resources the routes use."""

    settings: Settings
    metrics: ApiMetrics = field(default_factory=ApiMetrics)

    def routes(self, paid: upload_routes.PaidRoute | None = None) -> list[BaseRoute]:
        """``paid``: how requests that pay for themselves are served (x402)."""
        return [
            *upload_routes.routes(self.settings.api.max_paid_by_entries, paid),
            *status_routes.routes(),
            *chunk_routes.routes(paid),
            Route("/openapi.json", openapi.endpoint, methods=["GET"]),
            Route("/metrics", self.metrics.endpoint, methods=["GET"]),
        ]

    def middleware(self) -> list[Middleware]:
        """Outermost first: shed by process load before spending a Redis call on rate."""
        s = self.settings
        return [
            Middleware(LoadShedder, retry_after_s=s.api.retry_after_s, metrics=self.metrics),
            Middleware(RateLimit, retry_after_s=s.api.retry_after_s, metrics=self.metrics),
        ]

    @contextlib.asynccontextmanager
    async def lifespan(self, price: UploadPrice) -> AsyncIterator[dict[str, Any]]:
        async with upload_api(self.settings, self.metrics, price) as state:
            yield state
