"""Arweave-side throughput: receipt signing, data_root of a stream, payload deep hash.

Run on purpose: ``.venv/bin/python bench/bench_arweave.py [--stream-mib 256]``. Prints
each rate beside the hashlib ceiling measured in the same run on the same stream. Rates
are per CPU second of this thread (``time.thread_time``), and every 1 MiB piece is fed to
the candidate and then to the ceiling, each timed on its own, so that load from other
processes falls on both alike.
"""

import argparse
import hashlib
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import rsa

from bundlestream.core.deephash import BlobHasher
from bundlestream.core.jwk import ArweaveKey, arweave_key_from_jwk, jwk_from_private_key
from bundlestream.core.merkle import DataRootBuilder
from bundlestream.core.receipts import sign_receipt

MiB = 1024 * 1024
PIECE = MiB  # the stream arrives in 1 MiB pieces, as from the object store


def signing_rate(key: ArweaveKey, seconds: float) -> float:
    count, start = 0, time.thread_time()
    while time.thread_time() - start < seconds:
        sign_receipt(
            key,
            id="QpmY8mZmFEC8RxNsgbxSV6e36OF6quIYaPRKzvUco0o",
            deadline_height=1_500_000 + count,
            timestamp=1_700_000_000_000 + count,
            winc="0",
            data_caches=["arweave.net"],
            fast_finality_indexes=["arweave.net"],
            owner="J40R1BgFSI1_7p25QW49T7P46BePJJnlDrsFGY1YWbM",
        )
        count += 1
    return count / (time.thread_time() - start)


Consumer = Callable[[memoryview], None]


def paired_rates(
    candidate: Consumer, ceiling: Consumer, pieces: int, piece: bytes
) -> tuple[float, float]:
    """MB/s of ``candidate`` and ``ceiling`` fed the same pieces, interleaved piece by piece."""
    view, spent = memoryview(piece), [0.0, 0.0]
    for _ in range(pieces):
        for slot, consume in enumerate((candidate, ceiling)):
            start = time.thread_time()
            consume(view)
            spent[slot] += time.thread_time() - start
    megabytes = pieces * len(piece) / MiB
    return megabytes / spent[0], megabytes / spent[1]


def data_root_vs_sha256(pieces: int, piece: bytes) -> tuple[float, float]:
    builder = DataRootBuilder(pieces * len(piece))
    rates = paired_rates(builder.update, hashlib.sha256().update, pieces, piece)
    builder.finish()
    return rates


def blob_hash_vs_sha384(pieces: int, piece: bytes) -> tuple[float, float]:
    hasher = BlobHasher()
    rates = paired_rates(hasher.update, hashlib.sha384().update, pieces, piece)
    hasher.digest()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stream-mib", type=int, default=256)
    parser.add_argument("--sign-seconds", type=float, default=3.0)
    args = parser.parse_args()
    for bits in (2048, 4096):
        key = arweave_key_from_jwk(jwk_from_private_key(rsa.generate_private_key(65537, bits)))
        print(f"receipt signing RSA-{bits}: {signing_rate(key, args.sign_seconds):.0f} receipts/s")
    piece, pieces = bytes(range(256)) * (PIECE // 256), args.stream_mib
    root, sha256 = data_root_vs_sha256(pieces, piece)
    print(
        f"data_root of {pieces} MiB: {root:.0f} MB/s; hashlib SHA-256 {sha256:.0f} MB/s "
        f"({100 * root / sha256:.1f} %)"
    )
    blob, sha384 = blob_hash_vs_sha384(pieces, piece)
    print(
        f"payload deep hash (BlobHasher) of {pieces} MiB: {blob:.0f} MB/s; "
        f"hashlib SHA-384 {sha384:.0f} MB/s ({100 * blob / sha384:.1f} %)"
    )


if __name__ == "__main__":
    main()
