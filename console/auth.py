"""Login, logout, and the gate in front of everything else.

``OperatorGate`` runs inside Starlette's SessionMiddleware (the cookie is signed with
itsdangerous): a request whose session names no operator, or whose login is older than
the session lifetime (an absolute expiry, whatever the activity), gets a redirect to
/login (GET, HEAD) or 401 (anything else). Only /login passes without a session.
"""

import time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bundlestream.adapters.login_throttle import ThrottleUnavailable
from bundlestream.console.context import context_of
from bundlestream.console.rendering import checked_form, render

PUBLIC_PATHS = frozenset({"/login"})


class OperatorGate:
    """Pure ASGI middleware: see the module doc."""

    def __init__(self, app: ASGIApp, max_age_s: int) -> None:
        self.app = app
        self.max_age_s = max_age_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        if self._logged_in(scope["session"]):
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD"):
            response: Response = RedirectResponse("/login", status_code=303)
        else:
            response = Response("login required", status_code=401)
        await response(scope, receive, send)

    def _logged_in(self, session: dict[str, object]) -> bool:
        since = session.get("since")
        fresh = isinstance(since, int | float) and time.time() - since < self.max_age_s
        return isinstance(session.get("operator"), str) and fresh


async def login_page(request: Request) -> Response:
    return render(request, "login.html")


async def login(request: Request) -> Response:
    """Check the password unless the account or the IP is throttled."""
    form = await checked_form(request)
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    ip = request.client.host if request.client else "unknown"
    throttle = context_of(request).throttle
    try:
        if not await throttle.allows(name, ip):
            return render(request, "login.html", 429, error="Too many failed logins; wait.")
        if not await context_of(request).accounts.verify(name, password):
            await throttle.record_failure(name, ip)
            return render(request, "login.html", 401, error="Wrong name or password.")
    except ThrottleUnavailable:
        return render(request, "login.html", 503, error="Login unavailable (Redis).")
    request.session.clear()  # a fresh session (and CSRF token) on login: no fixation
    request.session.update({"operator": name, "since": time.time()})
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Response:
    await checked_form(request)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
