"""The HTTP application: ``create_app(settings)`` builds it, its lifespan opens resources.

Resources are opened in the lifespan (``api/resources.py``, one exit stack) and kept on
the lifespan state and ``app.state``, never at import time, so a test or a worker
process builds as many independent apps as it wants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bundlestream.api import payment_routes, x402_routes, x402_unsigned
from bundlestream.api.payments import payments_api
from bundlestream.api.upload_api import UploadApi
from bundlestream.api.x402_routes import x402_api
from bundlestream.api.x402_tx import X402OnTx
from bundlestream.settings import Settings


async def health(request: Request) -> PlainTextResponse:
    """Liveness: 200 while the process serves requests (upstream answers ``OK`` too)."""
    return PlainTextResponse("OK")


def create_app(settings: Settings) -> Starlette:
    """The API with its routes; ``/health`` answers under ``/`` and ``/v1`` as upstream's."""

    upload = UploadApi(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        app.state.settings = settings
        async with (
            payments_api(settings) as payments,  # payment routes: request.state.payments
            upload.lifespan(payments["payments"]) as state,  # upload routes: request.state.api
        ):
            app.state.object_store = state["api"].upload.store  # the one store of the app
            charging = state["api"].upload.charging
            assert charging is not None  # upload_api always opens it
            async with x402_api(settings, charging.producer) as paying:  # request.state.x402
                yield {**state, **payments, **paying}

    routes = [
        Route("/health", health),
        Route("/v1/health", health),
        *payment_routes.routes(),
        *x402_routes.routes(),
        *x402_unsigned.routes(),
        *upload.routes(X402OnTx()),
    ]
    return Starlette(routes=routes, middleware=upload.middleware(), lifespan=lifespan)


def app_from_environment() -> Starlette:
    """The uvicorn factory (``bundlestream api``): uvicorn's worker processes import the
    app by name, so each builds its settings here from BUNDLESTREAM_*, once per process;
    every other process gets them from the CLI."""
    return create_app(Settings())
