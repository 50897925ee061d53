"""Prometheus exposition for the processes that are not HTTP servers (workers, the
projector), and the collectors whose values are read when Prometheus scrapes.

A collector here asks the broker, the disk or Postgres at scrape time, in the
exposition server's own thread, never in the process's event loop; one whose source
does not answer exports what says so (``bundlestream_broker_reachable 0``) rather than
failing the whole scrape.
"""

import logging
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from confluent_kafka import KafkaException
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bundlestream.adapters.consumer_lag import Backlog, group_backlog
from bundlestream.adapters.kafka_config import KafkaConnection

log = logging.getLogger(__name__)

# Seconds since the epoch, read at each scrape.
Clock = Callable[[], float]


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> bool:
    """Serve ``registry`` at ``http://host:port/metrics`` from a daemon thread; False
    (logged) when the port cannot be bound, so that a process whose metrics port is taken
    still does its work. Port 0: no endpoint."""
    if port == 0:
        return False
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        log.error("metrics endpoint %s:%d not started: %s", host, port, exc)
        return False
    log.info("metrics at http://%s:%d/metrics", host, port)
    return True


class BacklogCollector(Collector):
    """Lag and oldest-waiting age of one consumer group, per stage (a stage reads one or
    more topics), and whether the broker answered."""

    def __init__(
        self, kafka: KafkaConnection, group_id: str, stages: dict[str, list[str]], clock: Clock
    ) -> None:
        self._kafka, self._group, self._stages, self._clock = kafka, group_id, stages, clock

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return self._families()

    def collect(self) -> Iterable[GaugeMetricFamily]:
        lag, oldest, reachable = self._families()
        topics = sorted({topic for names in self._stages.values() for topic in names})
        try:
            backlog = group_backlog(self._kafka, self._group, topics)
        except KafkaException as exc:
            log.warning("consumer lag of %s not read: %s", self._group, exc)
            reachable.add_metric([], 0)
            return [reachable]
        now_ms = self._clock() * 1000
        for stage, names in self._stages.items():
            waiting = [backlog[name] for name in names]
            lag.add_metric([self._group, stage], sum(b.lag for b in waiting))
            oldest.add_metric([self._group, stage], _age_s(waiting, now_ms))
        reachable.add_metric([], 1)
        return [lag, oldest, reachable]

    def _families(self) -> list[GaugeMetricFamily]:
        labels = ["group", "stage"]
        return [
            GaugeMetricFamily(
                "bundlestream_consumer_lag",
                "Messages a stage's consumer group has not committed on its input topics",
                labels=labels,
            ),
            GaugeMetricFamily(
                "bundlestream_oldest_waiting_seconds",
                "Age of the oldest message a stage has not committed (0: none waiting)",
                labels=labels,
            ),
            GaugeMetricFamily(
                "bundlestream_broker_reachable",
                "1 when the broker answered this scrape's lag queries, else 0",
            ),
        ]


def _age_s(waiting: list[Backlog], now_ms: float) -> float:
    stamps = [b.oldest_ms for b in waiting if b.oldest_ms is not None]
    return max(0.0, (now_ms - min(stamps)) / 1000) if stamps else 0.0


class DiskCollector(Collector):
    """Capacity and free bytes of the filesystem that holds a directory (the ``fs``
    object store)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def collect(self) -> Iterator[GaugeMetricFamily]:
        usage = shutil.disk_usage(_existing(self._directory))
        yield GaugeMetricFamily(
            "bundlestream_object_store_capacity_bytes",
            "Size of the filesystem holding the object store",
            value=usage.total,
        )
        yield GaugeMetricFamily(
            "bundlestream_object_store_free_bytes",
            "Free bytes on the filesystem holding the object store",
            value=usage.free,
        )


def _existing(directory: Path) -> Path:
    """The directory, or its nearest existing parent (the store creates it lazily)."""
    path = directory.resolve()
    while not path.exists():
        path = path.parent
    return path
