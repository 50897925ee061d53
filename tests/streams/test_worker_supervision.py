"""``bundlestream worker --processes N`` keeps N workers running: a worker that dies is
started again; SIGTERM stops the supervisor and every worker, and none is restarted."""

from __future__ import annotations

import signal
from pathlib import Path

from pipeline_harness import Workers, is_running, pipeline_settings, running_log

from tests.bounds import CONDITION_S


async def test_a_killed_worker_is_restarted_and_sigterm_stops_them_all(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    settings = pipeline_settings(tmp_path)
    with running_log(settings):
        workers = Workers(settings)
        supervisor = workers.start(processes=2)
        try:
            first = await workers.wait_for_workers(2)
            workers.kill9(first[0])
            second = await workers.wait_for_workers(2, gone=first[:1])
            assert first[1] in second
            supervisor.send_signal(signal.SIGTERM)
            assert supervisor.wait(timeout=CONDITION_S) == 0
            assert not [pid for pid in second if is_running(pid)]
        finally:
            workers.stop_all()
    log = (workers.log_dir / "worker-1.log").read_text()
    assert f"(pid {first[0]}) exited with status -9" in log
    assert "SIGTERM, stopping the workers" in log
