"""The console's Jinja2 templates (autoescaped) and the CSRF token every form carries."""

import hmac
import secrets
from pathlib import Path

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


def csrf_token(request: Request) -> str:
    """The session's CSRF token (synchronizer token pattern, OWASP CSRF Prevention
    Cheat Sheet), created with the session."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def checked_form(request: Request) -> FormData:
    """The POSTed form, or 403 unless it carries the session's CSRF token."""
    form = await request.form()
    sent, expected = form.get("csrf"), request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str):
        raise HTTPException(403, "missing CSRF token")
    if not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "wrong CSRF token")
    return form


def render(request: Request, name: str, status_code: int = 200, **values: object) -> Response:
    """The template ``name`` with the operator, the CSRF token and ``values``."""
    values |= {"operator": request.session.get("operator"), "csrf": csrf_token(request)}
    return TEMPLATES.TemplateResponse(request, name, values, status_code=status_code)
