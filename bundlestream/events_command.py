"""``bundlestream events show|tail|redrive`` and ``bundlestream replay``.

show: decode messages of one topic from a partition, offset or time, one JSON object per
line. tail: follow every event topic (or one) from now on. redrive: put dead letters
that decode now back on their topics. replay: move a stage's consumer group back (or
forward) on its input topic, so the stage re-reads the log from an offset or a time.
"""

import argparse
import json
import sys
import time
from datetime import datetime

from bundlestream.adapters.consumer_lag import group_lag
from bundlestream.adapters.dead_letters import redrive
from bundlestream.adapters.event_log import (
    UnknownTopic,
    end_positions,
    full_topic_name,
    message_json,
    read,
    reader,
    start_positions,
)
from bundlestream.adapters.kafka_config import KafkaConnection
from bundlestream.adapters.kafka_groups import GroupActive, reset_offsets
from bundlestream.progress import CommandProgress
from bundlestream.schemas import topics
from bundlestream.schemas.topics import STAGE_INPUTS
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection

_FOLLOW_POLL_S = 1.0


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    consumer = reader(kafka_connection(settings))
    try:
        topic = full_topic_name(settings.kafka.topic_prefix, args.topic)
        positions = start_positions(consumer, topic, args.partition, args.offset, args.since)
        for message in read(consumer, positions, args.count, follow=False):
            print(json.dumps(message_json(message)), flush=True)
    except UnknownTopic as exc:
        print(f"no such topic: {exc}", file=sys.stderr)
        return 2
    finally:
        consumer.close()
    return 0


def run_tail(args: argparse.Namespace, settings: Settings) -> int:
    names = [args.topic] if args.topic else [t.name for t in topics.CATALOGUE]
    consumer = reader(kafka_connection(settings))
    try:
        full_names = [full_topic_name(settings.kafka.topic_prefix, n) for n in names]
        positions = end_positions(consumer, full_names)
        for message in read(consumer, positions, args.count, follow=True):
            print(json.dumps(message_json(message)), flush=True)
    except KeyboardInterrupt:
        return 0
    finally:
        consumer.close()
    return 0


def run_redrive(args: argparse.Namespace, settings: Settings) -> int:
    kafka, prefix = kafka_connection(settings), settings.kafka.topic_prefix
    with CommandProgress("redrive", "dead letters") as progress:
        result = redrive(kafka, prefix, dry_run=args.dry_run, report=progress.update)
    verb = "would return" if args.dry_run else "returned"
    print(f"{verb} {result.returned} to their topics; {result.kept} still undecodable")
    return 0


def run_replay(args: argparse.Namespace, settings: Settings) -> int:
    topic = STAGE_INPUTS[args.stage].full_name(settings.kafka.topic_prefix)
    group = args.group or settings.streams.app_id
    try:
        moved = reset_offsets(kafka_connection(settings), group, topic, args.offset, args.since)
    except GroupActive as exc:
        print(f"refused (stop the workers of {group} first): {exc}", file=sys.stderr)
        return 1
    for tp in moved:
        print(f"{group} {tp.topic}[{tp.partition}] -> {tp.offset}")
    if args.follow:
        follow_replay(kafka_connection(settings), group, topic)
    return 0


def follow_replay(kafka: KafkaConnection, group: str, topic: str) -> None:
    """Until the group has committed everything on ``topic``: its re-read as progress."""
    total = group_lag(kafka, group, [topic])[topic]
    with CommandProgress("replay", "events") as progress:
        lag = total
        while lag > 0:
            progress.update(total - lag, total)
            time.sleep(_FOLLOW_POLL_S)
            lag = group_lag(kafka, group, [topic])[topic]
        progress.update(total, total)


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give a timezone, e.g. 2026-11-29T02:00:00+00:00")
    return moment


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``events show|tail|redrive`` and ``replay`` to the command line."""
    events = subparsers.add_parser("events", help="read the event log as JSON")
    actions = events.add_subparsers(dest="events_command", required=True)
    show = actions.add_parser("show", help="decode messages of a topic from a position")
    show.add_argument("topic", help="catalogue name (bundles.planned) or full topic name")
    show.add_argument("--partition", type=int, help="default: every partition")
    where = show.add_mutually_exclusive_group()
    where.add_argument("--offset", type=int, help="default: the beginning")
    where.add_argument("--since", type=_time, help="first message at or after this time")
    show.add_argument("--count", type=int, help="stop after this many messages")
    show.set_defaults(run=run_show)
    tail = actions.add_parser("tail", help="follow new events (every topic, or one)")
    tail.add_argument("--topic")
    tail.add_argument("--count", type=int, help="stop after this many messages")
    tail.set_defaults(run=run_tail)
    again = actions.add_parser("redrive", help="dead letters that decode now back to their topics")
    again.add_argument("--dry-run", action="store_true")
    again.set_defaults(run=run_redrive)
    replay = subparsers.add_parser("replay", help="re-drive a stage from an offset or a time")
    replay.add_argument("stage", choices=sorted(STAGE_INPUTS))
    start = replay.add_mutually_exclusive_group(required=True)
    start.add_argument("--offset", type=int, help="every partition of the input topic")
    start.add_argument("--since", type=_time, help="the first message at or after this time")
    replay.add_argument("--group", help="default: BUNDLESTREAM_STREAMS_APP_ID")
    replay.add_argument(
        "--follow",
        action="store_true",
        help="then wait, showing the stage's progress, until it has re-read to the end "
        "(start its workers)",
    )
    replay.set_defaults(run=run_replay)
