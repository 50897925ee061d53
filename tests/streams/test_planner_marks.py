"""The planner's item marks: compact, readable in every stored form, and what they drop."""

from typing import Any

from bundlestream.streams.planning import _fresh


def test_a_repeated_acceptance_is_dropped_and_a_repack_is_not() -> None:
    table: dict[str, Any] = {}
    assert _fresh(table, "a", 10, None)
    assert table == {"item/a": 10}  # an int, not a dict: half the memory per item
    assert _fresh(table, "a", 10, None)  # the same input again (redelivery): applied again
    assert not _fresh(table, "a", 12, None)  # a second acceptance (dedup re-run)
    assert _fresh(table, "a", 30, "plan-1")  # its plan dropped: repacked
    assert table == {"item/a": [30, "plan-1"]}
    assert not _fresh(table, "a", 31, "plan-1")  # the same repack written twice
    assert _fresh(table, "a", 50, "plan-2")  # dropped again from another plan
    assert not _fresh(table, "a", 60, None)  # an acceptance replayed after the repacks
    assert table == {"item/a": [50, "plan-2"]}


def test_marks_written_by_older_workers_still_count() -> None:
    table: dict[str, Any] = {"item/a": {"offset": 10, "from": None}}
    assert not _fresh(table, "a", 12, None)
    table = {"item/b": {"offset": 30, "from": "plan-1"}}
    assert not _fresh(table, "b", 31, "plan-1")
    assert _fresh(table, "b", 40, "plan-2") and table["item/b"] == [40, "plan-2"]
