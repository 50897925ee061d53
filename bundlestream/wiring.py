"""The adapters' configuration, built from the settings: the one module that knows both.

Adapters take what they use (a ``KafkaConnection``, a ``TopicLayout``, an
``S3Location``, a directory), never ``Settings``. The processes' composition functions
(the API lifespan in ``api/resources.py``, the worker's ``streams.pipeline.stage_context``,
the projector's commands, the CLI) build them here. It is a layer of its own in the
contract of ``pyproject.toml``, below the edges that call it and above the settings and
the adapters it joins; the object store port therefore imports none of its backends:
``open_object_store`` is the factory that picks one.
"""

from bundlestream.adapters.filesystem import FilesystemObjectStore
from bundlestream.adapters.kafka_config import KafkaConnection
from bundlestream.adapters.kafka_topics import TopicLayout
from bundlestream.adapters.object_store import ObjectStore
from bundlestream.adapters.received_items import ReceivedItemReader
from bundlestream.adapters.s3 import S3Location, open_s3_store
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
        app_id=settings.streams_app_id,
    )


def s3_location(settings: Settings) -> S3Location:
    return S3Location(
        endpoint=settings.s3_endpoint,
        bucket=settings.s3_bucket,
        region=settings.s3_region,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        part_size=settings.s3_part_size,
    )


def open_object_store(settings: Settings) -> ObjectStore:
    """The backend ``settings.object_store`` names: ``fs`` (the default) or ``s3``."""
    if settings.object_store == "s3":
        return open_s3_store(s3_location(settings))
    return FilesystemObjectStore(settings.object_store_dir)


def received_item_reader(settings: Settings) -> ReceivedItemReader:
    """A reader of inline items; one per concurrent user (it is not for sharing)."""
    return ReceivedItemReader(
        kafka_connection(settings),
        settings.topic_prefix,
        f"{settings.streams_app_id}-inline-reader",
    )
