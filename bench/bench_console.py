"""Console latency: the overview and an item lookup, p50/p99 over N requests.

Run on purpose against a running stack: ``.venv/bin/python bench/bench_console.py
[--bundles 10,30,100] [--items 100] [--requests 200]``. For each bundle count (N items =
bundles x items) it writes bench/event_story.py's story (uploads to permanence, drops,
repacks, failures) under a fresh topic prefix, projects it into a fresh schema, serves
the console with uvicorn in this process and times logged-in GETs of ``/`` and of the
lookup of an item, a bundle and an owner, with one client, one request at a time. The
ceiling is a bare Starlette route served and timed the same way in the same run.
Everything it wrote (topics aside) is dropped at the end.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from bench.event_story import produce, story
from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.schemas.events import BundlePlanned, DataItemReceived
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout
from tests.api.upload_harness import free_port
from tests.console.console_harness import (
    PASSWORD,
    add_operators,
    console_settings,
    drop_schemas,
    project_all,
    serve_console,
)


def percentiles(samples_s: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples_s)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return f"p50 {statistics.median(ms):8.2f} ms  p99 {p99:8.2f} ms  (n={len(ms)})"


async def timed(client: httpx.AsyncClient, path: str, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        answer = await client.get(path)
        samples.append(time.perf_counter() - start)
        assert answer.status_code == 200, (path, answer.status_code)
    return samples


async def ceiling(n: int) -> list[float]:
    """A bare Starlette route, served and timed as the console is."""

    async def bare(request: object) -> Response:
        return Response("ok")

    port = free_port()
    app = Starlette(routes=[Route("/", bare)])
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        samples = await timed(client, "/", n)
    server.should_exit = True
    await task
    return samples


async def measure(settings: Settings, ids: dict[str, str], n: int) -> None:
    async with (
        serve_console(settings) as url,
        httpx.AsyncClient(base_url=url, timeout=120) as client,
    ):
        page = (await client.get("/login")).text
        token = page.split('name="csrf" value="')[1].split('"')[0]
        form = {"name": "bench", "password": PASSWORD, "csrf": token}
        assert (await client.post("/login", data=form)).status_code == 303
        print(f"overview        {percentiles(await timed(client, '/', n))}")
        for kind, wanted in ids.items():
            samples = await timed(client, f"/lookup?id={wanted}", n)
            print(f"lookup {kind:<8} {percentiles(samples)}")
    print(f"ceiling         {percentiles(await ceiling(n))}  (bare Starlette route)")


def run(bundles: int, items: int, requests: int) -> None:
    settings = console_settings(Path(tempfile.mkdtemp(prefix="bench-console-")))
    create_topics(kafka_connection(settings), topic_layout(settings))
    events = list(story(bundles, items))
    first = next(k.event for k in events if isinstance(k.event, DataItemReceived))
    planned = next(k.event for k in events if isinstance(k.event, BundlePlanned))
    ids = {"item": first.data_item_id, "bundle": planned.plan_id, "owner": first.owner_address}
    written = produce(settings, events)
    add_operators(settings, "bench")
    project_all(settings)
    print(f"N = {bundles * items} items ({bundles} bundles x {items}), {written} events on the log")
    try:
        asyncio.run(measure(settings, ids, requests))
    finally:
        drop_schemas(settings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundles", default="10,30,100", help="bundle counts, one run each")
    parser.add_argument("--items", type=int, default=100, help="items per bundle")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    for bundles in (int(b) for b in args.bundles.split(",")):
        run(bundles, args.items, args.requests)


if __name__ == "__main__":
    main()
