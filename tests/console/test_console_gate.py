"""Nothing of the console answers without a session, and no action without its CSRF token.

Walks every route of the real app (as ``create_app`` builds it) against a real console
process on the stack; a route added later is walked too.
"""

from pathlib import Path

import httpx
import pytest
from console_harness import PASSWORD, add_operators, console_settings, drop_schemas, serve_console
from starlette.routing import Mount, Route

from bundlestream.console.app import create_app
from bundlestream.console.auth import PUBLIC_PATHS

pytestmark = pytest.mark.stack


def every_route(tmp_path: Path) -> list[tuple[str, str]]:
    """(method, path) of every route; a Mount by a path inside it."""
    found = []
    for route in create_app(console_settings(tmp_path)).routes:
        if isinstance(route, Route):
            found += [
                (method, route.path) for method in sorted(route.methods or ()) if method != "HEAD"
            ]
        elif isinstance(route, Mount):
            found.append(("GET", f"{route.path}/uPlot.iife.min.js"))
    return found


async def test_every_route_wants_a_session(tmp_path: Path) -> None:
    settings = console_settings(tmp_path)
    routes = [r for r in every_route(tmp_path) if r[1] not in PUBLIC_PATHS]
    assert ("POST", "/dead-letters/redrive") in routes and (
        "GET",
        "/static/uPlot.iife.min.js",
    ) in routes
    async with serve_console(settings) as url, httpx.AsyncClient(base_url=url) as client:
        answers = {(m, p): await client.request(m, p) for m, p in routes}
    refused = {
        key: (r.status_code, r.headers.get("location"))
        for key, r in answers.items()
        if not (
            r.status_code == 401 or (r.status_code == 303 and r.headers["location"] == "/login")
        )
    }
    assert refused == {}


async def test_actions_without_the_csrf_token_are_refused(tmp_path: Path) -> None:
    settings = console_settings(tmp_path)
    add_operators(settings, "ada")
    posts = [p for m, p in every_route(tmp_path) if m == "POST"]
    try:
        async with serve_console(settings) as url, httpx.AsyncClient(base_url=url) as client:
            page = (await client.get("/login")).text
            token = page.split('name="csrf" value="')[1].split('"')[0]
            no_token = await client.post("/login", data={"name": "ada", "password": PASSWORD})
            login = await client.post(
                "/login", data={"name": "ada", "password": PASSWORD, "csrf": token}
            )
            assert (no_token.status_code, login.status_code) == (403, 303)
            missing = {
                p: (await client.post(p, data={"confirm": "yes"})).status_code for p in posts
            }
            wrong = {
                p: (await client.post(p, data={"confirm": "yes", "csrf": "x" * 43})).status_code
                for p in posts
            }
            still_in = (await client.get("/failures")).status_code
    finally:
        drop_schemas(settings)
    assert missing == dict.fromkeys(posts, 403)
    assert wrong == dict.fromkeys(posts, 403)
    assert still_in == 200
