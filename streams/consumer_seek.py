"""Faust's Kafka consumer with "seek to committed" that also seeks uncommitted partitions.

Why (issue 5): when a rebalance's table recovery completes, Faust (0.15.3) resumes the
stream partitions, then ``perform_seek`` moves every partition back to its committed
offset, then ``flow_control.resume()`` empties every agent's buffer. The fetcher runs
throughout, so records fetched between the resume and the end of the seek are delivered
and then thrown away; that is harmless only because the seek has moved the fetch
position back to the committed offset. But aiokafka's ``seek_to_committed`` seeks only
``if offset and offset > 0``: a partition with no committed offset (or 0) keeps the
position it had reached, and the records thrown away are never fetched again. If nothing
more arrives the partition stalls with lag and no error; if more arrives, Faust's commit
(which tolerates a one-offset hole at the committed position) can commit past the lost
record, or never advance again when the hole is wider. Fresh topics and partitions that
no worker has committed yet (a worker killed before its first commit) are exactly these.

The fix: after Faust's own seek, seek each stream partition without a committed offset
to the start of its log, as ``auto_offset_reset=earliest`` means (changelog partitions
are table recovery's business). Records an agent took before the seek are handed over
again, as for committed partitions: at-least-once, which every stage tolerates.
"""

import logging
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

log = logging.getLogger(__name__)


class SeekingConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer; ``perform_seek`` also covers uncommitted partitions."""

    async def perform_seek(self) -> None:
        await super().perform_seek()
        uncommitted = [
            tp
            for tp in self.assignment()
            if not self._committed_offset.get(tp) and not self._is_changelog_tp(tp)
        ]
        if uncommitted:
            starts = await self.earliest_offsets(*uncommitted)
            for tp in uncommitted:
                start = starts.get(tp, 0)
                fetched_to = self._fetch_position(tp)
                if fetched_to is not None and fetched_to > start:
                    log.info(
                        "%s[%d]: no committed offset and fetched up to %d already;"
                        " reading again from %d",
                        tp.topic,
                        tp.partition,
                        fetched_to,
                        start,
                    )
                await self.seek(tp, start)

    def _fetch_position(self, tp: Any) -> int | None:
        """aiokafka's next offset to fetch for ``tp`` (private state, read for the log
        only: the records before it were fetched and may have been thrown away)."""
        kafka: Any = self._thread._consumer
        try:
            subscription = kafka._subscription.subscription
            position = subscription.assignment.state_value(tp)._position
        except (AttributeError, KeyError):
            return None
        return position if isinstance(position, int) else None


class SeekingTransport(faust_aiokafka.Transport):
    Consumer = SeekingConsumer


def use_seeking_consumer(app: faust.App) -> None:
    """Give ``app`` the consumer above (before anything has created its transport)."""
    transport: Any = SeekingTransport(app.conf.broker_consumer, app)
    app.transport = transport
