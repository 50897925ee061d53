"""The item event the upload path produces, and its Kafka message: topic, key, bytes.

DataItemReceived is keyed by its owner address: one owner's items stay in order on one
partition.
"""

from datetime import UTC, datetime

from bundlestream.adapters.kafka_producer import Outgoing
from bundlestream.core.ans104 import DataItem
from bundlestream.schemas.codec import encode
from bundlestream.schemas.events import DataItemReceived


def received_message(topic: str, event: DataItemReceived) -> Outgoing:
    return Outgoing(topic, event.owner_address, encode(event))


def received_event(
    item: DataItem,
    kept: bytes | str,
    timestamp_ms: int,
    deadline: int,
    winc: int,
    paid_by: tuple[str, ...],
) -> DataItemReceived:
    """The event of ``item``, ``kept`` whole in it (bytes) or under an object key."""
    header = item.header
    return DataItemReceived(
        data_item_id=item.id,
        owner_address=header.owner_address,
        signature_type=header.signature_type,
        raw_size=item.size,
        payload_start=header.payload_start,
        payload_size=item.payload_size,
        content_type=header.tag("Content-Type"),
        object_key=kept if isinstance(kept, str) else None,
        inline_item=kept if isinstance(kept, bytes) else None,
        received_at=datetime_from_ms(timestamp_ms),
        deadline_height=deadline,
        winc=str(winc),
        paid_by=paid_by,
    )


def datetime_from_ms(timestamp_ms: int) -> datetime:
    """Exact conversion (a float division could shift the millisecond)."""
    seconds, millis = divmod(timestamp_ms, 1000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=millis * 1000)
