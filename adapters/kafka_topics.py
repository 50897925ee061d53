"""Kafka topic administration on confluent-kafka's AdminClient."""

from concurrent.futures import Future

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from bundlestream.settings import Settings
from schemas.topics import CATALOGUE, topic_config

_ADMIN_TIMEOUT_S = 30.0


class TopicAdminError(Exception):
    """The broker did not create a topic (and it does not already exist)."""


def catalogue_topics(settings: Settings) -> list[NewTopic]:
    """Every catalogue topic as the broker should have it, under the settings' prefix."""
    config = topic_config(settings.topic_replication_factor, settings.kafka_max_message_bytes)
    return [
        NewTopic(
            topic.full_name(settings.topic_prefix),
            num_partitions=settings.topic_partitions,
            replication_factor=settings.topic_replication_factor,
            config=config,
        )
        for topic in CATALOGUE
    ]


def create_topics(settings: Settings) -> list[str]:
    """Create every catalogue topic that does not exist yet; return the names created.

    Idempotent: a topic that already exists is left as it is (its partition count is
    never changed: that would move keys to other partitions).
    """
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    futures = admin.create_topics(catalogue_topics(settings), request_timeout=_ADMIN_TIMEOUT_S)
    return [name for name, future in futures.items() if _created(name, future)]


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
