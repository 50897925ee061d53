"""kill -9 of the projector in the middle of its batches loses and duplicates no row."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.event_story import produce, story
from bundlestream.projections import postgres
from bundlestream.projections.migrator import migrate
from bundlestream.projections.projector import Projector
from bundlestream.projections.rebuild import remaining
from bundlestream.settings import Settings
from tests.bounds import CONDITION_S
from tests.projections.test_rebuild import differences, ignore, replay_into, states

pytestmark = pytest.mark.stack

DEADLINE_S = CONDITION_S


def start_projector(
    settings: Settings, log: Path, supervised: bool = False
) -> subprocess.Popen[bytes]:
    """The projector process itself (a kill -9 hits it mid-batch), or with ``supervised``
    the ``bundlestream projector`` supervisor that runs it."""
    env = {
        **os.environ,
        "BUNDLESTREAM_KAFKA_BOOTSTRAP": settings.kafka.bootstrap,
        "BUNDLESTREAM_POSTGRES_DSN": settings.postgres.dsn.get_secret_value(),
        "BUNDLESTREAM_TOPIC_PREFIX": settings.kafka.topic_prefix,
        "BUNDLESTREAM_PROJECTIONS_SCHEMA": settings.postgres.projections_schema,
        "BUNDLESTREAM_PROJECTOR_GROUP_ID": settings.postgres.projector_group_id,
        "BUNDLESTREAM_PROJECTOR_BATCH_SIZE": str(settings.postgres.projector_batch_size),
    }
    command = [sys.executable, "-m", "bundlestream.cli", "projector"]
    if not supervised:
        command.append("--supervised")  # how the supervisor starts the projector
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def projected(settings: Settings) -> postgres.Offsets:
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        return postgres.tracked_offsets(conn, settings.postgres.projections_schema)


def wait_for(settings: Settings, done: Callable[[postgres.Offsets], bool]) -> postgres.Offsets:
    deadline = time.monotonic() + DEADLINE_S
    while not done(offsets := projected(settings)):
        assert time.monotonic() < deadline, f"projector stuck at {offsets}"
        time.sleep(0.05)
    return offsets


def log_end(settings: Settings) -> postgres.Offsets:
    probe = Projector(
        settings, settings.postgres.projections_schema, f"{settings.postgres.projector_group_id}-x"
    )
    try:
        return probe.end_offsets()
    finally:
        probe.close()


def test_kill_9_mid_batch_then_restart_loses_and_duplicates_nothing(
    own: Settings, tmp_path: Path
) -> None:
    produce(own, story(bundles=60, items_per_bundle=100))
    with postgres.connect(own.postgres.dsn.get_secret_value()) as conn:
        migrate(conn, own.postgres.projections_schema)
    end = log_end(own)
    total = sum(end.values())
    log = tmp_path / "projector.log"
    kills, unfinished = 0, []
    for fraction in (0.2, 0.5, 0.8):  # three crashes at different points of the log
        process = start_projector(own, log)
        try:
            wait_for(own, lambda offsets, f=fraction: sum(offsets.values()) >= f * total)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        kills += 1
        unfinished.append(remaining(end, projected(own)) > 0)
    # The next start resumes from a crash if a kill left work. How far the projector ran
    # on between our look and the signal depends on the scheduler: the last kill (20 %
    # left) could come after the end on a loaded machine; the first leaves 80 %.
    assert any(unfinished), "the projector finished before every kill"
    process = start_projector(own, log)
    try:
        wait_for(own, lambda offsets: remaining(end, offsets) == 0)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=DEADLINE_S) == 0, log.read_text()
    assert kills == 3
    # Exactly the story's rows: 6,000 items, 6 bundles dropped and their first items failed.
    assert states(own, own.postgres.projections_schema, "data_items") == {
        "permanent": 5994,
        "failed": 6,
    }
    assert states(own, own.postgres.projections_schema, "bundles") == {
        "permanent": 60,
        "dropped": 6,
    }
    with postgres.connect(own.postgres.dsn.get_secret_value()) as conn:
        offsets = conn.execute(
            f'SELECT count(*) FROM "{own.postgres.projections_schema}".item_offsets'
        ).fetchone()
    assert offsets == (6000 + 594 + 66,)  # every item, re-planned ones again, one nested each
    replay = f"{own.postgres.projections_schema}_replay"
    replay_into(own, replay, ignore)
    assert differences(own, own.postgres.projections_schema, replay) == []
