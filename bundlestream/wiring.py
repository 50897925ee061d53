"""The adapters' configuration, built from the settings: the one module that knows both.

Adapters take what they use (a ``KafkaConnection``, a ``TopicLayout``,
a topic prefix), never ``Settings``. The processes' composition functions
(the API lifespan in ``api/resources.py``, the worker's ``streams.pipeline.stage_context``,
the projector's commands, the CLI) build them here. It is a layer of its own in the
contract of ``pyproject.toml``, below the edges that call it and above the settings and
the adapters it joins.
"""

from bundlestream.adapters.kafka_config import KafkaConnection
from bundlestream.adapters.kafka_topics import TopicLayout
from bundlestream.adapters.received_items import ReceivedItemReader
from bundlestream.settings import Settings


def kafka_connection(settings: Settings) -> KafkaConnection:
    """How every Kafka client of this deployment reaches the cluster."""
    return KafkaConnection(
        bootstrap=settings.kafka_bootstrap,
        max_message_bytes=settings.kafka_max_message_bytes,
        delivery_timeout_s=settings.kafka_delivery_timeout_s,
    )


def topic_layout(settings: Settings) -> TopicLayout:
    """The names and layout of this deployment's catalogue topics."""
    return TopicLayout(
        prefix=settings.topic_prefix,
        partitions=settings.topic_partitions,
        replication_factor=settings.topic_replication_factor,
    )


def received_item_reader(settings: Settings) -> ReceivedItemReader:
    """A reader of inline items; one per concurrent user (it is not for sharing)."""
    return ReceivedItemReader(
        kafka_connection(settings),
        settings.topic_prefix,
        f"{settings.streams_app_id}-inline-reader",
    )
