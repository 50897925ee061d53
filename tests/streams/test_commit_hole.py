"""A commit never passes an offset nobody acknowledged (``SeekingConsumer._new_offset``).

Faust's commit accepts a hole of exactly one offset at the committed position: a chaos
run lost a whole plan (104 items) so, its offset skipped around a crash and two
rebalances while the next one was acknowledged. Here a real worker's agent acknowledges
the second and third of three messages but not the first, the first time it sees it.
Faust committed 3 and never handed the first over again; now the commit waits, the
partition is read again from the first, and only once it is acknowledged is 3 committed.
"""

from __future__ import annotations

import json
from pathlib import Path

from holding_worker import holding_worker, run_holding_worker

SKIPPING = holding_worker(
    "commit-hole",
    """
seen = []

skipping_topic = app.topic(
    settings.kafka.topic_prefix + "commit-hole-skip", value_serializer="raw", partitions=1,
    internal=True,
)
skip_tp = TP(settings.kafka.topic_prefix + "commit-hole-skip", 0)


@app.agent(skipping_topic)
async def skip_the_first_once(stream):
    async for event in stream.noack().events():
        seen.append(event.message.offset)
        if event.message.offset != 0 or seen.count(0) > 1:
            await stream.ack(event)


@every(app, 0.5)
async def report_once_settled() -> None:
    if app.rebalancing or skip_tp not in app.consumer.assignment():
        return
    if not sent:
        for n in range(3):
            await skipping_topic.send(value=str(n).encode())
        sent.append(asyncio.get_running_loop().time())
        return
    await app.consumer.commit()
    committed = fi.committed_offset(app.consumer, skip_tp)
    waited = asyncio.get_running_loop().time() - sent[0]
    if committed == 3 or waited > 60:  # a bound for the old consumer, which never re-reads
        print(json.dumps({"seen": seen, "committed": committed}), flush=True)
        os._exit(0)
""",
)


def test_a_commit_waits_for_the_unacknowledged_offset_and_reads_it_again(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    _, worker = run_holding_worker(tmp_path, SKIPPING)
    output = worker.stdout + worker.stderr  # Faust logs what a worker prints
    reports = [line[line.index("{") :] for line in output.splitlines() if '{"seen"' in line]
    assert len(reports) == 1, output
    report = json.loads(reports[0])
    assert report["seen"].count(0) == 2, output
    assert report["committed"] == 3, output
