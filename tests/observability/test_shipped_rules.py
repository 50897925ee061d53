"""The Grafana dashboard and the Prometheus alert rules in observability/ name only
metrics and labels that the running services export.

An API, a worker and a projector are started on the real stack (Kafka, Postgres,
arlocal) with metrics endpoints on ports of their own; each PromQL expression of the
dashboard and of the rules is read with ``tests.observability.promql`` and every metric
it selects, every label its matchers and groupings name, is looked up in the scraped
expositions.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.api.upload_harness import free_port
from tests.bounds import CONDITION_S, HTTP_REQUEST_S
from tests.observability.promql import uses
from tests.streams.pipeline_harness import pipeline_settings, running_pipeline

pytestmark = pytest.mark.stack

SHIPPED = Path(__file__).resolve().parents[2] / "observability"


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((SHIPPED / "grafana-dashboard.json").read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]


def rule_expressions() -> list[str]:
    rules = yaml.safe_load((SHIPPED / "alerts.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


class Exported:
    """Sample names with the labels their samples carry, and every declared family
    (a labelled counter has no sample before its first increment)."""

    def __init__(self, texts: list[str]) -> None:
        self.labels: dict[str, set[str]] = {}
        self.families: set[str] = set()
        for text in texts:
            for family in text_string_to_metric_families(text):
                self.families.add(family.name)
                self.families.add(family.name + ("_total" if family.type == "counter" else ""))
                for sample in family.samples:
                    self.labels.setdefault(sample.name, set()).update(sample.labels)

    def missing(self, expr: str) -> list[str]:
        """What ``expr`` uses that is not exported: ``metric`` or ``metric{label}``."""
        used, problems = uses(expr), []
        for metric, labels in used.selectors:
            if metric not in self.labels and metric not in self.families:
                problems.append(metric)
            problems += [f"{metric}{{{x}}}" for x in labels - self.labels.get(metric, set())]
        offered = set().union(*(self.labels.get(m, set()) for m in used.metrics))
        problems += [f"by/on ({x})" for x in used.grouping - offered]
        return problems


async def scrape(urls: list[str]) -> list[str]:
    """Each endpoint's exposition, waiting (bounded) for the processes to serve it."""
    deadline = asyncio.get_running_loop().time() + CONDITION_S
    texts = []
    async with httpx.AsyncClient(timeout=HTTP_REQUEST_S) as client:
        for url in urls:
            while True:
                try:
                    answer = await client.get(url)
                    if answer.status_code == 200:
                        texts.append(answer.text)
                        break
                except httpx.TransportError:
                    pass
                assert asyncio.get_running_loop().time() < deadline, f"{url} never answered"
                await asyncio.sleep(0.5)
    return texts


@pytest.fixture
async def exported(tmp_path: Path) -> Exported:
    worker_port, projector_port = free_port(), free_port()
    settings = pipeline_settings(
        tmp_path, metrics__worker_port=worker_port, metrics__projector_port=projector_port
    )
    async with running_pipeline(settings, workers=1, projector=True) as pipeline:
        texts = await scrape(
            [
                f"{pipeline.api_url}/metrics",
                f"http://127.0.0.1:{worker_port}/metrics",
                f"http://127.0.0.1:{projector_port}/metrics",
            ]
        )
    return Exported(texts)


async def test_every_metric_and_label_the_dashboard_and_rules_use_is_exported(
    exported: Exported,
) -> None:
    expressions = dashboard_expressions() + rule_expressions()
    assert len(expressions) > 20
    missing = {expr: problems for expr in expressions if (problems := exported.missing(expr))}
    assert missing == {}


async def test_a_rule_naming_an_unexported_metric_or_label_is_caught(exported: Exported) -> None:
    assert exported.missing("rate(bundlestream_uploads_totl[5m]) > 1") == [
        "bundlestream_uploads_totl"
    ]
    assert exported.missing('bundlestream_consumer_lag{stag="plan"} > 1') == [
        "bundlestream_consumer_lag{stag}"
    ]
    assert exported.missing("sum by (shard) (bundlestream_items)") == ["by/on (shard)"]
