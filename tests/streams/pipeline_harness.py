"""A whole bundlestream on the real stack: the upload API in process, Faust workers as
subprocesses, a miner that mines arlocal blocks, and readers of every event topic.

Each run gets its own topic prefix, app id (so its own consumer group and changelogs)
and object store directory. A missing service fails the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.adapters.tasks import stop
from bundlestream.api.app import create_app
from bundlestream.schemas.codec import decode
from bundlestream.schemas.events import Event
from bundlestream.schemas.topics import CATALOGUE
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout
from tests.bounds import BROKER_REQUEST_S, CONDITION_S, GATEWAY_REQUEST_S, HTTP_REQUEST_S
from tests.ports import listening_socket, port_of

ROOT = Path(__file__).resolve().parents[2]


def pipeline_settings(tmp_path: Path, **overrides: Any) -> Settings:
    prefix = f"s-{uuid.uuid4().hex[:10]}-"
    base = Settings()
    return base.updated(
        **{
            "kafka__topic_prefix": prefix,
            "streams__app_id": f"bs-{prefix}",
            "kafka__topic_partitions": 4,
            "postgres__projections_schema": f"p_{prefix[2:-1]}",
            "postgres__projector_group_id": f"{prefix}projector",
            "object_store__backend": "fs",
            "object_store__dir": tmp_path / "objects",
            "stack__dir": tmp_path / "stack",
            "arweave__receipt_key_path": tmp_path / "wallet.json",
            "arweave__receipt_key_size": 2048,
            "api__block_height_refresh_s": 2.0,
            # A bound a loaded machine does not reach; a local delivery takes milliseconds.
            "kafka__delivery_timeout_s": 30.0,
            "stack__gateway_is_arlocal": True,
            "streams__plan_overdue_s": 1.0,
            "streams__planner_tick_s": 0.5,
            "streams__required_confirmations": 3,
            "streams__drop_after_blocks": 8,
            "streams__verify_poll_s": 0.3,
            "arweave__gateway_backoff_base_s": 0.2,
            "arweave__gateway_backoff_max_s": 2.0,
            # Shorter than in production, like the other timings here: a worker that
            # stalls is replaced well within a test's deadlines.
            "streams__worker_stall_timeout_s": 30.0,
            # Tests run many workers at once beside the stack's: no metrics endpoints.
            "metrics__worker_port": 0,
            "metrics__projector_port": 0,
            **overrides,
        }
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """The BUNDLESTREAM_* environment that rebuilds ``settings`` in a child process."""
    env = dict(os.environ)
    for key, value in settings.environment().items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


class Workers:
    """``bundlestream worker --processes N`` as production runs it: a supervisor that keeps
    N Faust workers running (and any other ``bundlestream`` command, unsupervised). Logs
    go under the stack dir, one file per command started."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.procs: list[subprocess.Popen[bytes]] = []
        self.started = 0
        # Outside the test's tmp_path, which pytest removes: logs outlive a failed run.
        self.log_dir = Settings().stack.dir.resolve() / "worker-logs" / settings.kafka.topic_prefix
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, command: str = "worker", processes: int = 1) -> subprocess.Popen[bytes]:
        self.started += 1
        argv = [sys.executable, "-m", "bundlestream.cli", command, "--loglevel", "info"]
        if command == "worker":
            argv += ["--processes", str(processes)]
        with open(self.log_dir / f"{command}-{self.started}.log", "wb") as log:
            proc = subprocess.Popen(
                argv,
                env=settings_env(self.settings),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.procs.append(proc)
        return proc

    def worker_pids(self) -> list[int]:
        """The Faust workers the supervisors run now (their children)."""
        return [pid for proc in self.procs if proc.poll() is None for pid in children(proc.pid)]

    async def wait_for_workers(
        self, count: int, gone: Iterable[int] = (), timeout_s: float = 120
    ) -> list[int]:
        """Until ``count`` workers run, none of them one of ``gone``; their pids."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while len(pids := [p for p in self.worker_pids() if p not in set(gone)]) < count:
            assert loop.time() < deadline, f"{len(pids)} new workers running, not {count}"
            await asyncio.sleep(0.2)
        return pids

    def kill9(self, pid: int) -> None:
        """kill -9 of one Faust worker (its supervisor starts another)."""
        os.kill(pid, signal.SIGKILL)

    def kill9_all(self) -> None:
        for pid in self.worker_pids():
            self.kill9(pid)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def children(pid: int) -> list[int]:
    """The pids of a process's live children (Linux /proc; not the exited ones that it
    has not reaped yet)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return [child for child in found if is_running(child)]


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@dataclass
class EventLog:
    """Every event of the run's topics, read from offset 0 by a private consumer.

    It assigns itself every partition (no group): a group member can be timed out while
    a test keeps the broker down, and then depends on the group coordinator to be handed
    its partitions again; an assignment stays where it was and goes on reading."""

    settings: Settings
    events: list[tuple[str, Event]] = field(default_factory=list)
    # (topic, partition, offset) already read: at-least-once fetches after a reconnect.
    seen: set[tuple[str, int, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.consumer = Consumer(
            {
                "bootstrap.servers": self.settings.kafka.bootstrap,
                "group.id": f"test-{uuid.uuid4().hex}",  # required; never joined (assign)
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        names = [t.full_name(self.settings.kafka.topic_prefix) for t in CATALOGUE]
        metadata = self.consumer.list_topics(timeout=BROKER_REQUEST_S).topics
        missing = [name for name in names if name not in metadata]
        assert not missing, f"topics not created: {missing}"
        self.consumer.assign(
            [
                TopicPartition(name, partition, OFFSET_BEGINNING)
                for name in names
                for partition in metadata[name].partitions
            ]
        )

    def poll(self, seconds: float = 0.2) -> None:
        for message in self.consumer.consume(1000, seconds):
            where = (message.topic(), message.partition(), message.offset())
            if message.error() is None and where not in self.seen:
                self.seen.add(where)
                topic = message.topic().removeprefix(self.settings.kafka.topic_prefix)
                self.events.append((topic, decode(message.value())))

    def of(self, name: str) -> list[Any]:
        return [event for _, event in self.events if type(event).__name__ == name]

    def close(self) -> None:
        self.consumer.close()


@contextlib.asynccontextmanager
async def api_server(settings: Settings) -> AsyncIterator[str]:
    """The upload API in process, on a socket already listening; yields its URL once it
    serves."""
    with listening_socket() as sock:
        server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        url = f"http://127.0.0.1:{port_of(sock)}"
        try:
            await _until_serving(url, task)
            yield url
        finally:
            server.should_exit = True
            await task


async def _until_serving(url: str, task: asyncio.Task[None]) -> None:
    """Until /info carries the block height; a bound for a loaded machine, not a timing."""
    deadline = asyncio.get_running_loop().time() + CONDITION_S
    async with httpx.AsyncClient(base_url=url, timeout=HTTP_REQUEST_S) as client:
        while asyncio.get_running_loop().time() < deadline:
            if task.done():
                task.result()
                raise RuntimeError("API stopped while starting")
            with contextlib.suppress(httpx.TransportError):
                info = await client.get("/info")
                if info.status_code == 200 and info.json().get("blockHeight") is not None:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError("API did not become ready")


class GatedMiner:
    """Mines an arlocal block every ``interval_s``, but never while a planned bundle is not
    yet seeded. The stack's arlocal itself mines a bundle only once it has all its chunks
    (stack/node/arlocal-loopback.js); the gate keeps the drop clock still meanwhile: at a
    block per ``interval_s`` and ``drop_after_blocks`` 8, a bundle seeded late under load
    would be dropped and repacked (correct, but not what these tests are about)."""

    def __init__(self, gateway_url: str, log: EventLog, interval_s: float = 0.5) -> None:
        self.gateway_url, self.log, self.interval_s = gateway_url, log, interval_s
        self.paused = False

    def waiting_for_chunks(self) -> bool:
        # Planned, not posted yet: the event of its post could still be on its way.
        planned = {e.plan_id for e in self.log.of("BundlePlanned")}
        done = {e.plan_id for e in self.log.of("BundleSeeded") + self.log.of("BundleDropped")}
        return bool(planned - done)

    async def run(self) -> None:
        async with httpx.AsyncClient(
            base_url=self.gateway_url, timeout=GATEWAY_REQUEST_S
        ) as client:
            while True:
                await asyncio.sleep(self.interval_s)
                if not self.paused and not self.waiting_for_chunks():
                    with contextlib.suppress(httpx.HTTPError):
                        await client.get("/mine")


@contextlib.contextmanager
def running_log(settings: Settings) -> Iterator[EventLog]:
    create_topics(kafka_connection(settings), topic_layout(settings))
    log = EventLog(settings)
    try:
        yield log
    finally:
        log.close()


async def wait_for(
    log: EventLog, predicate: Any, timeout_s: float, what: str, describe: Any = None
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            detail = describe() if describe is not None else ""
            raise AssertionError(f"timed out waiting for {what} {detail}")
        await asyncio.to_thread(log.poll, 0.2)
        await asyncio.sleep(0)


@dataclass
class Pipeline:
    settings: Settings
    log: EventLog
    workers: Workers
    miner: GatedMiner
    api_url: str


@contextlib.asynccontextmanager
async def running_pipeline(
    settings: Settings,
    workers: int = 1,
    miner_gateway: str | None = None,
    projector: bool = False,
) -> AsyncIterator[Pipeline]:
    """API, ``bundlestream worker --processes workers`` (and the projector: then the API's
    status reads its tables) and the gated miner on one test's topics."""
    with running_log(settings) as log:
        procs = Workers(settings)
        procs.start(processes=workers)
        projecting = Workers(settings)
        if projector:
            projecting.start("projector")
        miner = GatedMiner(miner_gateway or settings.arweave.gateway_url, log)
        mining = asyncio.create_task(miner.run())
        try:
            async with api_server(settings) as url:
                yield Pipeline(settings, log, procs, miner, url)
        finally:
            await stop(mining)  # its client to the gateway closed, not left to the GC
            procs.stop_all()
            projecting.stop_all()


class GatewayProxy:
    """A small real HTTP proxy in front of arlocal that can misbehave on purpose.

    While ``posting`` is clear every ``POST /tx`` is held (``held_posts`` counts them) and
    forwarded once it is set again, so a test can kill a worker while it posts, for sure
    and whatever the machine's speed. With ``hide_first_bundle`` the first bundle
    transaction posted is swallowed (answered 200, never forwarded) and its status is 404
    forever: a bundle the gateway never confirms.
    """

    def __init__(self, upstream: str, hide_first_bundle: bool = False):
        self.upstream = upstream.rstrip("/")
        self.posting = asyncio.Event()
        self.posting.set()
        self.held_posts = 0
        self.hide_first_bundle = hide_first_bundle
        self.hidden: set[str] = set()
        self.client = httpx.AsyncClient(base_url=self.upstream, timeout=GATEWAY_REQUEST_S)

    async def close(self) -> None:
        await self.client.aclose()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from starlette.requests import Request
        from starlette.responses import Response

        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        path = request.url.path
        if request.method == "POST" and path == "/tx":
            tx_id = json.loads(body)["id"]
            if self.hide_first_bundle and not self.hidden:
                self.hidden.add(tx_id)
            if tx_id in self.hidden:
                await Response(json.dumps({"id": tx_id}), 200)(scope, receive, send)
                return
            await self.held_until_posting()
        if path.startswith("/tx/") and path.split("/")[2] in self.hidden:
            await Response("Not Found", 404)(scope, receive, send)
            return
        upstream = await self.client.request(
            request.method,
            path,
            params=request.query_params,
            content=body,
            headers={"content-type": request.headers.get("content-type", "")},
        )
        headers = {"content-type": upstream.headers.get("content-type", "text/plain")}
        await Response(upstream.content, upstream.status_code, headers)(scope, receive, send)

    async def held_until_posting(self) -> None:
        self.held_posts += 1
        try:
            await self.posting.wait()
        finally:
            self.held_posts -= 1


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Any ASGI app in this loop, on a socket already listening; yields its URL."""
    with listening_socket() as sock:
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("server stopped while starting")
                await asyncio.sleep(0.05)
            yield f"http://127.0.0.1:{port_of(sock)}"
        finally:
            server.should_exit = True
            await task
        if hasattr(app, "close"):
            await app.close()
