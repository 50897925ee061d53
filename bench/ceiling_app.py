"""The single-stream ceiling of the upload benchmarks: uvicorn receiving a body with an
inline SHA-384 (what ANS-104's deep hash costs per byte) and nothing else, no parsing,
no store, no event. Run by ``bench/api_process.py``'s ``CeilingProcess``."""

import hashlib

from starlette.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Any request: hash its body, answer 200 with the digest."""
    if scope["type"] != "http":
        return
    digest = hashlib.sha384()
    more = True
    while more:
        message = await receive()
        digest.update(message.get("body", b""))
        more = message.get("more_body", False)
    body = digest.hexdigest().encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
