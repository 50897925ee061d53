"""The local Kafka is a real broker: a record round-trips and retention is forever."""

from __future__ import annotations

import base64
from pathlib import Path

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # re-exported, not in __all__
    AdminClient,
    ConfigResource,
    NewTopic,
)
from hypothesis import given
from hypothesis import strategies as st

from bundlestream.settings import Settings
from bundlestream.stack.kafka import KafkaBroker, cluster_id_from, server_properties
from tests.bounds import BROKER_REQUEST_S, CONDITION_S


def create_topic(bootstrap: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    futures[topic].result(timeout=BROKER_REQUEST_S)


def test_broker_keeps_records_forever(kafka_bootstrap: str) -> None:
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    broker = ConfigResource(ConfigResource.Type.BROKER, "1")
    config = admin.describe_configs([broker])[broker].result(timeout=BROKER_REQUEST_S)
    assert config["log.retention.ms"].value == "-1"


def test_a_record_round_trips(kafka_bootstrap: str, unique_name: str) -> None:
    create_topic(kafka_bootstrap, unique_name)
    producer = Producer(
        {"bootstrap.servers": kafka_bootstrap, "acks": "all", "enable.idempotence": True}
    )
    producer.produce(unique_name, key=b"owner", value=b"event")
    assert producer.flush(30) == 0
    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": unique_name,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.subscribe([unique_name])
        message = consumer.poll(CONDITION_S)
        assert message is not None, f"no record within {CONDITION_S} s"
        if message.error():
            raise KafkaException(message.error())
        assert (message.key(), message.value()) == (b"owner", b"event")
    finally:
        consumer.close()


def test_storage_formats_for_a_cluster_id_that_starts_with_a_dash(
    settings: Settings, tmp_path: Path
) -> None:
    # base64url ids start with "-" one time in 64: the tool must not read it as an option.
    broker = KafkaBroker(settings.updated(stack__dir=tmp_path))
    config = tmp_path / "server.properties"
    config.write_text(server_properties(broker.settings, tmp_path / "data"))
    broker.format_storage(config, "-kYg-Nv2QKu_KFcpo7fEzw")
    meta = (tmp_path / "data" / "meta.properties").read_text()
    assert "cluster.id=-kYg-Nv2QKu_KFcpo7fEzw" in meta


@given(st.binary(min_size=16, max_size=16))
def test_no_cluster_id_starts_with_a_dash(raw: bytes) -> None:
    # Every first byte, including the 1 in 64 whose plain base64url starts with "-".
    cluster_id = cluster_id_from(raw)
    assert len(cluster_id) == 22 and not cluster_id.startswith("-")
    assert cluster_id_from(cluster_id_from_text(cluster_id)) == cluster_id


def cluster_id_from_text(cluster_id: str) -> bytes:
    return base64.urlsafe_b64decode(cluster_id + "==")


def test_cluster_ids_of_first_bytes_that_would_start_with_a_dash() -> None:
    for first in range(0xF8, 0xFC):  # top six bits 111110: base64url "-"
        raw = bytes([first]) + bytes(15)
        assert base64.urlsafe_b64encode(raw).startswith(b"-")
        assert not cluster_id_from(raw).startswith("-")
