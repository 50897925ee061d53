"""Helpers of the upload API tests: a real uvicorn server on the real stack.

Each test gets its own topic prefix (so its own topics and Redis namespace) and its own
object store directory. A missing service makes the test fail, never skip.
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from confluent_kafka import Consumer, TopicPartition
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.api.app import create_app
from bundlestream.api.server import api_config
from bundlestream.core.ans104 import Tag
from bundlestream.core.ans104.signing import Ed25519Signer, sign_data_item
from bundlestream.schemas.codec import decode
from bundlestream.schemas.events import DataItemReceived
from bundlestream.schemas.topics import DATA_ITEMS_RECEIVED
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout
from tests.bounds import BROKER_REQUEST_S, CONDITION_S, HTTP_REQUEST_S
from tests.conftest import FIXTURES
from tests.ports import child_ports, listening_socket, port_of

MiB = 1024 * 1024


def free_port() -> int:
    """A port for a child process that binds it itself: below the kernel's ephemeral
    range (``tests.ports.child_ports``), so no outgoing connection can take it first."""
    return child_ports(1)[0]


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class RunningApi:
    """A started server: its URL, settings and helpers to inspect what it wrote."""

    def __init__(self, settings: Settings, url: str) -> None:
        self.settings = settings
        self.url = url
        self.topic = DATA_ITEMS_RECEIVED.full_name(settings.kafka.topic_prefix)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=HTTP_REQUEST_S, **kwargs)

    def stored_files(self) -> list[Path]:
        """Every file under the object store root, temp files included."""
        root = self.settings.object_store.dir
        return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []

    def events(self) -> list[DataItemReceived]:
        """Every DataItemReceived on this test's topic, read with a real consumer."""
        return read_events(self.settings, self.topic)


def read_events(settings: Settings, topic: str) -> list[DataItemReceived]:
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap,
            "group.id": f"test-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=BROKER_REQUEST_S)
        partitions = list(metadata.topics[topic].partitions)
        found: list[DataItemReceived] = []
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), BROKER_REQUEST_S
            )
            if high <= low:
                continue
            consumer.assign([TopicPartition(topic, partition, low)])
            found.extend(poll_until(consumer, high - 1))
        return found
    finally:
        consumer.close()


def poll_until(consumer: Consumer, last_offset: int) -> list[DataItemReceived]:
    found: list[DataItemReceived] = []
    while True:
        message = consumer.poll(BROKER_REQUEST_S)
        assert message is not None, "timed out reading the topic"
        assert message.error() is None, message.error()
        event = decode(message.value() or b"")
        assert isinstance(event, DataItemReceived)
        assert message.key() == event.owner_address.encode()
        found.append(event)
        if message.offset() >= last_offset:
            return found


@contextlib.asynccontextmanager
async def serve(settings: Settings, create_topics_first: bool = True) -> AsyncIterator[RunningApi]:
    """Create the topics, start uvicorn on a socket already listening, wait for the block
    height."""
    if create_topics_first:
        await asyncio.to_thread(create_topics, kafka_connection(settings), topic_layout(settings))
    with listening_socket() as sock:
        # The production server config: our HTTP protocol, its timeouts and header limits.
        config = api_config(settings, create_app(settings), log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        api = RunningApi(settings, f"http://127.0.0.1:{port_of(sock)}")
        try:
            await wait_ready(api, task)
            yield api
        finally:
            server.should_exit = True
            await task


async def wait_ready(api: RunningApi, task: "asyncio.Task[None]") -> None:
    """Until /health answers and the gateway height is known (info carries it)."""
    deadline = asyncio.get_running_loop().time() + CONDITION_S
    async with api.client() as client:
        while asyncio.get_running_loop().time() < deadline:
            if task.done():
                task.result()
                raise RuntimeError("server stopped while starting")
            with contextlib.suppress(httpx.TransportError):
                health = await client.get("/health")
                if health.status_code == 200 and await height_known(client):
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError("API did not become ready (is the stack with arlocal up?)")


async def height_known(client: httpx.AsyncClient) -> bool:
    info = await client.get("/info")
    return info.status_code == 200 and info.json().get("blockHeight") is not None


def signed_item(payload_size: int, seed: int = 7) -> bytes:
    """An Ed25519 item (cheap to sign) with a recognisable payload."""
    payload = bytes((i * seed) % 251 for i in range(256)) * (payload_size // 256 + 1)
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    return sign_data_item(signer, payload[:payload_size], tags=[Tag(b"Content-Type", b"x/y")])


def chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def wait_buffered(client: httpx.AsyncClient, at_least: int) -> None:
    """Until the process holds ``at_least`` body bytes in memory (its /metrics gauge)."""
    for _ in range(300):
        metrics = (await client.get("/metrics")).text
        [line] = [x for x in metrics.splitlines() if x.startswith("bundlestream_buffered_bytes ")]
        if float(line.split()[1]) >= at_least:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the process never held {at_least} body bytes")
