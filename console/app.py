"""The console's Starlette app: its routes, the session cookie and the operator gate."""

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from bundlestream.console import auth, lists, lookups, overview
from bundlestream.console.context import open_context
from bundlestream.console.session_key import load_or_create_session_key
from bundlestream.settings import Settings

# Scripts and styles from our own origin only: the console loads nothing from elsewhere.
_SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))  # type: ignore[call-overload]
                message["headers"] = headers + _SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)  # type: ignore[arg-type]


def routes() -> list[Route | Mount]:
    static = StaticFiles(directory=Path(__file__).parent / "static")
    return [
        Route("/login", auth.login_page, methods=["GET"]),
        Route("/login", auth.login, methods=["POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Route("/", overview.overview, methods=["GET"]),
        Route("/lookup", lookups.lookup, methods=["GET"]),
        Route("/failures", lists.failures, methods=["GET"]),
        Route("/dead-letters", lists.dead_letter_list, methods=["GET"]),
        Route("/dead-letters/redrive", lists.redrive_confirmation, methods=["GET"]),
        Route("/dead-letters/redrive", lists.redrive_now, methods=["POST"]),
        Mount("/static", static, name="static"),
    ]


def create_app(settings: Settings) -> Starlette:
    """The console over the deployment ``settings`` names."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_context(settings) as context:
            app.state.console = context
            yield

    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=load_or_create_session_key(settings.console.secret_path),
            session_cookie="bundlestream_console",
            max_age=settings.console.session_max_age_s,
            same_site="strict",
        ),
        Middleware(auth.OperatorGate, max_age_s=settings.console.session_max_age_s),
    ]
    return Starlette(routes=routes(), middleware=middleware, lifespan=lifespan)
