"""Outcomes to HTTP responses, as upstream answers them.

Upstream (Koa) puts its error message both in the status text and in a plain-text body;
ASGI servers do not let us choose the reason phrase, so the body carries it. The Turbo
SDK reads the body first (``errorText || statusText``).
"""

from starlette.responses import JSONResponse, PlainTextResponse, Response

from bundlestream.api.outcomes import Accepted, Duplicate, Outcome, Rejected, Unavailable


def respond(outcome: Outcome, retry_after_s: int = 1) -> Response:
    """The response for one upload outcome."""
    match outcome:
        case Accepted(receipt=receipt, beside=beside):
            return JSONResponse({**receipt, **beside})
        case Duplicate():
            return PlainTextResponse(outcome.message, status_code=202)
        case Rejected(status=status, message=message):
            return PlainTextResponse(message, status_code=status)
        case Unavailable(message=message):
            return unavailable(message, retry_after_s)


def unavailable(message: str, retry_after_s: int) -> Response:
    """503 with Retry-After: overload and dependency outages are shed, never queued."""
    return PlainTextResponse(message, status_code=503, headers={"Retry-After": str(retry_after_s)})


def refused_before_body(message: str, retry_after_s: int, expects_continue: bool) -> Response:
    """A request refused before its body was read: 503 + Retry-After, or 417 when the
    client waits for 100 Continue; ``Connection: close``, as the body is never read."""
    return PlainTextResponse(
        message,
        status_code=417 if expects_continue else 503,
        headers={"Retry-After": str(retry_after_s), "Connection": "close"},
    )


def too_many_requests(retry_after_s: int) -> Response:
    return PlainTextResponse(
        "Too Many Requests", status_code=429, headers={"Retry-After": str(retry_after_s)}
    )
