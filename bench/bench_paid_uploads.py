"""Paid uploads against free ones: the Test 2 load (1 KiB items, 200 concurrent).

``bundlestream api`` as ``make up`` starts it (``bench/api_process.py``) on the stack
the BUNDLESTREAM_* environment points at, fresh topic prefix. Two Ed25519 wallets sign
the items: one allow-listed (the free path: admission only), one credited through the
ledger topic with enough for every one of its items (the paid path: price, the atomic
reservation in Redis, an acknowledged UploadCharged, then the item event and the
receipt). A third wallet, with no balance, uploads through ``x-paid-by`` the paid
wallet, which shared credits with it (the paid path, the reservation walking the
payer's approval counter first). Phases alternate free, paid and paid-by
(``--rounds`` rounds, each starting one kind later than the round before) in the same
process; each is closed loop, 200 requests always in flight. Besides accepted/s and
latency, the API's CPU per accepted item (on a shared machine it moves less than the
rates do), and the broker's, Redis' and the bench's own.

On the defaults but for what the comparison needs: a free tier below 1 KiB
(BUNDLESTREAM_FREE_UPLOAD_LIMIT_BYTES=0) and the free wallet allow-listed, or no upload
would be paid, or none free; neither changes what an upload costs.

  .venv/bin/python bench/bench_paid_uploads.py [--items 1000] [--rounds 6]
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.api_process import ApiProcess, Sampler, cpu_seconds, stack_pids
from bench.signed_items import ed25519_items
from bench.upload_client import Connection
from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.core.ans104 import Tag
from bundlestream.core.ans104.parser import DataItemParser
from bundlestream.core.ans104.signing import Ed25519Signer, sign_data_item
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout

CONCURRENCY = 200
OCTET = {"Content-Type": "application/octet-stream"}


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    cpu_s: float = 0.0  # the API's CPU (all its processes) during the phase
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    # CPU seconds of the broker, Redis and this bench (the clients) during the phase.
    others: Counter[str] = field(default_factory=Counter)

    def accepted_per_s(self) -> float:
        return self.statuses[200] / self.seconds

    def cpu_ms_per_item(self) -> float:
        return 1000 * self.cpu_s / max(1, self.statuses[200])

    def others_ms_per_item(self) -> str:
        n = max(1, self.statuses[200])
        return ", ".join(f"{k} {1000 * v / n:.2f}" for k, v in sorted(self.others.items()))

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


class ConfiguredApi(ApiProcess):
    """The bench's API process with the settings the comparison needs (``overrides``)."""

    def __init__(self, settings: Settings, overrides: dict[str, str]) -> None:
        super().__init__(settings)
        self.overrides = overrides

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.overrides}


def native_address(item: bytes) -> str:
    parser = DataItemParser(len(item))
    parser.feed(item)
    return parser.finish().header.native_address


async def run_phase(name: str, api: ApiProcess, items: list[bytes], extra: str = "") -> Phase:
    phase, queue = Phase(name), list(reversed(items))
    connections = [await Connection.open(api.url) for _ in range(CONCURRENCY)]

    async def worker(connection: Connection) -> None:
        while queue:
            item = queue.pop()
            started = time.perf_counter()
            status, _ = await connection.post("/tx", item, extra)
            phase.latencies.append(time.perf_counter() - started)
            phase.statuses[status] += 1

    services = {name: stack_pids(api.settings, name) for name in ("kafka", "redis")}
    before = {name: cpu_seconds(pids) for name, pids in services.items()}
    started, own = time.perf_counter(), time.process_time()
    async with Sampler(api) as sampler:
        await asyncio.gather(*(worker(c) for c in connections))
    phase.seconds = time.perf_counter() - started
    phase.cpu_s = sampler.cpu * sampler.elapsed
    phase.others["bench"] = time.process_time() - own
    for name, pids in services.items():
        phase.others[name] = cpu_seconds(pids) - before[name]
    for c in connections:
        c.close()
    return phase


def credit(settings: Settings, address: str, winc: int) -> None:
    env = {**os.environ, "BUNDLESTREAM_TOPIC_PREFIX": settings.kafka.topic_prefix}
    argv = [sys.executable, "-m", "bundlestream.cli", "ledger", "credit", address, str(winc)]
    subprocess.run([*argv, "--reason", "bench"], env=env, check=True, capture_output=True)


async def configuration(label: str, args: argparse.Namespace) -> None:
    settings = Settings().updated(
        kafka__topic_prefix=f"bench-paid-{uuid.uuid4().hex[:8]}-",
        object_store__dir=Path(tempfile.mkdtemp(prefix="bench-paid-")),
    )
    create_topics(kafka_connection(settings), topic_layout(settings))
    n, rounds = args.items, args.rounds
    free = list(ed25519_items(rounds * n))
    payer = Ed25519Signer(Ed25519PrivateKey.generate())
    paid = list(ed25519_items(rounds * n, payer))
    paid_by = list(ed25519_items(rounds * n))
    header = f"x-paid-by: {native_address(paid[0])}\r\n"
    overrides = {
        "BUNDLESTREAM_FREE_UPLOAD_LIMIT_BYTES": "0",
        "BUNDLESTREAM_ALLOW_LISTED_ADDRESSES": json.dumps([native_address(free[0])]),
    }
    async with ConfiguredApi(settings, overrides) as api:
        async with httpx.AsyncClient(base_url=api.url) as client:
            price = int((await client.get(f"/v1/price/bytes/{len(paid[0])}")).json()["winc"])
        # Its own items, the approval for the paid-by items, and the share item's fee.
        credit(settings, native_address(paid[0]), price * (len(paid) + len(paid_by) + 1))
        await asyncio.sleep(2.0)  # the feed applies the credit (it polls every 0.2 s)
        share = share_item(payer, native_address(paid_by[0]), price * len(paid_by))
        async with httpx.AsyncClient(base_url=api.url) as client:
            shared = await client.post("/tx", content=share, headers=OCTET)
            assert shared.status_code == 200, shared.text
        await run_phase("warm-up", api, list(ed25519_items(400)))
        phases = []
        kinds = [("free", free, ""), ("paid", paid, ""), ("paid-by", paid_by, header)]
        for r in range(rounds):
            # Each round starts one kind later: every kind runs first, second and third
            # equally often, so a machine that drifts during a round favours none.
            for name, items, extra in kinds[r % 3 :] + kinds[: r % 3]:
                phases.append(await run_phase(name, api, items[r * n : (r + 1) * n], extra))
    report(label, phases, price)


def report(label: str, phases: list[Phase], price: int) -> None:
    print(f"\n{label} (price {price} winc per item)")
    rates = {}
    for name in ("free", "paid", "paid-by"):
        mine = [p for p in phases if p.name == name]
        merged = Phase(name, sum(p.seconds for p in mine), sum(p.cpu_s for p in mine))
        for p in mine:
            merged.latencies += p.latencies
            merged.statuses += p.statuses
            merged.others += p.others
        rates[name] = merged.accepted_per_s()
        print(
            f"  {name}: {rates[name]:7.1f} accepted/s  p50 {merged.percentile(0.5):6.1f} ms"
            f"  p99 {merged.percentile(0.99):6.1f} ms  API CPU {merged.cpu_ms_per_item():.2f}"
            f" ms/item  statuses {dict(merged.statuses)}"
        )
        print(f"    CPU ms/item elsewhere: {merged.others_ms_per_item()}")
    for name, of in (("paid", "free"), ("paid-by", "paid")):
        mine, base = [p for p in phases if p.name == name], [p for p in phases if p.name == of]
        ratios = [p.accepted_per_s() / b.accepted_per_s() for b, p in zip(base, mine, strict=True)]
        print(
            f"  {name}/{of}: {rates[name] / rates[of]:.1%} (per round: "
            + ", ".join(f"{r:.1%}" for r in ratios)
            + ")"
        )


def share_item(payer: Ed25519Signer, approved: str, winc: int) -> bytes:
    """An item of ``payer`` that shares ``winc`` with ``approved`` (x-approve-payment)."""
    tags = [Tag(b"x-approve-payment", approved.encode()), Tag(b"x-amount", str(winc).encode())]
    return sign_data_item(payer, b"share", tags=tags)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1000, help="items per phase")
    parser.add_argument("--rounds", type=int, default=6, help="free, paid, paid-by rounds")
    args = parser.parse_args()
    await configuration("defaults (only the free tier and the allow list set)", args)


if __name__ == "__main__":
    asyncio.run(main())
