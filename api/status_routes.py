"""GET /tx/{id}/status, GET /tx/{id}/offsets and GET /info.

Status and offsets answer from the projections (``api.projected_status``) once they
have the item, and before that from the fresh-receipt view the upload path writes
before it returns the receipt, so there is no 404 window after an upload. Offsets
from the fresh view are what is known of the item itself (size, payload start,
content type), without the bundle fields.
"""

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bundlestream.adapters.fresh_receipts import ViewUnavailable
from bundlestream.api.context import ApiContext
from bundlestream.api.projected_status import projected_offsets, projected_status
from bundlestream.api.request_numbers import is_item_id

NOT_FOUND = "TX doesn't exist"


def item_facts(record: dict[str, Any]) -> dict[str, Any]:
    size, start = record["rawContentLength"], record["payloadDataStart"]
    return {
        "rawContentLength": size,
        "payloadDataStart": start,
        "payloadContentType": record["payloadContentType"],
        "payloadContentLength": size - start,
    }


def status_body(record: dict[str, Any]) -> dict[str, Any]:
    """Upstream's shape for an item received but not yet bundled (its info 'new')."""
    return {
        "status": "CONFIRMED",
        "bundleId": None,
        "info": "new",
        "winc": record["winc"],
        **item_facts(record),
    }


async def lookup(request: Request) -> dict[str, Any] | Response:
    api: ApiContext = request.state.api
    try:
        record = await api.upload.fresh.get(request.path_params["id"])
    except ViewUnavailable:
        return PlainTextResponse(
            "Internal Server Error",
            status_code=503,
            headers={"Retry-After": str(api.retry_after_s)},
        )
    return PlainTextResponse(NOT_FOUND, status_code=404) if record is None else record


def unknown_id(request: Request) -> Response | None:
    """404 for what cannot be an item id, before it reaches a query or a log line."""
    valid = is_item_id(request.path_params["id"])
    return None if valid else PlainTextResponse(NOT_FOUND, status_code=404)


async def get_status(request: Request) -> Response:
    api: ApiContext = request.state.api
    if (refused := unknown_id(request)) is not None:
        return refused
    projected = await projected_status(api.projections, request.path_params["id"])
    if projected is not None:
        return JSONResponse(projected)
    record = await lookup(request)
    return record if isinstance(record, Response) else JSONResponse(status_body(record))


async def get_offsets(request: Request) -> Response:
    api: ApiContext = request.state.api
    if (refused := unknown_id(request)) is not None:
        return refused
    projected = await projected_offsets(api.projections, request.path_params["id"])
    if projected is not None:
        return JSONResponse(projected)
    record = await lookup(request)
    return record if isinstance(record, Response) else JSONResponse(item_facts(record))


async def get_info(request: Request) -> Response:
    api: ApiContext = request.state.api
    return JSONResponse({**api.info, "blockHeight": api.upload.height()})


def routes() -> list[Route]:
    table = [
        ("/tx/{id}/status", get_status),
        ("/tx/{id}/offsets", get_offsets),
        ("/info", get_info),
        ("/", get_info),
    ]
    return [
        Route(prefix + p, handler, methods=["GET"])
        for prefix in ("", "/v1")
        for p, handler in table
    ]
