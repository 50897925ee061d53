"""Routes of the Turbo SDK's chunked upload protocol (under /chunks, and /v1/chunks)."""

from collections.abc import Awaitable, Callable
from functools import partial

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from bundlestream.adapters.multipart_sessions import Reservation, Session
from bundlestream.api.chunked import Finalizing
from bundlestream.api.context import ApiContext
from bundlestream.api.outcomes import too_large
from bundlestream.api.request_numbers import decimal, is_upload_id
from bundlestream.api.responses import respond
from bundlestream.api.upload_routes import PaidRoute, content_length, paid_by, unfunded

SSE = "text/event-stream"
INVALID_CHUNK = "Invalid chunk."
INVALID_OFFSET = "Invalid chunk offset: expected at most 20 decimal digits."


def not_found(upload_id: str) -> Response:
    return PlainTextResponse(f"Multi-part upload with ID {upload_id} not found!", status_code=404)


async def session_of(request: Request) -> Session | Response:
    """The session named by the path, under the token it was created with, or 404.

    An id that no session could have is refused before it reaches Redis or a log line.
    """
    api: ApiContext = request.state.api
    upload_id = request.path_params["upload_id"]
    if not is_upload_id(upload_id):
        return not_found("(invalid)")
    session = await api.chunked.sessions.get(upload_id)
    if session is None or session.token != request.path_params["token"]:
        return not_found(upload_id)
    return session


async def create_upload(request: Request, paid: PaidRoute | None) -> Response:
    api: ApiContext = request.state.api
    raw = request.query_params.get("chunkSize")
    chunk_size = decimal(raw)
    valid = raw is None or chunk_size is not None
    total = request.query_params.get("totalBytes")
    if valid and total is not None and paid is not None:  # paid for by this request
        return await paid.create(request, total, chunk_size)
    created = await api.chunked.create(request.path_params["token"], chunk_size) if valid else None
    if created is None:
        bounds = api.chunked.bounds
        body = {"error": "Invalid chunk size", "min": bounds.min, "max": bounds.max}
        return JSONResponse(body, status_code=400)
    return JSONResponse(created)


async def get_upload(request: Request) -> Response:
    session = await session_of(request)
    if isinstance(session, Response):
        return session
    return JSONResponse(await request.state.api.chunked.describe(session))


async def get_status(request: Request) -> Response:
    session = await session_of(request)
    if isinstance(session, Response):
        return session
    return JSONResponse(await request.state.api.chunked.status(session))


async def status_events(request: Request) -> Response:
    """Server-sent events: the status (with bytes received and validated) every second
    until the upload is finalized or failed."""
    session = await session_of(request)
    if isinstance(session, Response):
        return session
    chunked = request.state.api.chunked
    return StreamingResponse(chunked.status_stream(session.upload_id), media_type=SSE)


async def post_chunk(request: Request) -> Response:
    api: ApiContext = request.state.api
    session = await session_of(request)
    if isinstance(session, Response):
        return session
    offset, size = decimal(request.path_params["offset"]), content_length(request)
    if offset is None:
        return PlainTextResponse(INVALID_OFFSET, status_code=400)
    if not size or size > api.chunked.bounds.max or session.status != "ASSEMBLING":
        return PlainTextResponse(INVALID_CHUNK, status_code=400)
    try:
        verdict = await api.chunked.put_chunk(session, offset, size, request.stream())
    except ClientDisconnect:
        return Response(status_code=499)
    return chunk_answer(verdict, api.upload.max_item_size, api.retry_after_s)


def chunk_answer(verdict: Reservation, max_item_size: int, retry_after_s: int) -> Response:
    if verdict is Reservation.GRANTED:
        return Response(status_code=200)
    if verdict is Reservation.OVER_CAP:
        return respond(too_large(max_item_size), retry_after_s)
    return PlainTextResponse(INVALID_CHUNK, status_code=400)


async def finalize(request: Request, wait: bool, paid: PaidRoute | None) -> Response:
    api: ApiContext = request.state.api
    session = await session_of(request)
    if isinstance(session, Response):
        return session
    payment = None if paid is None else await paid.finalize_payment(request, session)
    if isinstance(payment, Response):
        return payment
    outcome = await api.chunked.finalize(session, paid_by(request), wait=wait, payment=payment)
    if isinstance(outcome, Finalizing):
        return Response(status_code=202)
    if paid is not None and payment is not None:
        return paid.paid_answer(outcome, payment, api.retry_after_s)
    if paid is not None and unfunded(outcome):  # UNDERFUNDED: priced as the whole item
        size = sum((await api.chunked.sessions.parts(session.upload_id)).values())
        return await paid.unfunded(request, size, outcome)
    return respond(outcome, api.retry_after_s)


def routes(paid: PaidRoute | None = None) -> list[Route]:
    """Order matters: literal segments (-1, status, finalize) before the offset route."""
    table: list[tuple[str, Callable[[Request], Awaitable[Response]], str]] = [
        ("/chunks/{token}/-1/-1", partial(create_upload, paid=paid), "GET"),
        ("/chunks/{token}/{upload_id}/-1", get_upload, "GET"),
        ("/chunks/{token}/{upload_id}/status", get_status, "GET"),
        ("/chunks/{token}/{upload_id}/events", status_events, "GET"),
        ("/chunks/{token}/{upload_id}/-1", partial(finalize, wait=True, paid=paid), "POST"),
        ("/chunks/{token}/{upload_id}/finalize", partial(finalize, wait=False, paid=paid), "POST"),
        # A str, not Starlette's int convertor: that turns 4,301 digits into a 500.
        ("/chunks/{token}/{upload_id}/{offset}", post_chunk, "POST"),
    ]
    return [
        Route(prefix + p, handler, methods=[method])
        for prefix in ("", "/v1")
        for p, handler, method in table
    ]
