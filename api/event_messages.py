"""The Kafka message of each event the upload path produces: its topic, key and bytes.

DataItemReceived is keyed by its owner address (one owner's items stay in order on one
partition); a ledger event by the address whose balance it changes.
"""

from bundlestream.adapters.kafka_producer import Outgoing
from bundlestream.schemas import ledger_events as ev
from bundlestream.schemas.codec import encode
from bundlestream.schemas.events import DataItemReceived


def received_message(topic: str, event: DataItemReceived) -> Outgoing:
    return Outgoing(topic, event.owner_address, encode(event))


def charge_message(topic: str, charge: ev.UploadCharged) -> Outgoing:
    return Outgoing(topic, charge.address, encode(charge))
