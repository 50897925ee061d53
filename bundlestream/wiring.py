"""The adapters' configuration, built from the settings: the one module that knows both.

Adapters take what they use (a ``KafkaConnection``, a ``TopicLayout``, an
``S3Location``, a directory), never ``Settings``. The processes' composition functions
(the API lifespan in ``api/resources.py``, the worker's ``streams.pipeline.stage_context``,
the projector's commands, the CLI) build them here. It is a layer of its own in the
contract of ``pyproject.toml``, below the edges that call it and above the settings and
the adapters it joins; the object store port therefore imports none of its backends:
``open_object_store`` is the factory that picks one.
"""

from bundlestream.adapters.chain import Chain, TopUpChain
from bundlestream.adapters.evm_chain import EvmChain
from bundlestream.adapters.filesystem import FilesystemObjectStore
from bundlestream.adapters.kafka_config import KafkaConnection
from bundlestream.adapters.kafka_topics import TopicLayout
from bundlestream.adapters.object_store import ObjectStore
from bundlestream.adapters.received_items import ReceivedItemReader
from bundlestream.adapters.s3 import S3Location, open_s3_store
from bundlestream.core.ans104.addresses import normalised_address
from bundlestream.settings import Settings


def kafka_connection(settings: Settings) -> KafkaConnection:
    """How every Kafka client of this deployment reaches the cluster."""
    return KafkaConnection(
        bootstrap=settings.kafka.bootstrap,
        max_message_bytes=settings.kafka.max_message_bytes,
        delivery_timeout_s=settings.kafka.delivery_timeout_s,
    )


def topic_layout(settings: Settings) -> TopicLayout:
    """The names and layout of this deployment's catalogue topics."""
    return TopicLayout(
        prefix=settings.kafka.topic_prefix,
        partitions=settings.kafka.topic_partitions,
        replication_factor=settings.replication_factor(),
        app_id=settings.streams.app_id,
    )


def s3_location(settings: Settings) -> S3Location:
    return S3Location(
        endpoint=settings.object_store.s3_endpoint,
        bucket=settings.object_store.s3_bucket,
        region=settings.object_store.s3_region,
        access_key=settings.object_store.s3_access_key,
        secret_key=settings.object_store.s3_secret_key.get_secret_value(),
        part_size=settings.object_store.s3_part_size,
    )


def open_object_store(settings: Settings) -> ObjectStore:
    """The backend ``settings.object_store.backend`` names: ``fs`` (the default) or ``s3``."""
    if settings.object_store.backend == "s3":
        return open_s3_store(s3_location(settings))
    return FilesystemObjectStore(settings.object_store.dir)


def received_item_reader(settings: Settings) -> ReceivedItemReader:
    """A reader of inline items; one per concurrent user (it is not for sharing)."""
    return ReceivedItemReader(
        kafka_connection(settings),
        settings.kafka.topic_prefix,
        f"{settings.streams.app_id}-inline-reader",
    )


def payment_addresses(settings: Settings, arweave_address: str) -> dict[str, str]:
    """Our wallet per token, which ``/v1/info`` lists and a top-up must pay: the receipt
    key's address for arweave, each EVM chain's address, then ``PAYMENT_ADDRESSES``
    (whose entries win); EVM addresses in EIP-55 form."""
    given = {"arweave": arweave_address, **settings.evm.addresses(), **settings.payments.addresses}
    return {token: normalised_address(address) for token, address in given.items()}


def top_up_chains(settings: Settings, arweave: Chain) -> dict[str, TopUpChain]:
    """The chain of each top-up token: arweave on the gateway (credited after the
    bundles' ``REQUIRED_CONFIRMATIONS``), each EVM token on its JSON-RPC node."""
    chains = {"arweave": TopUpChain(arweave, settings.streams.required_confirmations)}
    for evm in settings.evm.chains(settings.x402.evm_rpc_url):
        node = EvmChain(evm.token, evm.rpc_url, settings.evm.evm_rpc_timeout_s)
        chains[evm.token] = TopUpChain(node, evm.confirmations)
    return chains
