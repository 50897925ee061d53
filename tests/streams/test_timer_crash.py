"""A worker's timer that fails ends the worker at once (``streams.app.every``), and the
message an agent holds unfinished stays uncommitted.

Escaping the timer, the error crashed the Faust app, whose orderly stop cancels the
agents; a cancelled agent's stream acknowledges the message in its hands, and the stop
commits it: a chaos run lost a planned bundle (66 receipted items) this way when the
verify poller read the object store during an outage. Here a real worker's agent holds
the third of three messages, then a timer raises; afterwards the group's committed
offset is read from the broker: 2, not 3.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition
from pipeline_harness import ROOT, pipeline_settings, settings_env

FAILING_TIMER_WORKER = """
import asyncio

import faust

from bundlestream.settings import Settings
from bundlestream.streams.app import create_app, every

settings = Settings()
app = create_app(settings)
topic = app.topic(
    settings.kafka.topic_prefix + "timer-crash", value_serializer="raw", partitions=1,
    internal=True,
)
held, sent = [], []


@app.agent(topic)
async def hold_the_third(stream):
    async for value in stream:
        held.append(value)
        if len(held) == 3:
            await asyncio.Event().wait()


@every(app, 0.5)
async def fail_once_the_third_is_held() -> None:
    if app.rebalancing or not app.consumer.assignment():
        return
    if not sent:
        for n in range(3):
            await topic.send(value=str(n).encode())
        sent.append(True)
        return
    if len(held) < 3:
        return
    await app.consumer.commit()
    raise RuntimeError("the object store is unreachable")


faust.Worker(app, loglevel="warning").execute_from_commandline()
"""


def test_a_failing_timer_leaves_the_held_message_uncommitted(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    settings = pipeline_settings(tmp_path, streams__worker_stall_timeout_s=0.0)
    worker = subprocess.run(
        [sys.executable, "-c", FAILING_TIMER_WORKER],
        env=settings_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "the object store is unreachable" in worker.stdout + worker.stderr, worker.stderr
    group = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": settings.streams.app_id})
    try:
        tp = TopicPartition(settings.kafka.topic_prefix + "timer-crash", 0)
        [committed] = group.committed([tp], timeout=30)
    finally:
        group.close()
    assert committed.offset == 2, worker.stdout + worker.stderr
