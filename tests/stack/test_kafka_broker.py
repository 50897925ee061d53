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


def cluster_settings(settings: Settings, tmp_path: Path) -> Settings:
    return Settings().updated(
        stack__dir=tmp_path,
        stack__kafka_brokers=3,
        kafka__bootstrap="127.0.0.1:31092",
        stack__kafka_controller_port=31093,
        stack__kafka_broker_port_step=100,
    )


def properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def test_each_node_of_a_cluster_has_its_own_ports_and_the_whole_quorum(
    settings: Settings, tmp_path: Path
) -> None:
    cluster = cluster_settings(settings, tmp_path)
    node = properties(server_properties(cluster, tmp_path / "data", node_id=2))
    assert node["node.id"] == "2"
    assert node["listeners"] == "PLAINTEXT://127.0.0.1:31192,CONTROLLER://127.0.0.1:31193"
    assert node["controller.quorum.voters"] == (
        "1@127.0.0.1:31093,2@127.0.0.1:31193,3@127.0.0.1:31293"
    )
    assert [KafkaBroker(cluster, i).ports()[0][1] for i in (1, 2, 3)] == [31092, 31192, 31292]
    assert [KafkaBroker(cluster, i).name for i in (1, 2, 3)] == ["kafka", "kafka-2", "kafka-3"]


def test_a_three_node_cluster_replicates_three_times_and_acks_on_two(
    settings: Settings, tmp_path: Path
) -> None:
    cluster = cluster_settings(settings, tmp_path)
    node = properties(server_properties(cluster, tmp_path / "data", node_id=1))
    assert node["offsets.topic.replication.factor"] == "3"
    assert node["default.replication.factor"] == "3"
    assert node["min.insync.replicas"] == "2"
    assert node["transaction.state.log.min.isr"] == "2"
    assert cluster.replication_factor() == 3
    three = Settings().updated(stack__kafka_brokers=3, kafka__topic_replication_factor=2)
    assert three.replication_factor() == 2


def test_a_single_node_keeps_replication_one(settings: Settings, tmp_path: Path) -> None:
    single = Settings().updated(
        stack__dir=tmp_path,
        stack__kafka_brokers=1,
        kafka__bootstrap="127.0.0.1:31092",
        stack__kafka_controller_port=31093,
    )
    node = properties(server_properties(single, tmp_path / "data"))
    assert node["controller.quorum.voters"] == "1@127.0.0.1:31093"
    assert node["offsets.topic.replication.factor"] == "1"
    assert node["min.insync.replicas"] == "1"
    assert single.replication_factor() == 1


def test_every_node_of_a_cluster_formats_with_one_cluster_id(
    settings: Settings, tmp_path: Path
) -> None:
    cluster = cluster_settings(settings, tmp_path)
    ids = {KafkaBroker(cluster, i).cluster_id() for i in (1, 2, 3)}
    assert len(ids) == 1
