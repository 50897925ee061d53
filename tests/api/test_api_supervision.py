"""``bundlestream api`` (what ``make up`` / ``make run`` start) is supervised like the
workers: its server killed with kill -9 is started again and serves uploads; stopping the
supervisor stops the server with it."""

import asyncio
import os
import signal
from pathlib import Path

import httpx
import pytest
from api_process import ApiProcess, children, eventually, supervised_command
from upload_harness import free_port, signed_item

from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.core.ans104 import parse_data_item
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout

pytestmark = pytest.mark.stack

OCTET = {"Content-Type": "application/octet-stream"}


async def test_the_api_server_is_started_again_after_a_kill_9(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.updated(api__port=free_port())
    await asyncio.to_thread(create_topics, kafka_connection(settings), topic_layout(settings))
    raw = signed_item(1024)
    api = ApiProcess(settings, supervised_command(), tmp_path / "api.log")
    try:
        await api.ready()
        [first] = children(api.process.pid)
        os.kill(first, signal.SIGKILL)
        await eventually(
            lambda: children(api.process.pid) not in ([], [first]), "another server started"
        )
        await api.ready()
        [second] = children(api.process.pid)
        async with httpx.AsyncClient(base_url=api.url, timeout=60) as client:
            upload = await client.post("/tx", content=raw, headers=OCTET)
    finally:
        api.stop()
    assert upload.status_code == 200, upload.text
    assert upload.json()["id"] == parse_data_item(raw).id
    assert api.process.returncode == 0
    assert not Path(f"/proc/{second}").exists()
    assert f"api 1 (pid {first}) exited with status -9" in api.log()
