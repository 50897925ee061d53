"""ANS-104 parse + verify throughput.

1. items/s parsed and verified, per signature type, for items with a 1 KiB payload;
2. MB/s of streaming verification of one data item with a 1 GiB payload (generated on
   the fly from one random block, never stored), beside hashlib SHA-384's rate over the
   same chunks in the same run: the ceiling, since the payload is hashed exactly once.

Run: .venv/bin/python bench/bench_ans104.py [--payload-mib 1024] [--chunk-kib 1024]
"""

import argparse
import hashlib
import os
import platform
import time
from collections.abc import Callable, Iterator
from functools import partial

import coincurve
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundlestream.core.ans104 import DataItemParser, Tag, parse_data_item
from bundlestream.core.ans104.signature_types import SIGNATURE_LAYOUTS, SignatureType
from bundlestream.core.ans104.signing import (
    ArweaveSigner,
    DataItemSigner,
    Ed25519Signer,
    EthereumSigner,
    MultiAptosSigner,
    TypedEthereumSigner,
    sign_data_item,
    sign_data_item_header,
)
from bundlestream.core.deephash import BlobHasher
from bundlestream.core.jwk import arweave_key_from_jwk, jwk_from_private_key

TAGS = [Tag(b"Content-Type", b"application/octet-stream"), Tag(b"App-Name", b"bench")]
MIB = 1024 * 1024


def signers() -> dict[SignatureType, DataItemSigner]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    ed, eth = Ed25519PrivateKey.generate(), coincurve.PrivateKey()
    aptos = [Ed25519PrivateKey.generate() for _ in range(3)]
    return {
        SignatureType.ARWEAVE: ArweaveSigner(arweave_key_from_jwk(jwk_from_private_key(rsa_key))),
        SignatureType.ED25519: Ed25519Signer(ed),
        SignatureType.ETHEREUM: EthereumSigner(eth),
        SignatureType.SOLANA: Ed25519Signer(ed, signature_type=SignatureType.SOLANA),
        SignatureType.INJECTED_APTOS: Ed25519Signer(
            ed, signature_type=SignatureType.INJECTED_APTOS
        ),
        SignatureType.MULTI_APTOS: MultiAptosSigner(aptos, threshold=2, signing=[0, 2]),
        SignatureType.TYPED_ETHEREUM: TypedEthereumSigner(eth),
    }


def rate(work: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``work``, run repeatedly for about ``seconds``."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        work()
        count += 1
    return count / elapsed


def bench_small_items(seconds: float) -> None:
    print("## 1 KiB items, parse + verify (one thread)")
    print(f"{'type':>4} {'name':<14} {'item bytes':>10} {'items/s':>10}")
    payload = os.urandom(1024)
    for signature_type, signer in signers().items():
        item = sign_data_item(signer, payload, tags=TAGS)
        assert parse_data_item(item).payload_size == 1024
        per_second = rate(partial(parse_data_item, item), seconds)
        name = SIGNATURE_LAYOUTS[signature_type].name
        print(f"{signature_type:>4} {name:<14} {len(item):>10} {per_second:>10.0f}")


def payload_chunks(block: bytes, total: int) -> Iterator[memoryview]:
    view = memoryview(block)
    for start in range(0, total, len(block)):
        yield view[: min(len(block), total - start)]


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def hashlib_pass(block: bytes, total: int) -> None:
    digest = hashlib.sha384()
    for chunk in payload_chunks(block, total):
        digest.update(chunk)
    digest.digest()


def verify_pass(header: bytes, block: bytes, total: int) -> None:
    parser = DataItemParser(len(header) + total)
    parser.feed(header)
    for chunk in payload_chunks(block, total):
        parser.feed(chunk)
    assert parser.finish().payload_size == total


def bench_large_payload(payload_mib: int, chunk_kib: int, rounds: int) -> None:
    total, block = payload_mib * MIB, os.urandom(chunk_kib * 1024)
    blob = BlobHasher()
    for chunk in payload_chunks(block, total):
        blob.update(chunk)
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    header = sign_data_item_header(signer, blob.digest(), tags=TAGS)
    hashlib_s = min(timed(lambda: hashlib_pass(block, total)) for _ in range(rounds))
    verify_s = min(timed(lambda: verify_pass(header, block, total)) for _ in range(rounds))
    mb = total / 1e6
    print(
        f"## streaming verification, {payload_mib} MiB payload, {chunk_kib} KiB chunks,"
        f" best of {rounds}"
    )
    print(f"hashlib sha384      {mb / hashlib_s:8.1f} MB/s")
    print(
        f"DataItemParser      {mb / verify_s:8.1f} MB/s  ({100 * hashlib_s / verify_s:.1f} %"
        " of hashlib)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="per signature type")
    parser.add_argument("--payload-mib", type=int, default=1024)
    parser.add_argument("--chunk-kib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(
        f"# bench_ans104 — Python {platform.python_version()}, {os.cpu_count()} CPUs,"
        f" {platform.machine()}"
    )
    bench_small_items(args.seconds)
    bench_large_payload(args.payload_mib, args.chunk_kib, args.rounds)


if __name__ == "__main__":
    main()
