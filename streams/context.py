"""What every stage's agents share: settings, topics, the object store, the gateway, the
top-up chains, the key.

Built once per worker process (``streams.pipeline.create_pipeline``) and passed down; no
stage opens its own clients.
"""

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import faust

from bundlestream.adapters.arweave_gateway import ArweaveGateway
from bundlestream.adapters.chain import TopUpChain
from bundlestream.adapters.object_store import ObjectStore
from bundlestream.adapters.received_items import ReceivedItemReader
from bundlestream.core.jwk import ArweaveKey
from bundlestream.schemas import topics as catalogue
from bundlestream.settings import Settings
from bundlestream.streams.app import event_topic
from bundlestream.streams.crash import crash_worker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topics:
    received: faust.TopicT
    deduplicated: faust.TopicT
    repacked: faust.TopicT
    planned: faust.TopicT
    prepared: faust.TopicT
    offsets: faust.TopicT
    posted: faust.TopicT
    seeded: faust.TopicT
    settled: faust.TopicT
    cleaned: faust.TopicT
    ledger: faust.TopicT


def catalogue_topics(app: faust.App, settings: Settings) -> Topics:
    """The Faust channels of the catalogue topics under the settings' prefix."""

    def topic(entry: catalogue.Topic) -> faust.TopicT:
        return event_topic(app, settings, entry)

    return Topics(
        received=topic(catalogue.DATA_ITEMS_RECEIVED),
        deduplicated=topic(catalogue.DATA_ITEMS_DEDUPLICATED),
        repacked=topic(catalogue.DATA_ITEMS_REPACKED),
        planned=topic(catalogue.BUNDLES_PLANNED),
        prepared=topic(catalogue.BUNDLES_PREPARED),
        offsets=topic(catalogue.BUNDLES_OFFSETS),
        posted=topic(catalogue.BUNDLES_POSTED),
        seeded=topic(catalogue.BUNDLES_SEEDED),
        settled=topic(catalogue.BUNDLES_SETTLED),
        cleaned=topic(catalogue.BUNDLES_CLEANED),
        ledger=topic(catalogue.LEDGER_EVENTS),
    )


@dataclass(frozen=True)
class StageContext:
    settings: Settings
    topics: Topics
    store: ObjectStore
    gateway: ArweaveGateway
    key: ArweaveKey
    received: ReceivedItemReader
    chains: Mapping[str, TopUpChain]  # each top-up token's chain (the gateway for arweave)

    @property
    def namespace(self) -> str:
        """Distinguishes this deployment's plan ids from another's on a shared store."""
        return f"{self.settings.streams.app_id}/{self.settings.kafka.topic_prefix}"

    def table(self, app: faust.App, entry: catalogue.Table) -> faust.types.TableT[str, object]:
        """A changelogged JSON table co-partitioned with the event topics; its changelog is
        created with the catalogue topics (``bundlestream topics create``)."""
        return app.Table(
            entry.name,
            default=None,
            partitions=self.settings.kafka.topic_partitions,
        )  # keys and values that are not Faust models travel as JSON


@contextlib.contextmanager
def unskipped(stage: str) -> Iterator[None]:
    """Around the handling of one message: any error ends the worker (``crash_worker``)
    instead of escaping the agent, where Faust would acknowledge the message and so lose
    it (a table's first write raising PartitionsMismatch did: the bundle never settled)."""
    try:
        yield
    except Exception as exc:
        crash_worker(stage, exc)
