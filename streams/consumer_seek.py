"""Faust's Kafka consumer, made to deliver nothing from a stream partition after a
rebalance until that partition's position is where the group left it.

Why: when table recovery completes, Faust (the versions in
``faust_internals.CHECKED_VERSIONS``, the module through which the private state used
here is read) resumes the stream partitions, then ``perform_seek`` moves each back to
its committed offset, then ``flow_control.resume()`` empties every agent's buffer, then
``resume_flow()``. The fetcher runs throughout, so records fetched in between, from
wherever the fetch position had got to, are handed to agents before the seek. Two ways
this lost records, both seen:

- aiokafka's ``seek_to_committed`` seeks only ``if offset and offset > 0``: a partition
  with no committed offset kept its advanced position, and the records the buffers
  dropped were never fetched again. Nothing more arriving: the partition stalled with
  lag and no error. More arriving: Faust's commit, which tolerates a one-offset hole at
  the committed position, committed past the lost record (a BundlePlanned committed and
  never prepared).
- A record delivered before the seek was processed, out of order, before the records
  the seek then delivered again: the planner applied a tick at offset 157, recorded that
  offset as applied, and skipped offsets 79 to 156 when they came (72 items never
  planned).

So: stream partitions that Faust resumes are held back (not fetched from, nothing of
them delivered) until ``perform_seek`` has run for the same generation and the flow is
resumed after it, by which time the agents' buffers have been emptied; and
``perform_seek`` also seeks every stream partition without a committed offset to the
start of its log, as ``auto_offset_reset=earliest`` means (changelog partitions are
table recovery's business, untouched). Records an agent took before a rebalance are
handed over again, as always: at-least-once, which every stage tolerates.

Nor does a commit pass an offset nobody acknowledged. Faust's commit accepts a hole of
exactly one offset at the committed position (meant for transaction markers, which our
topics never carry): a fourth chaos run lost a whole plan so, its offset skipped around
a crash and two rebalances and the next one acknowledged. Here the commit of such a
partition waits, and the partition is read again from the hole.

Acknowledgements are held to the same rule. Faust acknowledges a message its stream
skips because it was fetched in an earlier generation (or while the flow was stopped),
and an agent may finish a message after its partition was revoked; Faust's commit then
covers every partition it has acknowledgements for, owned or not. A worker that had
held a partition for a few seconds during a rebalance so committed it past 418 records
it had skipped and never handed to dedup (a chaos run: kill -9 of the other worker at
40 uploads/s), and the partition's new owner started after them: received, receipted,
never bundled. So a message is acknowledged only in the generation it was fetched in, while
its partition is this consumer's and the flow runs; any other is marked done without its offset
(Faust stops waiting for it), and whoever owns the partition reads it again from the
commit.
"""

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message

from bundlestream.streams import faust_internals

log = logging.getLogger(__name__)


class SeekingConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer with the hold and the seek described above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: set[TP] = set()  # stream partitions resumed by Faust, not yet by us
        self._held_generation: int | None = None
        self._seeked = False  # perform_seek ran for the held partitions' generation
        self._owned: set[TP] = set()  # assigned and not revoked since
        self._seeking_back: dict[TP, asyncio.Task[None]] = {}

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        self._owned -= revoked
        await super().on_partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TP], generation_id: int = 0) -> None:
        self._owned = set(assigned)
        await super().on_partitions_assigned(assigned, generation_id)

    def ack(self, message: Message) -> bool:
        if (
            message.generation_id != self.app.consumer_generation_id
            or message.tp not in self._owned
            or not self.app.flow_control.is_active()
        ):
            message.acked = True  # done here; its offset stays for the partition's owner
            return False
        return super().ack(message)

    def _new_offset(self, tp: TP) -> int | None:
        head = faust_internals.unacknowledged_head(self, tp)
        if head is None:
            return super()._new_offset(tp)
        if tp not in self._seeking_back:
            log.warning(
                "%s[%d]: offset %d was never acknowledged; reading again from it",
                tp.topic,
                tp.partition,
                head,
            )
            self._seeking_back[tp] = asyncio.ensure_future(self._seek_back(tp, head))
        return None  # no commit for tp until its committed position is acknowledged

    async def _seek_back(self, tp: TP, offset: int) -> None:
        try:
            if tp in self._owned:
                await self.seek(tp, offset)
        finally:
            del self._seeking_back[tp]

    def resume_partitions(self, tps: Iterable[TP]) -> None:
        tpset = {tp for tp in tps}
        stream = {tp for tp in tpset if not faust_internals.is_changelog(self, tp)}
        if stream:
            self._held |= stream
            self._held_generation = self.app.consumer_generation_id
            self._seeked = False
        super().resume_partitions(tpset - stream)

    async def perform_seek(self) -> None:
        generation = self.app.consumer_generation_id
        await super().perform_seek()
        uncommitted = [
            tp
            for tp in self.assignment()
            if not faust_internals.committed_offset(self, tp)
            and not faust_internals.is_changelog(self, tp)
        ]
        if uncommitted:
            starts = await self.earliest_offsets(*uncommitted)
            for tp in uncommitted:
                self._log_advanced(tp, starts.get(tp, 0))
                await self.seek(tp, starts.get(tp, 0))
                # Where reading starts is what a commit must not pass unacknowledged.
                faust_internals.set_committed_offset(self, tp, starts.get(tp, 0))
        current = self.app.consumer_generation_id
        self._seeked = generation == current == self._held_generation

    def resume_flow(self) -> None:
        super().resume_flow()
        if self._seeked and self._held_generation == self.app.consumer_generation_id:
            held, self._held, self._seeked = self._held, set(), False
            super().resume_partitions(held & self.assignment())

    def _log_advanced(self, tp: TP, start: int) -> None:
        fetched_to = faust_internals.fetch_position(self, tp)
        if fetched_to is not None and fetched_to > start:
            log.info(
                "%s[%d]: no committed offset and fetched up to %d already; reading again from %d",
                tp.topic,
                tp.partition,
                fetched_to,
                start,
            )


class SeekingTransport(faust_aiokafka.Transport):
    Consumer = SeekingConsumer


def use_seeking_consumer(app: faust.App) -> None:
    """Give ``app`` the consumer above (before anything has created its transport)."""
    transport: Any = SeekingTransport(app.conf.broker_consumer, app)
    app.transport = transport
