"""The local Kafka is a real broker: a record round-trips and retention is forever."""

from __future__ import annotations

from pathlib import Path

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # re-exported, not in __all__
    AdminClient,
    ConfigResource,
    NewTopic,
)

from bundlestream.settings import Settings
from bundlestream.stack.kafka import KafkaBroker, server_properties


def create_topic(bootstrap: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    futures[topic].result(timeout=30)


def test_broker_keeps_records_forever(kafka_bootstrap: str) -> None:
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    broker = ConfigResource(ConfigResource.Type.BROKER, "1")
    config = admin.describe_configs([broker])[broker].result(timeout=30)
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
        message = None
        for _ in range(60):
            message = consumer.poll(1.0)
            if message is not None:
                break
        assert message is not None, "no record within 60 polls"
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
