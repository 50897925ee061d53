"""A worker told to stop (SIGTERM) or whose Faust services fail (Faust's crash handling)
commits nothing an agent still holds: it ends at once (``streams.crash.Worker``).

Faust's orderly stop cancels the agents; a cancelled agent's stream acknowledges the
message in its hands, and the stop commits it, unfinished. A timer's error no longer
took this path (``test_timer_crash.py``), but a rolling restart did, and so did any
error inside Faust's consumer: a chaos run's log shows the consumer's livelock detector
failing an assertion during a broker's failover and the worker stopping in order. Here a
real worker's agent holds the third of three messages, then the worker is stopped;
 the
group's committed offset is read from the broker afterwards: 2, not 3.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from holding_worker import holding_worker, run_holding_worker

STOPS = {
    "sigterm": """
import signal

@every(app, 0.5)
async def stop_once_the_third_is_held() -> None:
    if await three_held():
        await app.consumer.commit()
        os.kill(os.getpid(), signal.SIGTERM)
""",
    "service-crash": """
@every(app, 0.5)
async def crash_the_consumer_once_the_third_is_held() -> None:
    if await three_held():
        await app.consumer.commit()
        await app.consumer.crash(AssertionError("livelock detector"))
""",
}


@pytest.mark.parametrize("stop", sorted(STOPS))
def test_an_orderly_stop_leaves_the_held_message_uncommitted(
    tmp_path: Path, kafka_bootstrap: str, stop: str
) -> None:
    topic = f"orderly-{stop}"
    settings, worker = run_holding_worker(tmp_path, holding_worker(topic, STOPS[stop]))
    group = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": settings.streams.app_id})
    try:
        [committed] = group.committed(
            [TopicPartition(settings.kafka.topic_prefix + topic, 0)], timeout=30
        )
    finally:
        group.close()
    assert committed.offset == 2, worker.stdout + worker.stderr
