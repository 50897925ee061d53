"""arlocal's memory while it stores bundles: RSS growth per GiB posted, upload MB/s.

Run on purpose against a running stack (``make up``): ``.venv/bin/python
bench/bench_arlocal.py [--bundles 4] [--bundle-mib 256] [--items 4]``. Posts bundles of
fresh signed items (random payloads) to the stack's arlocal the way the post and seed
stages do (POST /tx without data, then every chunk with POST /chunk, in order), mines
each, and reads every item's data back (GET /{id}, compared byte for byte). Prints the
arlocal process's RSS (and its peak, VmHWM) before and after each bundle, its growth per
GiB posted, the growth of its database directory, and the upload rate beside the
ceiling measured in the same run: the same bundle bytes written to a file in the stack
directory and fsynced.
"""

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bundlestream.core.ans104.parser import parse_data_item
from bundlestream.core.arweave_tx import transaction_to_json
from bundlestream.core.merkle import DataRootBuilder, chunk_upload, uploaded_chunk_spans
from bundlestream.settings import Settings
from bundlestream.stack.arlocal import Arlocal
from tests.stack.test_arlocal_disk import memory, mine_until_mined
from tests.test_arweave_arlocal import bundle_pieces, bundle_transaction, fresh_item, wallet

MiB = 1024 * 1024
GiB = 1024 * MiB


def disk_bytes(directory: Path) -> int:
    return sum(f.stat().st_blocks * 512 for f in directory.rglob("*") if f.is_file())


def post_bundle(gateway: httpx.Client, payloads: list[bytes]) -> tuple[str, list[str], float]:
    """Post and seed one bundle; (its tx id, its items' ids, seconds spent posting)."""
    items = [fresh_item(payload) for payload in payloads]
    ids = [parse_data_item(item).header.id for item in items]
    bundle = b"".join(bundle_pieces(items))
    builder = DataRootBuilder(len(bundle))
    builder.update(bundle)
    tree = builder.finish()
    start = time.perf_counter()
    tx = bundle_transaction(gateway, len(bundle), tree.data_root)
    gateway.post("/tx", json=transaction_to_json(tx)).raise_for_status()
    for index, span in enumerate(uploaded_chunk_spans(len(bundle))):
        body = chunk_upload(tree, index, bundle[span.start : span.end]).to_json()
        gateway.post("/chunk", json=body).raise_for_status()
    return tx.id, ids, time.perf_counter() - start


def disk_ceiling(directory: Path, data: bytes) -> float:
    """MB/s of writing ``data`` to a file in ``directory`` and fsyncing it."""
    target = directory / "bench-arlocal-ceiling"
    start = time.perf_counter()
    with target.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    seconds = time.perf_counter() - start
    target.unlink()
    return len(data) / MiB / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundles", type=int, default=4)
    parser.add_argument("--bundle-mib", type=int, default=256)
    parser.add_argument("--items", type=int, default=4, help="items per bundle")
    args = parser.parse_args()
    settings = Settings()
    arlocal = Arlocal(settings)
    pid = arlocal.process.pid()
    if pid is None:
        sys.exit(f"arlocal is not running for the stack in {settings.stack.dir} (make up)")
    database = settings.stack.dir / "arlocal" / "db"
    item_size = args.bundle_mib * MiB // args.items
    print(f"arlocal pid {pid} at {settings.arweave.gateway_url}; load {os.getloadavg()}")
    print(f"{args.bundles} bundles x {args.items} items x {item_size / MiB:.1f} MiB")
    with httpx.Client(base_url=settings.arweave.gateway_url, timeout=600) as gateway:
        gateway.get(f"/mint/{wallet().address}/{10**18}").raise_for_status()
        rss_before = memory(pid)["VmRSS"]
        disk_before = disk_bytes(database)
        posted, post_s, ceilings = 0, 0.0, []
        for number in range(args.bundles):
            payloads = [os.urandom(item_size) for _ in range(args.items)]
            ceilings.append(disk_ceiling(settings.stack.dir, b"".join(payloads)))
            tx_id, ids, seconds = post_bundle(gateway, payloads)
            post_s += seconds
            posted += len(payloads) * item_size
            mine_until_mined(gateway, tx_id)
            for item_id, payload in zip(ids, payloads, strict=True):
                read = gateway.get(f"/{item_id}")
                assert read.status_code == 200, (item_id, read.status_code)
                assert hashlib.sha256(read.content).digest() == hashlib.sha256(payload).digest()
            rss, peak = memory(pid)["VmRSS"], memory(pid)["VmHWM"]
            rate = len(payloads) * item_size / MiB / seconds
            print(
                f"bundle {number + 1}: posted {posted / GiB:.2f} GiB  RSS {rss / MiB:7.1f} MiB"
                f"  peak {peak / MiB:7.1f} MiB  seeded at {rate:.1f} MB/s",
                flush=True,
            )
        rss_after, peak = memory(pid)["VmRSS"], memory(pid)["VmHWM"]
        disk_after = disk_bytes(database)
    growth = (rss_after - rss_before) / MiB / (posted / GiB)
    print(f"RSS {rss_before / MiB:.1f} → {rss_after / MiB:.1f} MiB (peak {peak / MiB:.1f})")
    print(f"RSS growth per GiB posted: {growth:.1f} MiB")
    print(f"database growth: {(disk_after - disk_before) / GiB:.2f} GiB for {posted / GiB:.2f} GiB")
    print(
        f"upload (POST /tx + /chunk): {posted / MiB / post_s:.1f} MB/s;"
        f" ceiling (write + fsync in the stack dir): {min(ceilings):.1f} to {max(ceilings):.1f}"
        " MB/s"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
