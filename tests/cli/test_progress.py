"""Long operator commands show their progress: plain lines when stderr is not a
terminal (a log, a pipe, CI), checked here exactly with a stepped clock, and through a
real ``bundlestream events redrive`` whose stderr is a pipe."""

import io
import re
import subprocess
import sys
from itertools import count
from pathlib import Path

import pytest

from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.progress import CommandProgress
from bundlestream.wiring import kafka_connection, topic_layout
from tests.console.console_harness import console_settings, dead_letter
from tests.streams.pipeline_harness import ROOT, settings_env


def test_plain_lines_say_count_share_rate_and_eta_at_most_every_interval() -> None:
    out, ticks = io.StringIO(), count()
    clock = lambda: float(next(ticks))  # noqa: E731  one second per reading
    with CommandProgress("rebuild", "events", stream=out, clock=clock, every_s=2) as progress:
        for done in (100, 200, 300, 400):
            progress.update(done, 1000)
    assert out.getvalue().splitlines() == [
        "rebuild: started",
        "rebuild: 200/1,000 events (20%), 100/s, ETA 8s",
        "rebuild: 400/1,000 events (40%), 100/s, ETA 6s",
        "rebuild: 400/1,000 events (40%), 80/s, ETA 8s (done)",
    ]


def test_an_unknown_total_has_no_share_and_no_eta() -> None:
    out, ticks = io.StringIO(), count()
    with CommandProgress("replay", "events", stream=out, clock=lambda: float(next(ticks))) as p:
        p.update(50)
    assert out.getvalue().splitlines()[-1] == "replay: 50 events, 25/s (done)"


@pytest.mark.stack
def test_redrive_writes_plain_progress_lines_to_a_pipe(tmp_path: Path) -> None:
    settings = console_settings(tmp_path)
    create_topics(kafka_connection(settings), topic_layout(settings))
    for n in range(3):
        dead_letter(settings, b"still not an event", f"key-{n}")
    done = subprocess.run(
        [sys.executable, "-m", "bundlestream.cli", "events", "redrive"],
        env=settings_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stderr.splitlines()
    assert lines[0] == "redrive: started"
    assert re.fullmatch(r"redrive: 3/3 dead letters \(100%\), [\d,]+/s, ETA 0s \(done\)", lines[-1])
    assert "\x1b" not in done.stderr  # no terminal control codes in a pipe
    assert done.stdout == "returned 0 to their topics; 3 still undecodable\n"
