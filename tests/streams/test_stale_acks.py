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
from pathlib import Path

import pytest
from holding_worker import holding_worker, run_holding_worker

STALE_ACK_WORKER = holding_worker(
    "stale",
    """
def rebalanced(case):
    if case == "generation":  # fetched before a rebalance that kept the partition here
        app.consumer_generation_id += 1
    elif case == "revoked":  # finished after the partition went to another worker
        app.consumer._owned.discard(tp)
    elif case == "suspended":  # a rebalance has begun: the flow is stopped
        app.flow_control.suspend()


@every(app, 0.5)
async def probe():
    if not await three_held():
        return
    await app.consumer.commit()
    before = fi.committed_offset(app.consumer, tp)
    rebalanced(os.environ["REBALANCE_CASE"])
    held[2].ack()
    await app.consumer.commit()
    with open(os.environ["PROBE_REPORT"], "w") as out:
        json.dump({"before": before, "after": fi.committed_offset(app.consumer, tp)}, out)
    os._exit(0)
""",
)


@pytest.mark.parametrize("case", ["generation", "revoked", "suspended"])
def test_an_acknowledgement_after_a_rebalance_does_not_move_the_commit(
    tmp_path: Path, kafka_bootstrap: str, case: str
) -> None:
    report_path = tmp_path / "report.json"
    _, worker = run_holding_worker(
        tmp_path, STALE_ACK_WORKER, PROBE_REPORT=str(report_path), REBALANCE_CASE=case
    )
    assert worker.returncode == 0 and report_path.exists(), worker.stdout + worker.stderr
    assert json.loads(report_path.read_text()) == {"before": 2, "after": 2}
