"""The PromQL reader the shipped-rules test relies on: what it takes for a metric,
what for a label."""

import pytest

from tests.observability.promql import PromQLSyntaxError, uses


def test_aggregations_functions_and_durations_are_not_metrics() -> None:
    found = uses(
        "histogram_quantile(0.99, sum by (le) "
        '(rate(bundlestream_upload_seconds_bucket{outcome="Accepted"}[$__rate_interval]))) > 2'
    )
    assert found.selectors == [("bundlestream_upload_seconds_bucket", {"outcome"})]
    assert found.grouping == {"le"}


def test_both_sides_of_a_binary_operation_and_trailing_grouping() -> None:
    found = uses("sum(a_total) by (job) / on (job) group_left (zone) b offset 5m > bool 1e3")
    assert found.metrics == {"a_total", "b"}
    assert found.grouping == {"job", "zone"}


def test_a_selector_by_name_label() -> None:
    found = uses('{__name__="m", stage=~"plan|post"}')
    assert found.selectors == [("m", {"stage"})]


def test_a_label_named_like_an_aggregation_is_a_label() -> None:
    assert uses("max by (group, stage) (lag)").grouping == {"group", "stage"}


def test_broken_expressions_are_refused() -> None:
    with pytest.raises(PromQLSyntaxError):
        uses('m{stage="plan"')
    with pytest.raises(PromQLSyntaxError):
        uses("m ? 1")
