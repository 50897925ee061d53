"""The Kafka message of an item event the upload path produces: topic, key and bytes.

DataItemReceived is keyed by its owner address: one owner's items stay in order on one
partition.
"""

from bundlestream.adapters.kafka_producer import Outgoing
from bundlestream.schemas.codec import encode
from bundlestream.schemas.events import DataItemReceived


def received_message(topic: str, event: DataItemReceived) -> Outgoing:
    return Outgoing(topic, event.owner_address, encode(event))
