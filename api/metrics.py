"""Prometheus metrics of one API process, on a registry of its own (no global state)."""

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)
from starlette.requests import Request
from starlette.responses import Response

from bundlestream.api.capacity import Capacity

# Every label value known in advance gets its series at start, at 0: a rate over it is
# 0, not absent, and a scrape shows every label the dashboard and alerts use.
OUTCOMES = ("Accepted", "Duplicate", "Rejected", "Unavailable")
SHED_REASONS = ("requests", "event loop", "memory", "disk", "rate")


class ApiMetrics:
    """Counters the upload path and the load shedder update."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        process_collector.ProcessCollector(registry=self.registry)
        platform_collector.PlatformCollector(registry=self.registry)
        gc_collector.GCCollector(registry=self.registry)
        self.uploads = Counter(
            "bundlestream_uploads",
            "Data item uploads by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.upload_seconds = Histogram(
            "bundlestream_upload_seconds",
            "Upload request duration",
            ["outcome"],
            registry=self.registry,
        )
        self.shed = Counter(
            "bundlestream_shed_requests",
            "Requests refused by load shedding",
            ["reason"],
            registry=self.registry,
        )
        for outcome in OUTCOMES:
            self.uploads.labels(outcome)
            self.upload_seconds.labels(outcome)
        for reason in SHED_REASONS:
            self.shed.labels(reason)
        self.inflight_requests = Gauge(
            "bundlestream_inflight_requests", "Requests in flight", registry=self.registry
        )
        self.buffered_bytes = Gauge(
            "bundlestream_buffered_bytes",
            "Request body bytes held in memory",
            registry=self.registry,
        )
        self.loop_lag = Gauge(
            "bundlestream_event_loop_lag_seconds",
            "Lag of the event loop at its last measurement",
            registry=self.registry,
        )
        self.free_disk = Gauge(
            "bundlestream_object_store_free_bytes",
            "Free bytes under the object store (-1: not a local disk)",
            registry=self.registry,
        )
        self.reclaimed = Counter(
            "bundlestream_reclaimed_objects",
            "Objects left by unfinished uploads and deleted by the sweeper",
            ["kind"],
            registry=self.registry,
        )

    def watch(self, capacity: Capacity) -> None:
        """Read the admission state of ``capacity`` at each scrape."""
        self.inflight_requests.set_function(lambda: capacity.requests)
        self.buffered_bytes.set_function(lambda: capacity.memory.held)
        self.loop_lag.set_function(lambda: capacity.loop_lag_s)
        self.free_disk.set_function(
            lambda: -1 if capacity.free_disk is None else capacity.free_disk
        )

    def count(self, outcome: object, seconds: float) -> None:
        """Count one upload by the name of its outcome (Accepted, Duplicate, ...)."""
        name = type(outcome).__name__
        self.uploads.labels(name).inc()
        self.upload_seconds.labels(name).observe(seconds)

    async def endpoint(self, request: Request) -> Response:
        """GET /metrics in the Prometheus text format."""
        return Response(
            generate_latest(self.registry), media_type="text/plain; version=0.0.4; charset=utf-8"
        )
