"""Ledger decider and price route throughput: run on purpose, prints numbers.

Fold: events/s of ``core.ledger.fold`` over the ledger story. Charge: ``decide_charge``
decisions/s on a ledger of 1,000 funded accounts. Price route: latency percentiles of
GET /v1/price/bytes/N on the in-process app (no network), beside a ceiling measured in
the same run: ``json.dumps`` of the same body per second (what the route cannot beat).
Needs the stack (the app's lifespan opens Kafka, Redis, Postgres and reads arlocal).
"""

import asyncio
import json
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.ledger_story import ledger_story
from bundlestream.api.app import create_app
from bundlestream.core.ledger import Ledger, decide_charge, decide_credit, fold
from bundlestream.settings import Settings

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def rate(count: int, started: float) -> float:
    return count / (time.perf_counter() - started)


def bench_core() -> None:
    log = list(ledger_story(accounts=200, rounds=30))
    started = time.perf_counter()
    fold(log)
    print(f"fold: {len(log):,} events at {rate(len(log), started):,.0f} events/s")
    ledger = Ledger()
    for n in range(1000):
        ledger = fold(decide_credit(ledger, f"a{n}", 10**12, f"c{n}", "operator", "", NOW), ledger)
    started = time.perf_counter()
    for n in range(20_000):
        decide_charge(ledger, f"a{n % 1000}", f"i{n}", 12345, (), NOW)
    print(f"decide_charge: {rate(20_000, started):,.0f} decisions/s")


async def bench_route(settings: Settings, requests: int = 2000) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            await app({**scope, "state": dict(state or {})}, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            while (await client.get("/v1/price/bytes/1")).status_code != 200:
                await asyncio.sleep(0.1)
            latencies, body = [], {}
            for n in range(requests):
                started = time.perf_counter()
                body = (await client.get(f"/v1/price/bytes/{1024 + n}")).json()
                latencies.append(time.perf_counter() - started)
    q = statistics.quantiles(latencies, n=100)
    print(f"price route: p50 {q[49] * 1e3:.3f} ms  p99 {q[98] * 1e3:.3f} ms  ({requests} requests)")
    started = time.perf_counter()
    for _ in range(100_000):
        json.dumps(body)
    print(f"ceiling: json.dumps of the body {rate(100_000, started):,.0f}/s")


if __name__ == "__main__":
    bench_core()
    asyncio.run(bench_route(Settings().updated(kafka__topic_prefix="bench-ledger-")))
