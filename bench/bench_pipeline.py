"""Pipeline throughput and receipt-to-posted latency, on the running stack and arlocal.

Run on purpose: ``.venv/bin/python bench/bench_pipeline.py [--items 20000] [--rate 200]``
with the BUNDLESTREAM_* environment of a stack that is up (Kafka, arlocal).

1. Throughput, DataItemReceived → BundlePlanned: ``--items`` signed 1 KiB items (inline
   in their events, 64 owners) are written to a fresh ``data-items.received`` first;
   then 1 and then 2 ``bundlestream worker`` processes start on that backlog. The rate
   is items / (Kafka timestamp of the last BundlePlanned that completes the set minus that
   of the first DataItemAccepted), so worker start-up is not counted. Every other stage
   runs meanwhile on the same cores, as in production.
2. Latency at ``--rate`` uploads/s for ``--seconds``: the upload API (a subprocess) and
   one worker; each upload's receipt time (client clock, when the 200 arrived) to the
   Kafka timestamp of the BundlePosted of its bundle. p50 and p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Consumer, Producer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundlestream.adapters.kafka_producer import producer_config
from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.core.ans104 import parse_data_item
from bundlestream.core.ans104.signing import Ed25519Signer, sign_data_item
from bundlestream.schemas.codec import decode, encode
from bundlestream.schemas.events import DataItemReceived
from bundlestream.schemas.topics import CATALOGUE, DATA_ITEMS_RECEIVED
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout

OWNERS = 64


def bench_settings(work: Path, **overrides: Any) -> Settings:
    prefix = f"bench-{uuid.uuid4().hex[:8]}-"
    return Settings().updated(
        **{
            "kafka__topic_prefix": prefix,
            "streams__app_id": prefix,
            "kafka__topic_partitions": 8,
            "object_store__backend": "fs",
            "object_store__dir": work / prefix / "objects",
            "arweave__receipt_key_path": work / "wallet.json",
            "arweave__receipt_key_size": 4096,
            "stack__gateway_is_arlocal": True,
            "streams__plan_overdue_s": 1.0,
            "streams__planner_tick_s": 0.5,
            **overrides,
        }
    )


def env_of(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update({k: v for k, v in settings.environment().items() if v is not None})
    return env


def signed_items(count: int, size: int = 1024) -> list[bytes]:
    signers = [Ed25519Signer(Ed25519PrivateKey.generate()) for _ in range(OWNERS)]
    return [sign_data_item(signers[i % OWNERS], os.urandom(size)) for i in range(count)]


def received_event(raw: bytes) -> DataItemReceived:
    item = parse_data_item(raw)
    return DataItemReceived(
        data_item_id=item.id,
        owner_address=item.header.owner_address,
        signature_type=int(item.header.signature_type),
        raw_size=len(raw),
        payload_start=item.header.payload_start,
        payload_size=len(raw) - item.header.payload_start,
        received_at=datetime.now(UTC),
        deadline_height=0,
        winc="0",
        inline_item=raw,
    )


def produce_backlog(settings: Settings, items: list[bytes]) -> list[str]:
    producer = Producer(producer_config(kafka_connection(settings)))
    topic = DATA_ITEMS_RECEIVED.full_name(settings.kafka.topic_prefix)
    ids = []
    for raw in items:
        event = received_event(raw)
        ids.append(event.data_item_id)
        producer.produce(topic, encode(event), event.owner_address.encode())
        producer.poll(0)
    producer.flush(60)
    return ids


class Timeline:
    """Every event of a run with its Kafka timestamp (ms), read as it arrives."""

    def __init__(self, settings: Settings) -> None:
        self.consumer = Consumer(
            {
                "bootstrap.servers": settings.kafka.bootstrap,
                "group.id": f"bench-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "topic.metadata.refresh.interval.ms": 1000,
            }
        )
        self.consumer.subscribe([t.full_name(settings.kafka.topic_prefix) for t in CATALOGUE])
        self.events: list[tuple[int, Any]] = []

    def poll(self) -> None:
        for message in self.consumer.consume(2000, 0.5):
            if message.error() is None:
                self.events.append((message.timestamp()[1], decode(message.value() or b"")))

    def of(self, name: str) -> Iterator[tuple[int, Any]]:
        return ((t, e) for t, e in self.events if type(e).__name__ == name)

    def close(self) -> None:
        self.consumer.close()


def start_workers(settings: Settings, count: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for index in range(count):
        with open(logs / f"{settings.kafka.topic_prefix}worker-{index}.log", "wb") as log:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bundlestream.cli", "worker", "--loglevel", "warning"],
                    env=env_of(settings),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    return procs


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def planned_times(timeline: Timeline) -> dict[str, int]:
    """Item id → Kafka timestamp of the first BundlePlanned listing it."""
    first: dict[str, int] = {}
    for at, plan in timeline.of("BundlePlanned"):
        for item in plan.items:
            first.setdefault(item.data_item_id, at)
    return first


def throughput(work: Path, items: list[bytes], workers: int, timeout_s: float) -> dict[str, Any]:
    settings = bench_settings(work)
    create_topics(kafka_connection(settings), topic_layout(settings))
    ids = produce_backlog(settings, items)
    timeline = Timeline(settings)
    procs = start_workers(settings, workers, work)
    deadline = time.monotonic() + timeout_s
    try:
        while len(set(planned_times(timeline)) & set(ids)) < len(ids):
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out: {len(planned_times(timeline))} of {len(ids)}")
            timeline.poll()
    finally:
        stop(procs)
    start = min(t for t, _ in timeline.of("DataItemAccepted"))
    end = max(planned_times(timeline)[i] for i in ids)
    plans = {plan.plan_id for _, plan in timeline.of("BundlePlanned")}
    timeline.close()
    return {
        "workers": workers,
        "items": len(ids),
        "seconds": (end - start) / 1000,
        "items_per_s": len(ids) / ((end - start) / 1000),
        "plans": len(plans),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def paced_uploads(url: str, items: list[bytes], rate: float) -> dict[str, float]:
    """Upload ``items`` at ``rate``/s (open loop); item id → receipt time (ms)."""
    receipts: dict[str, float] = {}
    statuses: dict[int, int] = {}
    headers = {"content-type": "application/octet-stream"}
    # httpx's pool slows down badly with thousands of queued requests: at most 64 in
    # flight (at 200/s that allows 320 ms per upload before the schedule slips).
    gate = asyncio.Semaphore(64)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def one(index: int, raw: bytes, start: float) -> None:
            await asyncio.sleep(max(0.0, start + index / rate - time.monotonic()))
            async with gate:
                answer = await client.post("/tx", content=raw, headers=headers)
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            if answer.status_code == 200:
                receipts[answer.json()["id"]] = time.time() * 1000

        start = time.monotonic()
        await asyncio.gather(*(one(i, raw, start) for i, raw in enumerate(items)))
    print(f"  upload statuses: {statuses} in {time.monotonic() - start:.1f} s", flush=True)
    return receipts


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency(work: Path, items: list[bytes], rate: float, timeout_s: float) -> dict[str, Any]:
    settings = bench_settings(work, api__port=free_port())
    create_topics(kafka_connection(settings), topic_layout(settings))
    timeline = Timeline(settings)
    procs = start_workers(settings, 1, work)
    with open(work / f"{settings.kafka.topic_prefix}api.log", "wb") as log:
        api = subprocess.Popen(
            [sys.executable, "-m", "bundlestream.cli", "api"],
            env=env_of(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{settings.api.port}"
    try:
        wait_ready(url, timeline, timeout_s)
        receipts = asyncio.run(paced_uploads(url, items, rate))
        posted = posted_times(timeline, set(receipts), timeout_s)
    finally:
        stop([api, *procs])
        timeline.close()
    delays = [posted[i] - receipts[i] for i in receipts]
    return {
        "rate": rate,
        "uploads": len(items),
        "receipts": len(receipts),
        "p50_ms": percentile(delays, 0.50),
        "p99_ms": percentile(delays, 0.99),
        "plan_overdue_s": settings.streams.plan_overdue_s,
        "steps_p50_p99_ms": step_delays(timeline, receipts),
    }


def step_delays(timeline: Timeline, receipts: dict[str, float]) -> dict[str, list[float]]:
    """Where an item's wait went, step by step: p50 and p99 (ms) of receipt → accepted
    (dedup), → planned (its plan's BundlePlanned), → prepared, → posted."""
    accepted = {e.data_item_id: t for t, e in timeline.of("DataItemAccepted")}
    done = {
        name: {e.plan_id: t for t, e in timeline.of(name)}
        for name in ("BundlePlanned", "BundlePrepared", "BundlePosted")
    }
    plan_of = {
        item.data_item_id: plan.plan_id
        for _, plan in timeline.of("BundlePlanned")
        for item in plan.items
    }
    steps: dict[str, list[float]] = {"accepted": [], "planned": [], "prepared": [], "posted": []}
    for item_id, receipt in receipts.items():
        plan = plan_of.get(item_id)
        if item_id not in accepted or plan is None or plan not in done["BundlePosted"]:
            continue
        times = [
            receipt,
            accepted[item_id],
            *(done[n][plan] for n in ("BundlePlanned", "BundlePrepared", "BundlePosted")),
        ]
        for step, before, after in zip(steps.values(), times, times[1:], strict=False):
            step.append(after - before)
    return {
        name: [percentile(values, 0.50), percentile(values, 0.99)]
        for name, values in steps.items()
        if values
    }


def wait_ready(url: str, timeline: Timeline, timeout_s: float) -> None:
    """Until the API serves /info with a height and a worker has ticked the planner."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        timeline.poll()
        try:
            info = httpx.get(f"{url}/info", timeout=2)
            if info.status_code == 200 and any(True for _ in timeline.of("PlannerTicked")):
                return
        except httpx.HTTPError:
            pass
    raise SystemExit("API or worker did not start")


def posted_times(timeline: Timeline, ids: set[str], timeout_s: float) -> dict[str, int]:
    """Item id → Kafka timestamp of the BundlePosted of its (first posted) bundle."""
    deadline = time.monotonic() + timeout_s
    while True:
        timeline.poll()
        posted: dict[str, int] = {}
        plan_posted = {e.plan_id: t for t, e in timeline.of("BundlePosted")}
        for _, plan in timeline.of("BundlePlanned"):
            if plan.plan_id in plan_posted:
                for item in plan.items:
                    posted.setdefault(item.data_item_id, plan_posted[plan.plan_id])
        if ids <= set(posted):
            return posted
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {len(ids & set(posted))} of {len(ids)} posted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    print(f"work dir {work}", flush=True)
    if not args.skip_throughput:
        items = signed_items(args.items)
        for workers in (1, 2):
            print(
                "throughput", json.dumps(throughput(work, items, workers, args.timeout)), flush=True
            )
    uploads = signed_items(int(args.rate * args.seconds))
    print("latency", json.dumps(latency(work, uploads, args.rate, args.timeout)))


if __name__ == "__main__":
    main()
