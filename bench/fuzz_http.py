"""Seeded malformed HTTP/1.1 requests, sent over raw sockets, for bench/fuzz_upload.py.

Each case is the bytes of one request as a hostile or broken client sends them (RFC 9112
"Message Parsing": bad request lines, Content-Length with Transfer-Encoding (section
6.1), unknown or repeated codings, bare LF, obs-fold (section 5.2), header size and
count, bad chunk sizes (section 7.1)), and routes that take a path segment as a number
or an id: chunk offsets, chunk sizes, upload ids and data item ids on status routes.
"""

import asyncio
import random
from collections.abc import Callable
from urllib.parse import quote

Case = Callable[[random.Random, str], bytes]

_ITEM = b"\x02\x00" + b"\x00" * 200  # the start of an ed25519 item; never a whole one


def _head(line: str, headers: list[str], host: str) -> bytes:
    return "\r\n".join([line, f"Host: {host}", "Connection: close", *headers, "", ""]).encode()


def bad_request_line(rng: random.Random, host: str) -> bytes:
    line = rng.choice(
        [
            "GET",
            "GET / HTTP/9.9",
            "G@T / HTTP/1.1",
            "GET  / HTTP/1.1",
            "GET /\x00 HTTP/1.1",
            "GET / HTTP/1.1 extra",
            "/ HTTP/1.1",
            "GET /" + "a" * rng.choice((8_000, 70_000)) + " HTTP/1.1",
            rng.randbytes(40).hex(),
        ]
    )
    return _head(line, [], host)


def content_length_and_chunked(rng: random.Random, host: str) -> bytes:
    headers = ["Content-Length: 5", "Transfer-Encoding: chunked"]
    rng.shuffle(headers)
    return _head("POST /tx HTTP/1.1", headers, host) + b"0\r\n\r\n"


def odd_transfer_encoding(rng: random.Random, host: str) -> bytes:
    coding = rng.choice(
        ["chunked, identity", "xchunked", " chunked", "chunked\t", "gzip", "chunked, chunked"]
    )
    return _head("POST /tx HTTP/1.1", [f"Transfer-Encoding: {coding}"], host) + b"0\r\n\r\n"


def bare_lf(rng: random.Random, host: str) -> bytes:
    return f"POST /tx HTTP/1.1\nHost: {host}\nContent-Length: 4\nConnection: close\n\n".encode() + (
        b"\x02\x00\x00\x00"
    )


def obs_fold(rng: random.Random, host: str) -> bytes:
    return _head("GET /info HTTP/1.1", ["X-Folded: a", " continued", "\tagain"], host)


def huge_header(rng: random.Random, host: str) -> bytes:
    size = rng.choice((8_192, 65_536, 1_048_576))
    return _head("GET /info HTTP/1.1", ["X-Big: " + "a" * size], host)


def many_headers(rng: random.Random, host: str) -> bytes:
    count = rng.choice((101, 1_000, 5_000))
    name = rng.choice(["x-paid-by", "x-many"])
    return _head("GET /info HTTP/1.1", [f"{name}: {i}" for i in range(count)], host)


def bad_chunk_size(rng: random.Random, host: str) -> bytes:
    size = rng.choice([b"zz", b"-1", b"f" * 40, b"", b"1;" + b"x" * 9000, b"0x10", b"4 4"])
    head = _head("POST /tx HTTP/1.1", ["Transfer-Encoding: chunked"], host)
    return head + size + b"\r\n" + _ITEM[:4] + b"\r\n0\r\n\r\n"


def _number(rng: random.Random) -> str:
    return rng.choice(
        ["-5", "abc", "0x10", "1e9", "", "+1", "00", "9" * rng.choice((19, 300, 5_000)), "%00"]
    )


# A real multipart session's id, set by the run once it has created one, so that bad
# offsets and finalizes reach the session's own checks and not just its lookup.
LIVE_UPLOADS: list[str] = []


def bad_chunk_route(rng: random.Random, host: str) -> bytes:
    token = rng.choice(["arweave", "x", "%0A"])
    upload = rng.choice(["nope", "-1", _number(rng), *(LIVE_UPLOADS * 3)])
    method, path = rng.choice(
        [
            ("GET", f"/chunks/{token}/-1/-1?chunkSize={_number(rng)}"),
            ("POST", f"/chunks/{token}/{upload}/{_number(rng)}"),
            ("POST", f"/chunks/{token}/{upload}/-1"),
            ("POST", f"/chunks/{token}/{upload}/finalize"),
            ("GET", f"/chunks/{token}/{upload}/status"),
            ("GET", f"/chunks/{token}/{upload}/-1"),
        ]
    )
    body = rng.randbytes(rng.choice((0, 10, 1000))) if method == "POST" else b""
    headers = [f"Content-Length: {len(body)}"] if method == "POST" else []
    return _head(f"{method} {path} HTTP/1.1", headers, host) + body


def bad_status_id(rng: random.Random, host: str) -> bytes:
    raw = rng.choice(
        ["%0Aforged", "..%2F..%2Fetc", "a" * 43, "a" * 5_000, quote(rng.randbytes(12)), "%ZZ", "é"]
    )
    route = rng.choice(["/tx/{}/status", "/tx/{}/offsets", "/v1/tx/{}/status", "/tx/{}"])
    method = "POST" if route == "/tx/{}" else "GET"
    return _head(f"{method} {route.format(raw)} HTTP/1.1", ["Content-Length: 0"], host)


CASES: dict[str, Case] = {
    "bad-request-line": bad_request_line,
    "cl+te": content_length_and_chunked,
    "odd-te": odd_transfer_encoding,
    "bare-lf": bare_lf,
    "obs-fold": obs_fold,
    "huge-header": huge_header,
    "many-headers": many_headers,
    "bad-chunk-size": bad_chunk_size,
    "bad-chunk-route": bad_chunk_route,
    "bad-status-id": bad_status_id,
}


async def send_raw(host: str, port: int, request: bytes, timeout_s: float = 15.0) -> str:
    """The status code the server answered, or "closed" (no answer before it closed the
    connection), or "timeout"."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError):
        return "refused"
    try:
        writer.write(request)
        # No half-close: uvicorn takes EOF as the client gone and cancels the request.
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout_s)
        parts = line.split()
        return parts[1].decode() if len(parts) > 1 and line.startswith(b"HTTP/") else "closed"
    except (ConnectionError, OSError):
        return "closed"
    except TimeoutError:
        return "timeout"
    finally:
        writer.close()
