"""The example downstream consumer, against the broker: every permanent item, once."""

import threading
import time
from typing import Any

import pytest

from bench.event_story import produce, story
from bundlestream.schemas import events as ev
from bundlestream.settings import Settings
from examples.permanent_items import follow
from tests.bounds import CONDITION_S

pytestmark = pytest.mark.stack

DEADLINE_S = CONDITION_S


def test_the_example_prints_each_permanent_item_once(own: Settings) -> None:
    events = list(story(bundles=12, items_per_bundle=10))  # bundles 9 dropped, then re-planned
    produce(own, events)
    failed = {e.event.data_item_id for e in events if isinstance(e.event, ev.DataItemFailed)}
    uploaded = {e.event.data_item_id for e in events if isinstance(e.event, ev.DataItemReceived)}
    expected = uploaded - failed
    printed: list[dict[str, Any]] = []
    deadline = time.monotonic() + DEADLINE_S
    lock = threading.Lock()

    def emit(item: dict[str, Any]) -> None:
        with lock:
            printed.append(item)

    def stop() -> bool:
        with lock:
            return len(printed) >= len(expected) or time.monotonic() > deadline

    follow(own, emit, stop)
    assert len(failed) == 1
    assert sorted(item["id"] for item in printed) == sorted(expected)
    confirmed = {
        e.event.plan_id: e.event.bundle_id
        for e in events
        if isinstance(e.event, ev.BundleConfirmed)
    }
    assert {item["bundleId"] for item in printed} == set(confirmed.values())
