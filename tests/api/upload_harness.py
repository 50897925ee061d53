"""Helpers of the upload API tests: a real uvicorn server on the real stack.

Each test gets its own topic prefix (so its own topics and Redis namespace) and its own
object store directory. A missing service makes the test fail, never skip.
"""

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.api.app import create_app
from bundlestream.schemas.codec import decode
from bundlestream.schemas.events import DataItemReceived
from bundlestream.schemas.topics import DATA_ITEMS_RECEIVED
from confluent_kafka import Consumer, TopicPartition

from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "ans104"
MiB = 1024 * 1024


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class RunningApi:
    """A started server: its URL, settings and helpers to inspect what it wrote."""

    def __init__(self, settings: Settings, url: str) -> None:
        self.settings = settings
        self.url = url
        self.topic = DATA_ITEMS_RECEIVED.full_name(settings.kafka.topic_prefix)

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=60.0, **kwargs)

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
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = list(metadata.topics[topic].partitions)
        found: list[DataItemReceived] = []
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), 10)
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
        message = consumer.poll(10)
        assert message is not None, "timed out reading the topic"
        assert message.error() is None, message.error()
        event = decode(message.value() or b"")
        assert isinstance(event, DataItemReceived)
        assert message.key() == event.owner_address.encode()
        found.append(event)
        if message.offset() >= last_offset:
            return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(settings: Settings, create_topics_first: bool = True) -> AsyncIterator[RunningApi]:
    """Create the topics, start uvicorn on a free port, wait for the block height."""
    if create_topics_first:
        await asyncio.to_thread(create_topics, kafka_connection(settings), topic_layout(settings))
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    api = RunningApi(settings, f"http://127.0.0.1:{port}")
    try:
        await wait_ready(api, task)
        yield api
    finally:
        server.should_exit = True
        await task


async def wait_ready(api: RunningApi, task: "asyncio.Task[None]") -> None:
    """Until /health answers and the gateway height is known (info carries it)."""
    async with api.client() as client:
        for _ in range(300):
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


def chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
