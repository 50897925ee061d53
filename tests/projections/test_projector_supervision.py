"""``bundlestream projector`` is supervised like the API and the workers: a projector
process that ends (killed, or Postgres gone under it) is started again and projects the
rest of the log."""

import os
import signal
import time
from pathlib import Path

import pytest

from bench.chaos_faults import supervised_children
from bench.event_story import produce, story
from bundlestream.projections import postgres
from bundlestream.projections.migrator import migrate
from bundlestream.projections.rebuild import remaining
from bundlestream.settings import Settings
from tests.projections.test_crash import log_end, projected, start_projector, wait_for

pytestmark = pytest.mark.stack


def wait_for_child(supervisor: int, not_this: int | None = None) -> int:
    deadline = time.monotonic() + 120
    while not (found := [c for c in supervised_children(supervisor) if c != not_this]):
        assert time.monotonic() < deadline, f"no projector process under {supervisor}"
        time.sleep(0.1)
    return found[0]


def test_a_killed_projector_is_started_again_and_projects_the_rest(
    own: Settings, tmp_path: Path
) -> None:
    produce(own, story(bundles=20, items_per_bundle=100))
    with postgres.connect(own.postgres.dsn.get_secret_value()) as conn:
        migrate(conn, own.postgres.projections_schema)
    end = log_end(own)
    supervisor = start_projector(own, tmp_path / "projector.log", supervised=True)
    try:
        first = wait_for_child(supervisor.pid)
        wait_for(own, lambda offsets: sum(offsets.values()) > 0)
        os.kill(first, signal.SIGKILL)
        second = wait_for_child(supervisor.pid, not_this=first)
        assert second != first
        wait_for(own, lambda offsets: remaining(end, offsets) == 0)
        assert remaining(end, projected(own)) == 0
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(60)
    assert supervised_children(supervisor.pid) == []
