"""A real worker, as a script, whose one agent takes the third of three messages on a
one-partition topic and holds it: the probes of Faust's consumer state build on it.

``holding_worker(topic, body)`` is the script: ``body`` (a timer, usually) sees
``app``, ``topic``, ``tp``, ``held`` (the events the agent took) and
``await three_held()`` (sends the three once the partition is assigned; True once the
third is held). ``run_holding_worker`` runs it to its end on the test's settings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline_harness import ROOT, pipeline_settings, settings_env

from bundlestream.settings import Settings

_PRELUDE = """
import asyncio, json, os

import faust
from faust.types import TP

from bundlestream.settings import Settings
from bundlestream.streams import faust_internals as fi
from bundlestream.streams.app import create_app, every
from bundlestream.streams.crash import Worker

settings = Settings()
app = create_app(settings)
topic = app.topic(
    settings.kafka.topic_prefix + {topic!r}, value_serializer="raw", partitions=1,
    internal=True,
)
tp = TP(settings.kafka.topic_prefix + {topic!r}, 0)
held, sent = [], []


@app.agent(topic)
async def hold_the_third(stream):
    async for event in stream.events():
        held.append(event)
        if len(held) == 3:
            await asyncio.Event().wait()


async def three_held():
    if app.rebalancing or tp not in app.consumer.assignment():
        return False
    if not sent:
        for n in range(3):
            await topic.send(value=str(n).encode())
        sent.append(True)
        return False
    return len(held) == 3
"""

_START = """
Worker(app, loglevel="warning").execute_from_commandline()
"""


def holding_worker(topic: str, body: str) -> str:
    return _PRELUDE.format(topic=topic) + body + _START


def run_holding_worker(
    tmp_path: Path, script: str, **env: str
) -> tuple[Settings, subprocess.CompletedProcess[str]]:
    settings = pipeline_settings(tmp_path, streams__worker_stall_timeout_s=0.0)
    worker = subprocess.run(
        [sys.executable, "-c", script],
        env={**settings_env(settings), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return settings, worker
