"""Gauges read from the projections when Prometheus scrapes the projector: items and
bundles by state, the oldest item not yet in a bundle, the oldest bundle posted but not
yet permanent.

Each scrape opens one short connection (the projector's own is busy with its batches)
and asks what the console's overview asks (``console_queries``); Postgres not answering exports
``bundlestream_projections_reachable 0`` and nothing else.
"""

import logging
from collections.abc import Iterable
from datetime import datetime

import psycopg
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from psycopg import sql

from bundlestream.adapters.console_queries import ITEMS_BY_STATE, OLDEST_NEW_ITEM
from bundlestream.adapters.prometheus import Clock

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT_S = 5
_QUERIES = {
    "items": ITEMS_BY_STATE,
    "bundles": "SELECT state, count(*) FROM {s}.bundles GROUP BY state",
    "unplanned": f"SELECT uploaded_at FROM ({OLDEST_NEW_ITEM}) oldest",
    "unconfirmed": """
        SELECT min(posted_at) FROM {s}.bundles WHERE state IN ('posted', 'seeded')""",
}
# Every state a view can report, so that a state with no rows reads 0, not absent.
ITEM_STATES = ("new", "planned", "permanent", "failed")
BUNDLE_STATES = ("planned", "prepared", "posted", "seeded", "permanent", "dropped")


class ProjectionCollector(Collector):
    def __init__(self, dsn: str, schema: str, clock: Clock) -> None:
        self._dsn, self._clock = dsn, clock
        self._sql = {
            name: sql.SQL(text).format(s=sql.Identifier(schema)) for name, text in _QUERIES.items()
        }

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return self._families()

    def collect(self) -> Iterable[GaugeMetricFamily]:
        items, bundles, unplanned, unconfirmed, reachable = self._families()
        try:
            with psycopg.connect(self._dsn, connect_timeout=_CONNECT_TIMEOUT_S) as conn:
                found = {name: conn.execute(query).fetchall() for name, query in self._sql.items()}
        except psycopg.Error as exc:
            log.warning("projection gauges not read: %s", exc)
            reachable.add_metric([], 0)
            return [reachable]
        for family, states, rows in (
            (items, ITEM_STATES, found["items"]),
            (bundles, BUNDLE_STATES, found["bundles"]),
        ):
            counts = {state: 0 for state in states} | {state: n for state, n in rows}
            for state, n in counts.items():
                family.add_metric([state], n)
        now = self._clock()
        unplanned.add_metric([], _age_s(next(iter(found["unplanned"]), (None,))[0], now))
        unconfirmed.add_metric([], _age_s(found["unconfirmed"][0][0], now))
        reachable.add_metric([], 1)
        return [items, bundles, unplanned, unconfirmed, reachable]

    def _families(self) -> list[GaugeMetricFamily]:
        return [
            GaugeMetricFamily(
                "bundlestream_items", "Data items by state (projections)", labels=["state"]
            ),
            GaugeMetricFamily(
                "bundlestream_bundles", "Bundles by state (projections)", labels=["state"]
            ),
            GaugeMetricFamily(
                "bundlestream_oldest_unplanned_item_seconds",
                "Age of the oldest accepted item in no live bundle (0: none)",
            ),
            GaugeMetricFamily(
                "bundlestream_oldest_unconfirmed_bundle_seconds",
                "Age since posting of the oldest bundle posted or seeded, not permanent (0: none)",
            ),
            GaugeMetricFamily(
                "bundlestream_projections_reachable",
                "1 when Postgres answered this scrape's queries, else 0",
            ),
        ]


def _age_s(since: datetime | None, now: float) -> float:
    return 0.0 if since is None else max(0.0, now - since.timestamp())
