"""Top-ups: follow pending crypto top-ups until their transfer is confirmed, then credit.

The agent reads the ledger topic and records each TopUpSubmitted in the table
``top-ups-pending`` (transaction id → the submission, in the sender's partition; the
first submission of a transaction is kept, so its winc is the one quoted first), and
removes it on the TopUpConfirmed or TopUpFailed of that transaction, which are keyed by
the same sender and so arrive in the same partition. A timer on every worker looks up
the pending transfers of the partitions it actively owns on their token's chain (the
gateway, or the token's EVM node: ``adapters/chain.py``) and writes
TopUpConfirmed + BalanceCredited (``core.top_ups.decide_follow``) or TopUpFailed. The
table is rebuilt from its changelog after a restart; a crash between the credit and the
removal only repeats the credit, which every reader applies once (its credit id).
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import faust
from faust.types import TP

from bundlestream.adapters.chain import ChainUnavailable
from bundlestream.core.top_ups import decide_follow
from bundlestream.schemas import ledger_events as ev
from bundlestream.schemas import topics as catalogue
from bundlestream.streams.app import every
from bundlestream.streams.context import StageContext, unskipped

log = logging.getLogger(__name__)

_CONCURRENT_CHECKS = 8


def pending_entry(event: ev.TopUpSubmitted, partition: int) -> dict[str, Any]:
    """The table's JSON value of a submission."""
    return {
        "address": event.address,
        "token": event.token,
        "quantity": event.quantity,
        "winc": event.winc,
        "submitted_at": event.submitted_at.isoformat(),
        "partition": partition,
    }


def submission_of(transaction_id: str, entry: dict[str, Any]) -> ev.TopUpSubmitted:
    return ev.TopUpSubmitted(
        address=entry["address"],
        token=entry["token"],
        transaction_id=transaction_id,
        quantity=entry["quantity"],
        winc=entry["winc"],
        submitted_at=datetime.fromisoformat(entry["submitted_at"]),
    )


class Follower:
    """Looks at the pending top-ups of this worker's active partitions."""

    def __init__(self, app: faust.App, ctx: StageContext, table: Any, ledger: faust.TopicT):
        self.app, self.ctx, self.table, self.ledger = app, ctx, table, ledger
        self.topic = ledger.get_topic_name()
        payments = ctx.settings.payments
        self.not_found_after = timedelta(seconds=payments.top_up_not_found_after_s)

    def owned(self, partition: int) -> bool:
        return TP(self.topic, partition) in self.app.assignor.assigned_actives()

    async def check(self, transaction_id: str, entry: dict[str, Any]) -> None:
        pending = submission_of(transaction_id, entry)
        chain = self.ctx.chains.get(pending.token)
        if chain is None:
            return  # a token this deployment no longer follows stays pending
        transfer = await chain.chain.transfer(transaction_id)
        now = datetime.now(UTC)
        follow = decide_follow(pending, transfer, chain.confirmations, self.not_found_after, now)
        for event in follow:
            await self.ledger.send(key=event.address, value=event)

    async def poll(self) -> None:
        mine = [(k, v) for k, v in list(self.table.items()) if v and self.owned(v["partition"])]
        gate = asyncio.Semaphore(_CONCURRENT_CHECKS)

        async def check(transaction_id: str, entry: dict[str, Any]) -> None:
            async with gate:
                try:
                    await self.check(transaction_id, entry)
                except ChainUnavailable as exc:
                    log.warning("top-up %s: chain: %s", transaction_id, exc)

        await asyncio.gather(*(check(k, v) for k, v in mine))


def register(app: faust.App, ctx: StageContext) -> None:
    """The agent that keeps the table of pending top-ups, and the poller."""
    pending = ctx.table(app, catalogue.TOP_UPS_PENDING)
    ledger = ctx.topics.ledger
    follower = Follower(app, ctx, pending, ledger)

    @app.agent(ledger, name="top-ups")
    async def top_ups_agent(stream: faust.StreamT[object]) -> None:
        async for event in stream.events():
            value = event.value
            with unskipped("top-ups"):
                if isinstance(value, ev.TopUpSubmitted):
                    if pending.get(value.transaction_id) is None:
                        entry = pending_entry(value, event.message.partition)
                        pending[value.transaction_id] = entry
                elif isinstance(value, ev.TopUpConfirmed | ev.TopUpFailed):
                    pending.pop(value.transaction_id, None)

    @every(app, ctx.settings.payments.top_up_poll_s)
    async def top_ups_poll() -> None:
        await follower.poll()
