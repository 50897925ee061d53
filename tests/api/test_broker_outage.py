"""Killing the Kafka broker during uploads: 503s, never a receipt without its event, and
uploads resume once the broker is back, without restarting the API.

The test starts a broker of its own (own directory and ports) so that killing it
disturbs nobody else's stack.
"""

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from upload_harness import RunningApi, serve

from bundlestream.core.ans104.signing import Ed25519Signer, sign_data_item
from bundlestream.core.receipts import verify_receipt
from bundlestream.settings import Settings
from bundlestream.stack.kafka import KafkaBroker
from bundlestream.stack.process import wait_until
from tests.ports import PORT_ATTEMPTS, child_ports, port_taken

pytestmark = pytest.mark.stack

OCTET = {"Content-Type": "application/octet-stream"}
# How long the broker may take to start: a bound for a loaded machine, not a timing.
START_DEADLINE_S = 300.0


@pytest.fixture
async def own_broker(settings: Settings, tmp_path: Path) -> AsyncIterator[KafkaBroker]:
    broker = await started_broker(settings, tmp_path)
    try:
        yield broker
    finally:
        await asyncio.to_thread(broker.process.stop)


async def started_broker(settings: Settings, tmp_path: Path) -> KafkaBroker:
    """A broker of our own on ports of its own, started again on others when a port it
    was given had been taken before it bound it."""
    for attempt in range(PORT_ATTEMPTS):
        client_port, controller_port = child_ports(2)
        broker = KafkaBroker(
            settings.updated(
                stack__dir=tmp_path / f"stack-{attempt}",
                kafka__bootstrap=f"127.0.0.1:{client_port}",
                stack__kafka_controller_port=controller_port,
                stack__kafka_heap="256m",
            )
        )
        await asyncio.to_thread(broker.install)
        if await spawn(broker):
            return broker
        log = broker.process.log_tail(200)
        await asyncio.to_thread(broker.process.stop)
        assert port_taken(log), log
    raise AssertionError(f"every port given to the broker was taken ({PORT_ATTEMPTS} tries)")


async def start(broker: KafkaBroker) -> None:
    """Start the broker again on its own ports."""
    assert await spawn(broker), broker.process.log_tail()


async def spawn(broker: KafkaBroker) -> bool:
    """Spawn the broker from a short-lived child process, as ``stack up`` does: the
    daemon outlives it, and no Popen object of ours is left waiting for it. True once it
    serves; False as soon as it has exited."""
    s = broker.settings
    env = {
        **os.environ,
        "BUNDLESTREAM_STACK_DIR": str(s.stack.dir),
        "BUNDLESTREAM_KAFKA_BOOTSTRAP": s.kafka.bootstrap,
        "BUNDLESTREAM_KAFKA_CONTROLLER_PORT": str(s.stack.kafka_controller_port),
        "BUNDLESTREAM_KAFKA_HEAP": s.stack.kafka_heap,
    }
    code = "from bundlestream.settings import Settings\n" + (
        "from bundlestream.stack.kafka import KafkaBroker\nKafkaBroker(Settings()).start()"
    )
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", code, env=env)
    assert await child.wait() == 0

    def settled() -> bool:
        return broker.process.pid() is None or broker.is_ready()

    assert await asyncio.to_thread(wait_until, settled, START_DEADLINE_S), "neither up nor down"
    return broker.is_ready()


def fresh_items(count: int) -> list[bytes]:
    signer = Ed25519Signer(Ed25519PrivateKey.generate())
    return [sign_data_item(signer, f"item {i}".encode()) for i in range(count)]


class Uploader:
    """Posts distinct items one after another and remembers every answer."""

    def __init__(self, api: RunningApi) -> None:
        self.items = iter(fresh_items(2000))
        self.client = api.client()
        self.answers: list[tuple[int, dict[str, Any] | None]] = []

    async def upload(self) -> int:
        response = await self.client.post("/tx", content=next(self.items), headers=OCTET)
        if response.status_code == 503:
            assert response.headers["retry-after"]
        body = response.json() if response.status_code == 200 else None
        self.answers.append((response.status_code, body))
        return response.status_code

    async def until(self, status: int, attempts: int = 200) -> None:
        for _ in range(attempts):
            if await self.upload() == status:
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"never answered {status}: {[s for s, _ in self.answers][-20:]}")


async def test_broker_killed_and_restarted_during_uploads(
    settings: Settings, own_broker: KafkaBroker
) -> None:
    api_settings = settings.updated(kafka__bootstrap=own_broker.settings.kafka.bootstrap)
    async with serve(api_settings) as api:
        uploader = Uploader(api)
        try:
            assert [await uploader.upload() for _ in range(5)] == [200] * 5
            await asyncio.to_thread(own_broker.process.stop, signal.SIGKILL)
            await uploader.until(503)
            await uploader.until(503)
            await start(own_broker)
            await uploader.until(200)
        finally:
            await uploader.client.aclose()
        events = {event.data_item_id for event in api.events()}
    statuses = [status for status, _ in uploader.answers]
    receipts = [body for status, body in uploader.answers if status == 200 and body]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(503) >= 2
    assert all(verify_receipt(receipt) for receipt in receipts)
    # Never a receipt without an event:
    assert {receipt["id"] for receipt in receipts} <= events
