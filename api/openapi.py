"""GET /openapi.json: the upload API described for client generators and humans."""

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

TEXT = {"text/plain": {"schema": {"type": "string"}}}
RECEIPT = {
    "type": "object",
    "required": ["id", "timestamp", "winc", "version", "deadlineHeight", "public", "signature"],
    "properties": {
        "id": {"type": "string"},
        "timestamp": {"type": "integer", "description": "milliseconds since the epoch"},
        "winc": {"type": "string"},
        "version": {"type": "string", "example": "0.2.0"},
        "deadlineHeight": {"type": "integer"},
        "dataCaches": {"type": "array", "items": {"type": "string"}},
        "fastFinalityIndexes": {"type": "array", "items": {"type": "string"}},
        "public": {"type": "string", "description": "the service key's modulus (base64url)"},
        "signature": {"type": "string"},
        "owner": {"type": "string", "description": "normalized owner address"},
    },
}


def answer(description: str, content: Mapping[str, object] | None = None) -> dict[str, object]:
    return {"description": description, **({"content": content} if content else {})}


def json_of(schema: Mapping[str, object]) -> dict[str, object]:
    return {"application/json": {"schema": schema}}


UPLOAD_ANSWERS = {
    "200": answer("Receipt: payload durable and event acknowledged", json_of(RECEIPT)),
    "202": answer("Duplicate: the item was already uploaded", TEXT),
    "400": answer("Invalid Content Type / parse error / invalid signature / too large", TEXT),
    "402": answer(
        "Insufficient balance: the x402 requirements {x402Version, error, accepts} for the"
        " Content-Length (X-PAYMENT pays them); plain text without Content-Length",
        {**json_of({"type": "object"}), **TEXT},
    ),
    "403": answer("Forbidden (blocklisted owner)", TEXT),
    "429": answer("Too many requests from this client (Retry-After)", TEXT),
    "503": answer("A dependency is down or the service is overloaded (Retry-After)", TEXT),
}
OBJECT = json_of({"type": "object"})


def operation(summary: str, answers: Mapping[str, object], body: bool = False) -> dict[str, object]:
    op: dict[str, object] = {"summary": summary, "responses": answers}
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    return op


PATHS: dict[str, dict[str, object]] = {
    "/tx": {"post": operation("Upload one signed ANS-104 data item", UPLOAD_ANSWERS, True)},
    "/tx/{token}": {"post": operation("Upload a data item (token route)", UPLOAD_ANSWERS, True)},
    "/tx/{id}/status": {
        "get": operation(
            "Status of an item",
            {"200": answer("Status", OBJECT), "404": answer("TX doesn't exist", TEXT)},
        )
    },
    "/tx/{id}/offsets": {
        "get": operation(
            "Offsets of an item",
            {"200": answer("Offsets", OBJECT), "404": answer("TX doesn't exist", TEXT)},
        )
    },
    "/info": {"get": operation("Service info and limits", {"200": answer("Info", OBJECT)})},
    "/health": {"get": operation("Liveness", {"200": answer("OK")})},
    "/metrics": {"get": operation("Prometheus metrics", {"200": answer("Metrics", TEXT)})},
    "/chunks/{token}/-1/-1": {
        "get": operation(
            "Create a chunked upload (?chunkSize=N)",
            {
                "200": answer("{id, min, max, chunkSize}", OBJECT),
                "400": answer("Invalid chunk size", OBJECT),
            },
        )
    },
    "/chunks/{token}/{uploadId}/-1": {
        "get": operation(
            "Chunks received so far",
            {
                "200": answer("{id, min, max, size, chunks}", OBJECT),
                "404": answer("not found", TEXT),
            },
        ),
        "post": operation("Finalize synchronously", UPLOAD_ANSWERS),
    },
    "/chunks/{token}/{uploadId}/{offset}": {
        "post": operation(
            "Upload one chunk at a byte offset",
            {
                "200": answer("stored"),
                "400": answer("Invalid chunk", TEXT),
                "404": answer("not found", TEXT),
            },
            True,
        )
    },
    "/chunks/{token}/{uploadId}/finalize": {
        "post": operation(
            "Finalize asynchronously", {"202": answer("Finalization started; poll status")}
        )
    },
    "/chunks/{token}/{uploadId}/status": {
        "get": operation(
            "ASSEMBLING, VALIDATING, FINALIZING, FINALIZED (with receipt), INVALID, UNDERFUNDED",
            {"200": answer("status", OBJECT), "404": answer("not found", TEXT)},
        )
    },
}


def spec(version: str) -> dict[str, object]:
    """The OpenAPI 3.0 document; every path is also served under /v1."""
    paths = {
        **PATHS,
        **{f"/v1{p}": ops for p, ops in PATHS.items() if p not in ("/health", "/metrics")},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "bundlestream upload API", "version": version},
        "paths": paths,
    }


async def endpoint(request: Request) -> Response:
    return JSONResponse(spec(request.state.api.info["version"]))
