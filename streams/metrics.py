"""The Prometheus metrics of one worker process, on a registry of its own.

What the pipeline does is read from Faust's sensor hooks rather than from each agent:
every event an agent handles (``stream.prefix`` is the agent's name, i.e. the stage) is
timed from the moment the stream yields it until the agent asks for the next one, and
every event a worker writes is counted by its name once the broker acknowledged it (the
name is read from the Avro header, ``schemas.codec.event_name``). Gateway and object
store failures are counted by the adapters' observers; lag and the oldest waiting
message come from the broker at scrape time (``adapters.prometheus``).
"""

import time
from collections.abc import Iterable
from typing import Any

from faust.sensors import Sensor
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, process_collector

from bundlestream.adapters.prometheus import BacklogCollector, DiskCollector
from bundlestream.schemas.codec import DecodeError, event_name
from bundlestream.schemas.topics import CATALOGUE, LEDGER_EVENTS, STAGE_INPUTS
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection

# Stage durations: from a fast dedup decision to posting a bundle's chunks.
# The object store port's operations (``adapters.observed_store``).
STORE_OPERATIONS = (
    "writer",
    "write",
    "commit",
    "abort",
    "put",
    "read",
    "size",
    "delete",
    "keys",
    "reclaim_abandoned",
)
STAGE_BUCKETS = (0.001, 0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class PipelineMetrics:
    """Counters the sensor and the adapters' observers update."""

    def __init__(self, settings: Settings) -> None:
        self.registry = CollectorRegistry()
        process_collector.ProcessCollector(registry=self.registry)
        self.events = Counter(
            "bundlestream_events_written",
            "Events written by the workers, by event (each a state transition)",
            ["event"],
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "bundlestream_stage_seconds",
            "Time a stage's agent spent on one event",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=self.registry,
        )
        self.gateway_errors = Counter(
            "bundlestream_gateway_errors",
            "Gateway requests that failed, by method, route and status (none: no answer)",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.object_store_errors = Counter(
            "bundlestream_object_store_errors",
            "Object store operations that failed",
            ["operation"],
            registry=self.registry,
        )
        for operation in STORE_OPERATIONS:  # every series from the start, at 0
            self.object_store_errors.labels(operation)
        self.wallet_balance = Gauge(
            "bundlestream_wallet_balance_winston",
            "Balance of the wallet that pays for bundles, as the gateway last reported it",
            ["address"],
            registry=self.registry,
        )
        self._register_collectors(settings)

    def _register_collectors(self, settings: Settings) -> None:
        prefix = settings.kafka.topic_prefix
        stages = {stage: [topic.full_name(prefix)] for stage, topic in STAGE_INPUTS.items()}
        self.registry.register(
            BacklogCollector(kafka_connection(settings), settings.streams.app_id, stages, time.time)
        )
        if settings.object_store.backend == "fs":
            self.registry.register(DiskCollector(settings.object_store.dir))

    def start_series(self, stages: Iterable[str]) -> None:
        """Every stage's duration and every event's count at 0 from the start: a rate
        over them is 0, not absent, and the first scrape shows every label."""
        for stage in stages:
            self.stage_seconds.labels(stage)
        for topic in CATALOGUE:
            if topic is not LEDGER_EVENTS:
                for event in topic.events:
                    self.events.labels(event)

    def gateway_failed(self, method: str, route: str, status: int | None) -> None:
        self.gateway_errors.labels(method, route, "none" if status is None else str(status)).inc()

    def store_failed(self, operation: str) -> None:
        self.object_store_errors.labels(operation).inc()


class MetricsSensor(Sensor):
    """Faust's hooks into ``PipelineMetrics``: stage durations and events written."""

    def __init__(self, metrics: PipelineMetrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics = metrics

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> dict[str, Any]:
        return {"started": time.perf_counter()}

    def on_stream_event_out(
        self, tp: Any, offset: int, stream: Any, event: Any, state: dict[str, Any] | None = None
    ) -> None:
        if state is not None and stream.prefix:
            elapsed = time.perf_counter() - state["started"]
            self.metrics.stage_seconds.labels(stream.prefix).observe(elapsed)

    def on_send_initiated(
        self, producer: Any, topic: str, message: Any, keysize: int, valsize: int
    ) -> str | None:
        try:
            return event_name(message.value)
        except (DecodeError, TypeError):
            return None  # a table's changelog value, not an event

    def on_send_completed(self, producer: Any, state: Any, metadata: Any) -> None:
        if isinstance(state, str):
            self.metrics.events.labels(state).inc()
