"""librdkafka configuration of every bundlestream consumer, from one function.

The adapters take a ``KafkaConnection`` (what every client needs to reach the cluster
and what it accepts) rather than the settings; ``consumer_config`` writes a consumer's
configuration, ``kafka_producer.producer_config`` a producer's. What differs between
consumers is a parameter, so a difference is a decision that can be read at the call.

Every consumer commits by hand or never (``enable.auto.commit`` is off), and fetches
messages up to the broker's ``max.message.bytes`` (bundle events exceed librdkafka's
1 MB default).
"""

from dataclasses import dataclass
from typing import Literal

KafkaConfig = dict[str, str | int | float | bool]

# A capped prefetch queue (``queued.max.messages.kbytes``; librdkafka's default is
# 65536 KiB per consumer, CONFIGURATION.md): for readers that must stay small.
BOUNDED_PREFETCH_KBYTES = 8192


@dataclass(frozen=True)
class KafkaConnection:
    """How a client reaches the cluster and what the cluster accepts."""

    bootstrap: str
    max_message_bytes: int
    # A send not acknowledged by all in-sync replicas within this fails.
    delivery_timeout_s: float


@dataclass(frozen=True)
class Membership:
    """Liveness of a subscribed group member whose work between two polls is long.

    Past ``max_poll_interval_s`` between polls the member is evicted; a member whose
    session lapses (no heartbeat for ``session_timeout_s``) hands its partitions over.
    """

    max_poll_interval_s: float
    session_timeout_s: float = 10.0
    heartbeat_s: float = 1.0


def consumer_config(
    kafka: KafkaConnection,
    group_id: str,
    *,
    offset_reset: Literal["earliest", "latest"] = "earliest",
    prefetch_kbytes: int | None = None,
    fetch_wait_ms: int | None = None,
    fetch_min_bytes: int | None = None,
    membership: Membership | None = None,
) -> KafkaConfig:
    """A consumer in ``group_id`` (required by librdkafka even for assign-only readers).

    ``offset_reset``: where a partition without a committed offset, or with an offset out
    of range, starts. ``prefetch_kbytes`` caps librdkafka's per-partition prefetch queue
    (memory stays bounded whatever the lag); ``fetch_wait_ms`` bounds how long the broker
    holds a fetch for more data (a random-access reader wants its one message now);
    ``fetch_min_bytes`` how much new data ends that hold early (librdkafka's 1 byte
    answers a fetch per produced batch: a tailing reader of a busy topic wants fewer);
    ``membership``: the liveness of a subscribed member (librdkafka's defaults otherwise).
    """
    config: KafkaConfig = {
        "bootstrap.servers": kafka.bootstrap,
        "group.id": group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": offset_reset,
        "fetch.message.max.bytes": kafka.max_message_bytes,
    }
    if prefetch_kbytes is not None:
        config["queued.max.messages.kbytes"] = prefetch_kbytes
    if fetch_wait_ms is not None:
        config["fetch.wait.max.ms"] = fetch_wait_ms
    if fetch_min_bytes is not None:
        config["fetch.min.bytes"] = fetch_min_bytes
    if membership is not None:
        config["session.timeout.ms"] = int(membership.session_timeout_s * 1000)
        config["heartbeat.interval.ms"] = int(membership.heartbeat_s * 1000)
        config["max.poll.interval.ms"] = int(membership.max_poll_interval_s * 1000)
    return config
