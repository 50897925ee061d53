"""Ledger decider and price route throughput: run on purpose, prints numbers.

Fold: events/s of ``core.ledger.fold`` over the ledger story. Charge: ``decide_charge``
decisions/s on a ledger of 1,000 funded accounts. Price route: latency percentiles of
GET /v1/price/bytes/N on the in-process app (no network), beside a ceiling measured in
the same run: ``json.dumps`` of the same body per second (what the route cannot beat).
Top-ups: ``decide_submission`` decisions/s. Signed requests: ``signer_address``
verifications/s per signature type 1-4 beside the bare signature check of the same
type (the ceiling), and the latency percentiles of a signed GET /v1/balance (type 1,
the SDK's default) on the in-process app. ETH top-ups on the stack's hardhat node: the
latency percentiles of ``EvmChain.transfer`` (one JSON-RPC batch) beside a bare
``eth_blockNumber`` round trip (its ceiling: the node's own answer time), then of
POST /v1/account/balance/ethereum on the in-process app, a first submission of each
confirmed transfer (look-up, decision, three events at acks=all) and a second one of
the same (idempotent: the same work, the credit applied once). The process's peak RSS
at the end. Needs the stack (the app's lifespan opens Kafka, Redis, Postgres and reads
arlocal).
"""

import asyncio
import contextlib
import json
import resource
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.ledger_story import ledger_story
from bundlestream.adapters.evm_chain import EvmChain
from bundlestream.api.app import create_app
from bundlestream.core.ans104.signing import DataItemSigner
from bundlestream.core.ans104.verification import verify_signature
from bundlestream.core.ledger import Ledger, decide_charge, decide_credit, fold
from bundlestream.core.signed_requests import signer_address
from bundlestream.core.top_ups import Transfer, decide_submission
from bundlestream.settings import Settings
from tests.core.test_signed_requests import headers, signers
from tests.evm_transfers import funded_key, in_one_block, mine, rpc, send_eth

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
    transfer = Transfer("arweave", "tx", "sender", "ours", 10**12, 100, 30)
    started = time.perf_counter()
    for _ in range(20_000):
        decide_submission(transfer, 766 * 10**9, "ours", 18, NOW)
    print(f"decide_submission: {rate(20_000, started):,.0f} decisions/s")


def per_second(work: Callable[[], object], seconds: float = 1.0) -> float:
    started, count = time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        work()
        count += 1
    return rate(count, started)


def bench_signed_request(signer: DataItemSigner) -> None:
    signed = headers(signer)
    owner, nonce, kind = signer.owner, signed["x-nonce"].encode(), signer.signature_type
    signature = signer.sign(nonce)
    ours = per_second(lambda: signer_address(signed))
    bare = per_second(lambda: verify_signature(kind, owner, signature, nonce))
    print(f"signer_address type {kind}: {ours:,.0f}/s  (ceiling: bare verify {bare:,.0f}/s)")


async def bench_signed_balance(settings: Settings, signer: DataItemSigner, requests: int) -> None:
    async with in_process_client(settings) as client:
        latencies = []
        for _ in range(requests):
            signed = headers(signer)
            started = time.perf_counter()
            answer = await client.get("/v1/balance", headers=signed)
            latencies.append(time.perf_counter() - started)
            assert answer.status_code == 404  # verified: a signer the ledger never saw
    q = statistics.quantiles(latencies, n=100)
    print(f"signed GET /v1/balance: p50 {q[49] * 1e3:.3f} ms  p99 {q[98] * 1e3:.3f} ms")


@contextlib.asynccontextmanager
async def in_process_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app in this process (no network), its lifespan open."""
    app = create_app(settings)
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            await app({**scope, "state": dict(state or {})}, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


async def bench_route(settings: Settings, requests: int = 2000) -> None:
    async with in_process_client(settings) as client:
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


def percentiles(what: str, latencies: list[float]) -> None:
    q = statistics.quantiles(latencies, n=100)
    print(f"{what}: p50 {q[49] * 1e3:.3f} ms  p99 {q[98] * 1e3:.3f} ms  ({len(latencies)})")


async def timed(call: Callable[[], Any], count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        latencies.append(time.perf_counter() - started)
    return latencies


async def submitted(client: httpx.AsyncClient, hashes: list[str]) -> tuple[list[float], list[int]]:
    """Each hash's POST /v1/account/balance/ethereum, one after the other: latencies, statuses."""
    latencies, statuses = [], []
    for tx_hash in hashes:
        started = time.perf_counter()
        answer = await client.post("/v1/account/balance/ethereum", json={"tx_id": tx_hash})
        latencies.append(time.perf_counter() - started)
        statuses.append(answer.status_code)
    return latencies, statuses


async def bench_eth_top_ups(settings: Settings, transfers: int = 200) -> None:
    url = settings.x402.evm_rpc_url
    ours = settings.evm.ethereum_address
    key = funded_key(url, 10**21)
    hashes = in_one_block(url, lambda: [send_eth(url, key, ours, 10**15) for _ in range(transfers)])
    mine(url, settings.evm.ethereum_confirmations)
    async with httpx.AsyncClient() as raw:
        request = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
        percentiles(
            "ceiling: eth_blockNumber", await timed(lambda: raw.post(url, json=request), 500)
        )
    chain = EvmChain("ethereum", url)
    pending = iter(hashes * 3)
    percentiles("EvmChain.transfer", await timed(lambda: chain.transfer(next(pending)), 500))
    await chain.close()
    async with in_process_client(settings) as client:
        for label in ("first", "again"):
            latencies, statuses = await submitted(client, hashes)
            percentiles(f"POST top-up ({label})", latencies)
            assert statuses == [200] * transfers, statuses[:5]
    print(f"(node at block {int(rpc(url, 'eth_blockNumber'), 16):,})")


def main(parts: list[str]) -> None:
    """Every part, or only those named (``core``, ``signed``, ``route``, ``eth-top-ups``)."""
    defaults = Settings().updated(kafka__topic_prefix="bench-ledger-")
    if not parts or "core" in parts:
        bench_core()
    if not parts or "signed" in parts:
        for signer in signers():
            bench_signed_request(signer)
        asyncio.run(bench_signed_balance(defaults, signers()[0], 500))
    if not parts or "route" in parts:
        asyncio.run(bench_route(defaults))
    if not parts or "eth-top-ups" in parts:
        asyncio.run(bench_eth_top_ups(defaults))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MiB")


if __name__ == "__main__":
    main(sys.argv[1:])
