"""Kafka topic administration on confluent-kafka's AdminClient."""

import time
from concurrent.futures import Future
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]
from confluent_kafka.cimpl import NewTopic

from bundlestream.adapters.kafka_config import KafkaConnection
from bundlestream.schemas.topics import CATALOGUE, TABLES, changelog_config, topic_config

_ADMIN_TIMEOUT_S = 30.0
_LEADER_POLL_S = 0.1
# confluent-kafka re-exports OffsetSpec only implicitly, and leaves it unannotated.
_LATEST = OffsetSpec.latest()  # type: ignore[no-untyped-call]


class TopicAdminError(Exception):
    """The broker did not create a topic (and it does not already exist)."""


@dataclass(frozen=True)
class TopicLayout:
    """How a deployment's catalogue topics are named and laid out on the brokers."""

    prefix: str
    partitions: int
    replication_factor: int
    # The stream workers' app id, when their tables' changelogs are to be created too.
    app_id: str | None = None


def catalogue_topics(layout: TopicLayout, max_message_bytes: int) -> list[NewTopic]:
    """Every catalogue topic as the broker should have it, under the layout's prefix."""
    config = topic_config(layout.replication_factor, max_message_bytes)
    return [
        NewTopic(
            topic.full_name(layout.prefix),
            num_partitions=layout.partitions,
            replication_factor=layout.replication_factor,
            config=config,
        )
        for topic in CATALOGUE
    ] + changelog_topics(layout)


def changelog_topics(layout: TopicLayout) -> list[NewTopic]:
    """The changelog of every stage table, partitioned like the event topics (Faust's
    table and source partitions must match), when the layout names the workers' app."""
    if layout.app_id is None:
        return []
    config = changelog_config(layout.replication_factor)
    return [
        NewTopic(
            table.changelog_name(layout.app_id),
            num_partitions=layout.partitions,
            replication_factor=layout.replication_factor,
            config=config,
        )
        for table in TABLES
    ]


def create_topics(kafka: KafkaConnection, layout: TopicLayout) -> list[str]:
    """Create every catalogue topic (and, with ``layout.app_id``, every table changelog)
    that does not exist yet; return the names created.

    Returns once every partition of every catalogue topic is served by its leader, so
    the topics can be used at once. Idempotent: a topic that already exists is left as
    it is (its partition count is never changed: that would move keys to other
    partitions).
    """
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap})
    wanted = catalogue_topics(layout, kafka.max_message_bytes)
    futures = admin.create_topics(wanted, request_timeout=_ADMIN_TIMEOUT_S)
    created = [name for name, future in futures.items() if _created(name, future)]
    wait_until_led(admin, list(futures), time.monotonic() + _ADMIN_TIMEOUT_S)
    return created


def _created(name: str, future: "Future[None]") -> bool:
    try:
        future.result(timeout=_ADMIN_TIMEOUT_S)
    except KafkaException as exc:
        error: KafkaError = exc.args[0]
        if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
            return False
        raise TopicAdminError(f"{name}: {error.str()}") from exc
    except TimeoutError as exc:
        raise TopicAdminError(f"{name}: broker did not answer") from exc
    return True


def wait_until_led(admin: AdminClient, topics: list[str], deadline: float) -> None:
    """Return once every partition of ``topics`` answers a ListOffsets from its leader.

    CreateTopics succeeds when the controller has committed the topic; each broker
    learns of it from the metadata log afterwards. Until then a client is told the
    topic is unknown, and then, in the moment between the broker's metadata naming
    itself leader and its replica manager taking the partition on, that the broker is
    "not leader for partition". Asking the leader itself for an offset is the proof.
    """
    waiting = _partitions(admin, topics, deadline)
    while waiting:
        waiting = _not_led(admin, waiting)
        if not waiting:
            return
        if time.monotonic() > deadline:
            raise TopicAdminError(f"no leader yet for {_names(waiting)}")
        time.sleep(_LEADER_POLL_S)


def _partitions(admin: AdminClient, topics: list[str], deadline: float) -> list[TopicPartition]:
    """Every partition of ``topics``, once the broker's metadata has them all."""
    while True:
        metadata = admin.list_topics(timeout=_ADMIN_TIMEOUT_S).topics
        missing = [t for t in topics if t not in metadata or not metadata[t].partitions]
        if not missing:
            return [TopicPartition(t, p) for t in topics for p in metadata[t].partitions]
        if time.monotonic() > deadline:
            raise TopicAdminError(f"topics not in the broker's metadata yet: {missing}")
        time.sleep(_LEADER_POLL_S)


def _not_led(admin: AdminClient, partitions: list[TopicPartition]) -> list[TopicPartition]:
    """The partitions whose leader did not answer a ListOffsets (retriable errors only)."""
    futures = admin.list_offsets(
        {tp: _LATEST for tp in partitions}, request_timeout=_ADMIN_TIMEOUT_S
    )
    return [tp for tp, future in futures.items() if not _answered(tp, future)]


def _answered(tp: TopicPartition, future: "Future[object]") -> bool:
    try:
        future.result(timeout=_ADMIN_TIMEOUT_S)
    except KafkaException as exc:
        error: KafkaError = exc.args[0]
        if error.code() in _NOT_LED_YET or error.retriable():
            return False
        raise TopicAdminError(f"{tp.topic}[{tp.partition}]: {error.str()}") from exc
    return True


_NOT_LED_YET = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        # The leader's metadata is a step ahead of its replica manager for a moment.
        KafkaError.UNKNOWN_LEADER_EPOCH,
        KafkaError.FENCED_LEADER_EPOCH,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._UNKNOWN_PARTITION,
        KafkaError._UNKNOWN_TOPIC,
    }
)


def _names(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions)
