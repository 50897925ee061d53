"""A worker that stops fetching a partition it owns ends itself, loudly.

The worker below is the real one with one fault injected from outside the product code:
a timer pauses one partition of the planner's input in Faust's consumer, which is what
the stalls streams/consumer_seek.py describes looked like (assigned, never fetched again,
no error). Clock ticks
keep arriving in that partition, so it has messages waiting and no progress.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline_harness import ROOT, Workers, pipeline_settings, running_log, settings_env

from tests.bounds import CONDITION_S

STALLED_WORKER = """
import faust
from faust.types import TP

from bundlestream.settings import Settings
from bundlestream.streams.pipeline import create_pipeline

settings = Settings()
app = create_pipeline(settings)
stalled = TP(settings.kafka.topic_prefix + "data-items.deduplicated", 0)


@app.timer(interval=0.5)
async def stop_fetching_one_partition() -> None:
    if stalled in app.consumer.assignment():
        app.consumer.pause_partitions({stalled})


faust.Worker(app, loglevel="info").execute_from_commandline()
"""


def test_a_partition_no_longer_fetched_ends_the_worker(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    # The harness's 30 s: with 10 s, a partition merely slow on a loaded machine could
    # be the one the watchdog named, not the paused one.
    settings = pipeline_settings(tmp_path)
    log_path = Workers(settings).log_dir / "stalled-worker.log"
    with running_log(settings), log_path.open("wb") as log:
        worker = subprocess.run(
            [sys.executable, "-c", STALLED_WORKER],
            env=settings_env(settings),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=settings.streams.worker_stall_timeout_s + CONDITION_S,
        )
    assert worker.returncode == 75
    stop = [line for line in log_path.read_text().splitlines() if "watchdog: stopping" in line]
    assert len(stop) == 1
    assert f"{settings.kafka.topic_prefix}data-items.deduplicated[0]: " in stop[0]
    assert "'faust_paused': True" in stop[0]
