"""``bundlestream topics create``: make every catalogue topic exist on the broker."""

import argparse
import sys

from bundlestream.adapters.kafka_topics import TopicAdminError, create_topics
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout


def run_create(args: argparse.Namespace, settings: Settings) -> int:
    try:
        created = create_topics(kafka_connection(settings), topic_layout(settings))
    except TopicAdminError as exc:
        print(f"topics create failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"topics on {settings.kafka.bootstrap}: created {', '.join(created) or 'none (all exist)'}"
    )
    return 0


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``topics create`` to the ``bundlestream`` command line."""
    topics = subparsers.add_parser("topics", help="the Kafka topics of the catalogue")
    actions = topics.add_subparsers(dest="topics_command", required=True)
    create = actions.add_parser("create", help="create missing topics (idempotent)")
    create.set_defaults(run=run_create)
