"""Seeded mutations of real signed data items, for bench/fuzz_upload.py.

Starts from items of all seven ANS-104 signature types, and mutates them the ways a
broken or hostile client would: truncation, bit flips anywhere, byte insertions and
deletions, lying length fields (the tag count and tag-bytes fields, 8 bytes little
endian each, after the signature, owner, target and anchor: ANS-104 "Binary format"),
signature types overwritten, and freshly signed items at the tag limits ±1 (128 tags,
names of 1,024 bytes, values of 3,072: ANS-104 "Tag format").
"""

import random
from collections.abc import Callable

import coincurve
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundlestream.core.ans104 import Tag
from bundlestream.core.ans104.signature_data import header_digests, signature_data
from bundlestream.core.ans104.signature_types import SignatureType, layout_of
from bundlestream.core.ans104.signing import (
    ArweaveSigner,
    DataItemSigner,
    Ed25519Signer,
    EthereumSigner,
    MultiAptosSigner,
    TypedEthereumSigner,
    sign_data_item,
)
from bundlestream.core.ans104.tags import (
    MAX_TAG_NAME_BYTES,
    MAX_TAG_VALUE_BYTES,
    MAX_TAGS,
    encode_tags,
)
from bundlestream.core.deephash import blob_digest
from bundlestream.core.jwk import arweave_key_from_jwk, jwk_from_private_key

# Sizes of the base items' payloads; 70,000 is past the default inline limit (64 KiB),
# so those items are stored in the object store, whose listing the run accounts for.
PAYLOAD_SIZES = (0, 100, 2_000, 70_000)


def all_signers() -> list[DataItemSigner]:
    """One signer of each signature type 1 to 7."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    aptos = [Ed25519PrivateKey.generate() for _ in range(3)]
    return [
        ArweaveSigner(arweave_key_from_jwk(jwk_from_private_key(rsa_key))),
        Ed25519Signer(Ed25519PrivateKey.generate()),
        EthereumSigner(coincurve.PrivateKey()),
        Ed25519Signer(Ed25519PrivateKey.generate(), SignatureType.SOLANA),
        Ed25519Signer(Ed25519PrivateKey.generate(), SignatureType.INJECTED_APTOS),
        MultiAptosSigner(aptos, threshold=2, signing=(0, 2)),
        TypedEthereumSigner(coincurve.PrivateKey()),
    ]


def base_items(rng: random.Random, signers: list[DataItemSigner]) -> list[bytes]:
    """Valid items: every signer, every payload size, with a tag, a target or an anchor."""
    items = []
    for signer in signers:
        for size in PAYLOAD_SIZES:
            tags = [Tag(b"Content-Type", b"application/octet-stream")]
            target = rng.randbytes(32) if size % 2 else None
            items.append(
                sign_data_item(
                    signer, rng.randbytes(size), tags=tags, target=target, anchor=rng.randbytes(32)
                )
            )
    return items


def limit_items(rng: random.Random, signer: DataItemSigner) -> list[bytes]:
    """Items at each tag limit, one under it and one over it (over: invalid)."""
    items = []
    for delta in (-1, 0, 1):
        many = [Tag(b"n%d" % i, b"v") for i in range(MAX_TAGS + delta)]
        name = [Tag(b"n" * (MAX_TAG_NAME_BYTES + delta), b"v")]
        value = [Tag(b"n", b"v" * (MAX_TAG_VALUE_BYTES + delta))]
        empty_name = [Tag(b"", b"v")]
        for tags in (many, name, value, empty_name):
            items.append(signed_anyway(signer, rng.randbytes(64), tags))
    return items


def signed_anyway(signer: DataItemSigner, payload: bytes, tags: list[Tag]) -> bytes:
    """A correctly signed item whatever its tags, past the limits that ``sign_data_item``
    refuses (the layout of ``core.ans104.serialization.serialize_header``)."""
    raw_tags = encode_tags(tags)
    kind, owner = signer.signature_type, signer.owner
    digests = header_digests(kind, owner, None, None, raw_tags)
    signature = signer.sign(signature_data(digests, blob_digest(payload)))
    counts = len(tags).to_bytes(8, "little") + len(raw_tags).to_bytes(8, "little")
    return (
        kind.to_bytes(2, "little") + signature + owner + b"\x00\x00" + counts + raw_tags + payload
    )


def _tag_fields_at(item: bytes) -> int | None:
    """Offset of the tag-count field, or None when the header is too short to say."""
    layout = layout_of(int.from_bytes(item[:2], "little"))
    if layout is None:
        return None
    at = 2 + layout.signature_length + layout.owner_length
    for _ in range(2):  # target, then anchor: a presence byte, then 32 bytes if present
        if at >= len(item):
            return None
        at += 33 if item[at] == 1 else 1
    return at if at + 16 <= len(item) else None


def _truncate(rng: random.Random, item: bytes) -> bytes:
    return item[: rng.randrange(len(item))]


def _flip(rng: random.Random, item: bytes) -> bytes:
    out = bytearray(item)
    for _ in range(rng.choice((1, 1, 2, 8))):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def _insert(rng: random.Random, item: bytes) -> bytes:
    at = rng.randrange(len(item) + 1)
    return item[:at] + rng.randbytes(rng.choice((1, 2, 7, 64))) + item[at:]


def _delete(rng: random.Random, item: bytes) -> bytes:
    at = rng.randrange(len(item))
    return item[:at] + item[at + rng.choice((1, 2, 7, 64)) :]


def _lie_length(rng: random.Random, item: bytes) -> bytes:
    at = _tag_fields_at(item)
    if at is None:
        return _flip(rng, item)
    field = at + rng.choice((0, 8))  # the tag count or the tag bytes
    current = int.from_bytes(item[field : field + 8], "little")
    lie = rng.choice((current + 1, max(current - 1, 0), 2**64 - 1, 2**63, rng.randrange(2**64)))
    return item[:field] + lie.to_bytes(8, "little") + item[field + 8 :]


def _signature_type(rng: random.Random, item: bytes) -> bytes:
    kind = rng.choice((0, 8, 9, 0xFFFF, rng.randrange(1, 8), rng.randrange(2**16)))
    return kind.to_bytes(2, "little") + item[2:]


MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "truncate": _truncate,
    "flip": _flip,
    "insert": _insert,
    "delete": _delete,
    "lying-length": _lie_length,
    "signature-type": _signature_type,
}


def mutated(rng: random.Random, items: list[bytes], limits: list[bytes]) -> tuple[str, bytes]:
    """One case: its kind and its bytes. Small items are picked more often than big ones
    (which cost 35 times as much to send), and 1 in 50 is sent unmutated."""
    pick = rng.random()
    if pick < 0.02:
        return "original", rng.choice(items)
    if pick < 0.04:
        return "tag-limit", rng.choice(limits)
    item = rng.choice([i for i in rng.sample(items, 3) if len(i) < 60_000] or items)
    kind = rng.choice(list(MUTATIONS))
    return kind, MUTATIONS[kind](rng, item)
