"""Exact deduplication of received data items: the first sighting of an id wins.

The decision reads one fact, where the id was first seen (``partition``, ``offset`` of its
DataItemReceived), which the stream edge keeps in a changelogged table. There is no time
window: an id seen once is a duplicate forever.
"""

from dataclasses import dataclass
from datetime import datetime

from bundlestream.schemas.events import (
    DataItemAccepted,
    DataItemDuplicateRejected,
    DataItemReceived,
)


@dataclass(frozen=True)
class Sighting:
    """Where a DataItemReceived sits in the log."""

    partition: int
    offset: int


def judge(
    received: DataItemReceived,
    at: Sighting,
    first_seen: Sighting | None,
    object_key: str | None,
    now: datetime,
) -> DataItemAccepted | DataItemDuplicateRejected:
    """Accept the first sighting of an id, reject every later one.

    The same sighting delivered again (a replay after a crash) is accepted again with the
    same content, so whoever reads the verdicts can drop the repeat by its offset.
    ``object_key`` is where the item's bytes are (None: inside the received event).
    """
    if first_seen is None or first_seen == at:
        return DataItemAccepted(
            data_item_id=received.data_item_id,
            owner_address=received.owner_address,
            raw_size=received.raw_size,
            payload_start=received.payload_start,
            received_partition=at.partition,
            received_offset=at.offset,
            received_at=received.received_at,
            accepted_at=now,
            premium_feature_type=received.premium_feature_type,
            object_key=object_key,
        )
    return DataItemDuplicateRejected(
        data_item_id=received.data_item_id,
        owner_address=received.owner_address,
        received_partition=at.partition,
        received_offset=at.offset,
        winc=received.winc,
        rejected_at=now,
        paid_by=received.paid_by,
    )
