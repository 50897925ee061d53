"""The Prometheus metrics of the projector process, on a registry of its own: events
projected by name, batch durations, the projector group's lag and oldest waiting
message, and gauges read from the projections it writes (``adapters.projection_gauges``).
"""

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, process_collector

from bundlestream.adapters.projection_gauges import ProjectionCollector
from bundlestream.adapters.prometheus import BacklogCollector
from bundlestream.projections.projector import BatchReport, projected_topics
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection

PROJECTOR_STAGE = "projector"


class ProjectorMetrics:
    def __init__(self, settings: Settings) -> None:
        self.registry = CollectorRegistry()
        process_collector.ProcessCollector(registry=self.registry)
        self.events = Counter(
            "bundlestream_events_projected",
            "Events written into the projections, by event",
            ["event"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "bundlestream_dead_letters",
            "Messages the projector could not decode and sent to the dead letters",
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "bundlestream_projector_batch_seconds",
            "Time to decode, project and commit one batch",
            registry=self.registry,
        )
        postgres = settings.postgres
        self.registry.register(
            BacklogCollector(
                kafka_connection(settings),
                postgres.projector_group_id,
                {PROJECTOR_STAGE: projected_topics(settings)},
                time.time,
            )
        )
        self.registry.register(
            ProjectionCollector(
                postgres.dsn.get_secret_value(), postgres.projections_schema, time.time
            )
        )

    def record(self, report: BatchReport) -> None:
        """Count one committed batch."""
        for name, n in report.by_event.items():
            self.events.labels(name).inc(n)
        self.dead_letters.inc(report.dead_letters)
        self.batch_seconds.observe(report.elapsed_s)
