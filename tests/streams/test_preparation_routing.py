"""Each event of preparing a plan goes to the topic the catalogue names for its type."""

from __future__ import annotations

from pathlib import Path

import pytest

from bundlestream.schemas.events import BundleDropped, BundlePrepared, OffsetsRecorded
from bundlestream.schemas.example_payloads import example_record
from bundlestream.schemas.records import from_record
from bundlestream.schemas.topics import topic_of
from bundlestream.schemas.versions import latest
from bundlestream.settings import Settings
from bundlestream.streams.app import create_app
from bundlestream.streams.context import catalogue_topics
from bundlestream.streams.preparation import PreparationEvent, destination


@pytest.mark.parametrize("event_type", [OffsetsRecorded, BundlePrepared, BundleDropped])
def test_an_event_of_preparation_goes_to_its_catalogue_topic(
    tmp_path: Path, event_type: type[PreparationEvent]
) -> None:
    settings = Settings().updated(stack__dir=tmp_path, kafka__topic_prefix="routing-")
    topics = catalogue_topics(create_app(settings), settings)
    name = event_type.__name__
    event = from_record(event_type, example_record(latest()[name]))

    topic = destination(topics, event)

    assert topic.get_topic_name() == topic_of(name).full_name("routing-")
