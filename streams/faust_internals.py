"""Faust's and aiokafka's private state, read in this one module and nowhere else.

Neither library has a public way to ask what the watchdog and the seeking consumer need
to know: how far this consumer has read and committed a partition (Faust keeps it in
memory; asking the broker gives the group's last commit, a round trip later), which
messages an agent holds, how much of table recovery is left, where aiokafka's fetcher
has got to. So the accessors below read private attributes, each saying what it reads,
why, and whether anything decides on it:

=========================  ===========================================  ==============
accessor                   reads                                        used to
=========================  ===========================================  ==============
``committed_offset``       Faust ``Consumer._committed_offset``         decide, seek
``read_offset``            Faust ``Consumer._read_offset``              decide
``is_changelog``           Faust ``Consumer._is_changelog_tp``          seek
``messages_in_agents``     ``Conductor._topic_name_index``, each        decide
                           channel's mode queue's asyncio ``_queue``
``recovery_remaining``     ``app.tables.recovery`` (not on the typed    decide
                           ``TableManagerT``)
``fetch_position``         aiokafka's ``_subscription`` state           log only
                           ``_position`` via Faust's ``_thread``
``unacknowledged_head``    ``_committed_offset``, ``_acked``, ``_gap``  decide, seek
``set_committed_offset``   writes ``_committed_offset``                 decide
``consumer_evidence``      the above and Faust's ``_active_partitions``, log only
                           ``_paused_partitions``, ``_acked``,
                           ``app._fetcher``, aiokafka's ``_fetcher``
                           (``_records``, ``_in_flight``, ``_fetch_task``)
=========================  ===========================================  ==============

Checked against ``CHECKED_VERSIONS`` (read from the installed distributions when this
was written). ``tests/streams/test_faust_internals.py`` fails when the installed versions
differ, and runs every accessor on a real worker's app and consumer: read the sources
of the new versions, then update the versions here.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import metadata
from typing import Any

import faust
from faust.types import TP, ConsumerT

# The distributions whose private state is read here, at the versions it was read from.
# mode-streaming provides the queues of Faust's channels.
CHECKED_VERSIONS: Mapping[str, str] = {
    "faust-streaming": "0.15.3",
    "aiokafka": "0.14.0",
    "mode-streaming": "0.7.1",
}


def installed_versions() -> dict[str, str]:
    """The installed version of each distribution in ``CHECKED_VERSIONS``."""
    return {name: metadata.version(name) for name in CHECKED_VERSIONS}


def committed_offset(consumer: ConsumerT, tp: TP) -> int | None:
    """The next offset to read of ``tp`` as this consumer last committed it; None until
    it has. ``.get``: the attribute is a
    defaultdict, and indexing it would add the partition."""
    private: Any = consumer
    offset: int | None = private._committed_offset.get(tp)
    return offset


def read_offset(consumer: ConsumerT, tp: TP) -> int | None:
    """The offset of ``tp`` this consumer last handed to an agent; None until it has."""
    private: Any = consumer
    offset: int | None = private._read_offset.get(tp)
    return offset


def is_changelog(consumer: ConsumerT, tp: TP) -> bool:
    """Whether ``tp`` belongs to a table's changelog (table recovery's business)."""
    private: Any = consumer
    return bool(private._is_changelog_tp(tp))


def messages_in_agents(app: faust.App) -> set[TP]:
    """Partitions with a message in an agent's hands: taken by its stream and not yet
    acknowledged (``unacked``, public), or delivered to its channel and waiting in the
    channel's queue (private: Faust keeps the channels in its conductor's index, mode's
    queue keeps the events in asyncio's deque)."""
    held = {message.tp for message in list(app.consumer.unacked)}
    conductor: Any = app.topics
    for channels in list(conductor._topic_name_index.values()):
        for channel in list(channels):
            queued = getattr(channel._queue, "_queue", None) or ()
            held.update(event.message.tp for event in list(queued))
    return held


def recovery_remaining(app: faust.App) -> int:
    """Changelog messages table recovery still has to read (0 when none is running)."""
    recovery: Any = app.tables.recovery  # type: ignore[attr-defined]
    return int(recovery.active_remaining_total())


def fetch_position(consumer: ConsumerT, tp: TP) -> int | None:
    """aiokafka's next offset to fetch of ``tp``; None when it has none or the state is
    not there (before the consumer thread runs, after the partition was revoked). The
    records before it were fetched, and may have been thrown away."""
    private: Any = consumer
    try:
        kafka = private._thread._consumer
        position = kafka._subscription.subscription.assignment.state_value(tp)._position
    except (AttributeError, KeyError):
        return None
    return position if isinstance(position, int) else None


def consumer_evidence(app: faust.App, tp: TP) -> dict[str, object]:
    """Faust's and aiokafka's state of ``tp``, for a log line: evidence, never used to
    decide. What cannot be read is reported as ``kafka_state_error``, never raised."""
    consumer: Any = app.consumer
    state: dict[str, object] = {
        "faust_active": tp in (consumer._active_partitions or set()),
        "faust_paused": tp in consumer._paused_partitions,
        "flow_active": consumer.flow_active,
        "flow_control_active": app.flow_control.is_active(),
        "acked_pending": len(consumer._acked.get(tp, ())),
        "generation": app.consumer_generation_id,
        "fetcher": repr(getattr(app, "_fetcher", None)),
    }
    try:
        state |= _kafka_evidence(consumer._thread._consumer, tp)
    except Exception as exc:  # evidence only: never let it hide what it explains
        state["kafka_state_error"] = repr(exc)
    return state


def _kafka_evidence(kafka: Any, tp: TP) -> dict[str, object]:
    subscription = kafka._subscription.subscription
    assignment = subscription.assignment if subscription else None
    tp_state = assignment.state_value(tp) if assignment else None
    fetcher = kafka._fetcher
    return {
        "kafka_assigned": tp_state is not None,
        "kafka_paused": tp_state.paused if tp_state else None,
        "kafka_position": tp_state._position if tp_state else None,
        "kafka_highwater": kafka.highwater(tp),
        "kafka_buffered": type(fetcher._records.get(tp)).__name__,
        "kafka_in_flight_nodes": sorted(fetcher._in_flight),
        "kafka_fetch_task_done": fetcher._fetch_task.done(),
    }


def unacknowledged_head(consumer: ConsumerT, tp: TP) -> int | None:
    """The committed position of ``tp`` when it is not acknowledged (nor a gap the
    fetcher saw) while a later offset is: Faust's commit would pass it. None otherwise."""
    private: Any = consumer
    committed = private._committed_offset.get(tp)
    acked = private._acked.get(tp)
    if committed is None or not acked or min(acked) <= committed:
        return None
    gap = private._gap.get(tp)
    return None if gap is not None and gap.overlaps(committed) else int(committed)


def set_committed_offset(consumer: ConsumerT, tp: TP, offset: int) -> None:
    """Record ``offset`` as ``tp``'s committed position (the next to read)."""
    private: Any = consumer
    private._committed_offset[tp] = offset
