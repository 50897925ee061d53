"""The guard on Faust's and aiokafka's private state (``streams.faust_internals``): the
installed versions are the ones its accessors were checked against, and every accessor
reads what it says from a real worker's app and consumer on the real broker.

The worker below has a table (so a changelog partition) and one agent that holds the
third of three messages; once it holds it, the worker commits and writes what each
accessor reads to a file, then exits.
"""

from __future__ import annotations

import json
from pathlib import Path

from holding_worker import holding_worker, run_holding_worker

from bundlestream.streams import faust_internals

PROBING_WORKER = holding_worker(
    "probe",
    """
table = app.Table("probe-table", default=int, partitions=1)
changelog = TP(table.changelog_topic.get_topic_name(), 0)


@every(app, 0.5)
async def probe():
    if not await three_held():
        return
    await app.consumer.commit()
    report = {
        "committed": fi.committed_offset(app.consumer, tp),
        "read": fi.read_offset(app.consumer, tp),
        "stream_is_changelog": fi.is_changelog(app.consumer, tp),
        "changelog_is_changelog": fi.is_changelog(app.consumer, changelog),
        "in_agents": sorted([held.topic, held.partition] for held in fi.messages_in_agents(app)),
        "recovery_remaining": fi.recovery_remaining(app),
        "fetch_position": fi.fetch_position(app.consumer, tp),
        "evidence": fi.consumer_evidence(app, tp),
    }
    with open(os.environ["PROBE_REPORT"], "w") as out:
        json.dump(report, out, default=repr)
    os._exit(0)
""",
)


def test_the_installed_versions_are_the_checked_ones() -> None:
    assert faust_internals.installed_versions() == dict(faust_internals.CHECKED_VERSIONS), (
        "Faust, aiokafka or mode changed: read their sources for every accessor in"
        " streams/faust_internals.py, then update CHECKED_VERSIONS"
    )


def test_every_accessor_reads_a_real_worker(tmp_path: Path, kafka_bootstrap: str) -> None:
    report_path = tmp_path / "report.json"
    settings, worker = run_holding_worker(tmp_path, PROBING_WORKER, PROBE_REPORT=str(report_path))
    assert worker.returncode == 0 and report_path.exists(), worker.stdout + worker.stderr
    report = json.loads(report_path.read_text())
    evidence = report.pop("evidence")
    assert report == {
        "committed": 2,  # the first two acknowledged, the third in the agent's hands
        "read": 2,
        "stream_is_changelog": False,
        "changelog_is_changelog": True,
        "in_agents": [[f"{settings.kafka.topic_prefix}probe", 0]],
        "recovery_remaining": 0,
        "fetch_position": 3,
    }
    assert "kafka_state_error" not in evidence, evidence
    assert evidence["faust_active"] is True
    assert evidence["faust_paused"] is False
    assert evidence["kafka_assigned"] is True
    assert evidence["kafka_position"] == 3
    assert evidence["kafka_highwater"] == 3
