"""Signed data items for the upload benchmarks: distinct 1 KiB items, cached on disk.

RSA-4096 signing costs about 2 ms an item, so the arweave-signed set is made once in
parallel and kept in a file; Ed25519 items are cheap enough to make on the fly.
"""

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundlestream.adapters.receipt_key import generate_jwk
from bundlestream.core.ans104 import Tag
from bundlestream.core.ans104.signing import ArweaveSigner, Ed25519Signer, sign_data_item
from bundlestream.core.jwk import arweave_key_from_jwk

MiB = 1024 * 1024
BLOCK = os.urandom(MiB)  # the repeated block of every generated payload


def _make_items(args: tuple[dict[str, str], int, int]) -> list[bytes]:
    jwk, start, count = args
    signer = ArweaveSigner(arweave_key_from_jwk(jwk))
    tags = [Tag(b"Content-Type", b"application/octet-stream")]
    return [
        sign_data_item(signer, (b"%012d" % i) + BLOCK[: 1024 - 12], tags=tags)
        for i in range(start, start + count)
    ]


def signed_items(count: int, cache: Path) -> list[bytes]:
    """``count`` distinct arweave-signed (RSA-4096) items with 1 KiB payloads, cached."""
    if cache.exists():
        blob = cache.read_bytes()
        items = [blob[i : i + int.from_bytes(blob[i - 4 : i], "big")] for i in _offsets(blob)]
        if len(items) >= count:
            return items[:count]
    jwk = generate_jwk(4096)
    step = 250
    jobs = [(jwk, start, min(step, count - start)) for start in range(0, count, step)]
    with ProcessPoolExecutor(os.cpu_count() or 2) as pool:
        items = [item for batch in pool.map(_make_items, jobs) for item in batch]
    cache.write_bytes(b"".join(len(item).to_bytes(4, "big") + item for item in items))
    return items


def ed25519_items(count: int, signer: Ed25519Signer | None = None) -> Iterator[bytes]:
    """Cheap distinct 1 KiB items (Ed25519) for Test 3's background traffic."""
    signer = signer or Ed25519Signer(Ed25519PrivateKey.generate())
    for i in range(count):
        yield sign_data_item(signer, (b"%012d" % i) + BLOCK[: 1024 - 12])


def _offsets(blob: bytes) -> Iterator[int]:
    at = 0
    while at < len(blob):
        size = int.from_bytes(blob[at : at + 4], "big")
        yield at + 4
        at += 4 + size
