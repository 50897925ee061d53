"""The fuzz run: mutated data items and malformed HTTP requests against a real API.

Starts ``bundlestream api`` (the supervised uvicorn process of ``make up``) on the
BUNDLESTREAM_* settings of a running stack, at their defaults but for a free port and
an object store directory of its own (so its listing is this run's alone). Sends
``--items`` seeded mutations of signed items (bench/fuzz_items.py) and ``--requests``
malformed requests over raw sockets (bench/fuzz_http.py), then prints the accounting:
requests sent, status histograms, 5xx count, tracebacks in the API log, objects in the
store that no receipt names, multipart parts left, and items receipted that do not
parse and verify. Exits 1 unless the last four and the 5xx count are all 0.

  .venv/bin/python bench/fuzz_upload.py [--seed 1] [--items 100000] [--requests 10000]
"""

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from fuzz_http import CASES, LIVE_UPLOADS, send_raw
from fuzz_items import all_signers, base_items, limit_items, mutated

from bundlestream.core.ans104.errors import Ans104Error
from bundlestream.core.ans104.parser import parse_data_item
from bundlestream.settings import Settings

OCTET = {"Content-Type": "application/octet-stream"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_api(port: int, store: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BUNDLESTREAM_API_PORT": str(port),
        "BUNDLESTREAM_OBJECT_STORE": "fs",
        "BUNDLESTREAM_OBJECT_STORE_DIR": str(store),
    }
    argv = [sys.executable, "-m", "bundlestream.cli", "api"]
    with log.open("wb") as out:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)


async def wait_ready(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as client:
        for _ in range(600):
            try:
                if (await client.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the API did not become ready")


class ItemRun:
    """The item phase: statuses by mutation kind, and what was receipted."""

    def __init__(self) -> None:
        self.statuses: Counter[str] = Counter()
        self.by_kind: Counter[tuple[str, str]] = Counter()
        self.receipted: dict[str, bytes] = {}

    async def one(self, client: httpx.AsyncClient, kind: str, body: bytes) -> None:
        try:
            answer = await client.post("/tx", content=body, headers=OCTET)
        except httpx.TransportError as exc:
            status = f"transport:{type(exc).__name__}"
        else:
            status = str(answer.status_code)
            if answer.status_code == 200:
                self.receipted[str(answer.json()["id"])] = body
        self.statuses[status] += 1
        self.by_kind[(kind, status)] += 1


async def run_items(url: str, seed: int, count: int, concurrency: int) -> ItemRun:
    rng = random.Random(seed)
    signers = all_signers()
    items, limits = base_items(rng, signers), limit_items(rng, signers[1])
    cases = [mutated(rng, items, limits) for _ in range(count)]
    run, queue = ItemRun(), iter(cases)
    limits_ = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits_) as client:

        async def worker() -> None:
            for kind, body in queue:
                await run.one(client, kind, body)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return run


async def live_upload(url: str) -> str:
    """A multipart session of the default chunk size, as the upload SDKs open one."""
    async with httpx.AsyncClient(base_url=url) as client:
        created = await client.get("/chunks/arweave/-1/-1")
        created.raise_for_status()
        return str(created.json()["id"])


async def run_requests(port: int, seed: int, count: int, concurrency: int) -> Counter[str]:
    rng = random.Random(seed + 1)
    LIVE_UPLOADS.append(await live_upload(f"http://127.0.0.1:{port}"))
    host = f"127.0.0.1:{port}"
    kinds = list(CASES)
    cases = [(kind, CASES[kind](rng, host)) for kind in rng.choices(kinds, k=count)]
    statuses: Counter[str] = Counter()
    queue = iter(cases)

    async def worker() -> None:
        for kind, request in queue:
            statuses[f"{kind} {await send_raw('127.0.0.1', port, request)}"] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


def not_valid(receipted: dict[str, bytes]) -> list[str]:
    """Receipted ids whose bytes do not parse and verify, or whose id is not theirs."""
    bad = []
    for item_id, body in receipted.items():
        try:
            if parse_data_item(body).id != item_id:
                bad.append(item_id)
        except Ans104Error:
            bad.append(item_id)
    return bad


def stored(store: Path) -> tuple[set[str], list[str]]:
    """Object keys of finished objects, and the names of partial or part files."""
    files = [str(p.relative_to(store)) for p in store.rglob("*") if p.is_file()]
    finished = {f for f in files if f.startswith("raw/") and not f.endswith(".part")}
    return finished, sorted(set(files) - finished)


def report(label: str, counts: Counter[str]) -> None:
    print(f"{label}:")
    for key, n in sorted(counts.items()):
        print(f"  {key:<40} {n:>7}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    settings = Settings()
    work = Path(tempfile.mkdtemp(prefix="fuzz-", dir=settings.stack.dir))
    port, store, log = free_port(), work / "objects", work / "api.log"
    api = start_api(port, store, log)
    try:
        url = f"http://127.0.0.1:{port}"
        asyncio.run(wait_ready(url))
        started = time.perf_counter()
        items = asyncio.run(run_items(url, args.seed, args.items, args.concurrency))
        items_s = time.perf_counter() - started
        started = time.perf_counter()
        raw = asyncio.run(run_requests(port, args.seed, args.requests, args.concurrency))
        raw_s = time.perf_counter() - started
    finally:
        api.terminate()
        api.wait(timeout=60)
    return account(items, items_s, raw, raw_s, store, log, args)


def account(
    items: ItemRun,
    items_s: float,
    raw: Counter[str],
    raw_s: float,
    store: Path,
    log: Path,
    args: argparse.Namespace,
) -> int:
    finished, leftovers = stored(store)
    receipted_keys = {f"raw/{i}" for i in items.receipted}
    orphans = sorted(finished - receipted_keys)
    invalid = not_valid(items.receipted)
    five_xx = sum(n for s, n in items.statuses.items() if s.startswith("5"))
    five_xx += sum(n for s, n in raw.items() if s.split()[-1].startswith("5"))
    tracebacks = log.read_text(errors="replace").count("Traceback")
    print(f"seed {args.seed}; API log {log}")
    print(f"items: {args.items} sent in {items_s:.1f} s ({args.items / items_s:.0f}/s)")
    report("item statuses", items.statuses)
    report(
        "item statuses by mutation", Counter({f"{k} {s}": n for (k, s), n in items.by_kind.items()})
    )
    print(f"requests: {args.requests} sent in {raw_s:.1f} s ({args.requests / raw_s:.0f}/s)")
    report("malformed request answers", raw)
    print(f"receipted: {len(items.receipted)}, in the store: {len(finished)}")
    print(f"5xx: {five_xx}")
    print(f"tracebacks in the API log: {tracebacks}")
    print(f"orphaned objects: {len(orphans)} {orphans[:5]}")
    print(f"stray parts and partial files: {len(leftovers)} {leftovers[:5]}")
    print(f"receipted but not valid: {len(invalid)} {invalid[:5]}")
    return 0 if five_xx == tracebacks == len(orphans) == len(leftovers) == len(invalid) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
