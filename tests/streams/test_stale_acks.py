"""A message acknowledged after its partition changed hands never moves the commit
(``streams/consumer_seek.py``): a worker that had skipped records during a rebalance
committed past them, and the partition's new owner started after them.

A real worker on the real broker: one agent takes the third of three messages and holds
it; then the worker puts itself in each state a rebalance leaves it in, acknowledges the
held message, commits, and reports what it committed. The first two were acknowledged
in their generation, so the commit is at 2 in every case; on Faust's own consumer it
was 3, past a message no agent finished.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pipeline_harness import ROOT, pipeline_settings, settings_env

STALE_ACK_WORKER = """
import asyncio, json, os, sys

import faust
from faust.types import TP

from bundlestream.settings import Settings
from bundlestream.streams import faust_internals as fi
from bundlestream.streams.app import create_app

settings = Settings()
app = create_app(settings)
topic = app.topic(
    settings.kafka.topic_prefix + "stale", value_serializer="raw", partitions=1, internal=True
)
tp = TP(settings.kafka.topic_prefix + "stale", 0)
held, sent = [], []


@app.agent(topic)
async def hold_the_third(stream):
    async for event in stream.events():
        held.append(event)
        if len(held) == 3:
            await asyncio.Event().wait()
        await stream.ack(event)


def rebalanced(case):
    if case == "generation":  # fetched before a rebalance that kept the partition here
        app.consumer_generation_id += 1
    elif case == "revoked":  # finished after the partition went to another worker
        app.consumer._owned.discard(tp)
    elif case == "suspended":  # a rebalance has begun: the flow is stopped
        app.flow_control.suspend()


@app.timer(interval=0.5)
async def probe():
    if app.rebalancing or tp not in app.consumer.assignment():
        return
    if not sent:
        for n in range(3):
            await topic.send(value=str(n).encode())
        sent.append(True)
        return
    if len(held) < 3:
        return
    await app.consumer.commit()
    before = fi.committed_offset(app.consumer, tp)
    rebalanced(os.environ["REBALANCE_CASE"])
    held[2].ack()
    await app.consumer.commit()
    with open(os.environ["PROBE_REPORT"], "w") as out:
        json.dump({"before": before, "after": fi.committed_offset(app.consumer, tp)}, out)
    os._exit(0)


faust.Worker(app, loglevel="warning").execute_from_commandline()
"""


@pytest.mark.parametrize("case", ["generation", "revoked", "suspended"])
def test_an_acknowledgement_after_a_rebalance_does_not_move_the_commit(
    tmp_path: Path, kafka_bootstrap: str, case: str
) -> None:
    settings = pipeline_settings(tmp_path, streams__worker_stall_timeout_s=0.0)
    report_path = tmp_path / "report.json"
    worker = subprocess.run(
        [sys.executable, "-c", STALE_ACK_WORKER],
        env={**settings_env(settings), "PROBE_REPORT": str(report_path), "REBALANCE_CASE": case},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0 and report_path.exists(), worker.stdout + worker.stderr
    assert json.loads(report_path.read_text()) == {"before": 2, "after": 2}
