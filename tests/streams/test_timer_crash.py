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

from pathlib import Path

from confluent_kafka import Consumer, TopicPartition
from holding_worker import holding_worker, run_holding_worker

FAILING_TIMER_WORKER = holding_worker(
    "timer-crash",
    """
@every(app, 0.5)
async def fail_once_the_third_is_held() -> None:
    if not await three_held():
        return
    await app.consumer.commit()
    raise RuntimeError("the object store is unreachable")
""",
)


def test_a_failing_timer_leaves_the_held_message_uncommitted(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    settings, worker = run_holding_worker(tmp_path, FAILING_TIMER_WORKER)
    assert "the object store is unreachable" in worker.stdout + worker.stderr, worker.stderr
    group = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": settings.streams.app_id})
    try:
        tp = TopicPartition(settings.kafka.topic_prefix + "timer-crash", 0)
        [committed] = group.committed([tp], timeout=30)
    finally:
        group.close()
    assert committed.offset == 2, worker.stdout + worker.stderr
