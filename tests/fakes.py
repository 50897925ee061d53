"""In-memory stand-ins for the event log and the fresh-receipt view.

Each passes the same contract suite as the real adapter (tests/contracts/), so a test
of the upload path on them says what it would say on Kafka and Redis. Neither reads a
clock: the TTLs of the real view are outside the contract.
"""

import json
from typing import Any

from bundlestream.adapters.fresh_receipts import FreshWrite, ViewUnavailable
from bundlestream.api.upload_path import PublishFailed
from bundlestream.schemas.events import DataItemReceived


class MemoryEventLog:
    """The DataItemReceived topic in memory: ``publish`` appends (key, event) once
    acknowledged; while ``down`` it raises PublishFailed and appends nothing."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, DataItemReceived]] = []
        self.down = False

    async def publish(self, event: DataItemReceived) -> None:
        if self.down:
            raise PublishFailed("event log is down")
        self.messages.append((event.owner_address, event))

    @property
    def events(self) -> list[DataItemReceived]:
        return [event for _, event in self.messages]


class MemoryFreshReceipts:
    """The fresh-receipt view in memory; while ``down`` it answers like Redis that is
    unreachable (ViewUnavailable)."""

    def __init__(self) -> None:
        self.receipts: dict[str, str] = {}
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise ViewUnavailable("fresh receipt view is down")

    async def has_receipt(self, item_id: str) -> bool:
        self._check()
        return item_id in self.receipts

    async def remember(self, item_id: str, record: dict[str, Any]) -> None:
        self._check()
        self.receipts[item_id] = json.dumps(record)  # stored as Redis stores it: JSON

    def write_of(self, item_id: str, record: dict[str, Any]) -> FreshWrite:
        return FreshWrite(item_id, json.dumps(record), 0)  # no Redis of its own to write to

    def receipt_key(self, item_id: str) -> str:
        return item_id  # as write_of: no Redis of its own

    async def get(self, item_id: str) -> dict[str, Any] | None:
        self._check()
        raw = self.receipts.get(item_id)
        if raw is None:
            return None
        record: dict[str, Any] = json.loads(raw)
        return record
