"""Rebuild throughput: one million synthetic events replayed from Kafka into a fresh schema.

Run on purpose against a running stack (``bundlestream stack up`` or any BUNDLESTREAM_*
stack): ``.venv/bin/python bench/bench_projections.py [--events 1000000] [--batch 20000]
[--reuse RUN]`` (``--reuse`` replays the topics an earlier run wrote, named in its output).
Writes the events of bench/event_story.py (uploads to permanence, duplicates, drops,
repacks, failures, nested offsets) under a fresh topic prefix, then times the replay
into a fresh schema (the work of ``projections rebuild``: consume, decode, evolve, COPY,
track) and prints events/s and rows/s, beside the decode-only and evolve-only rates of
the same events in this process, so the numbers show where the time goes.
"""

import argparse
import os
import resource
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.event_story import produce, story
from bundlestream.adapters.kafka_topics import create_topics
from bundlestream.projections import postgres
from bundlestream.projections.copy_text import encoder_of
from bundlestream.projections.projection import project
from bundlestream.projections.rebuild import Progress, replay_into
from bundlestream.projections.records import decode_record
from bundlestream.projections.rows import Position
from bundlestream.projections.tables import FACT_TABLES
from bundlestream.schemas.codec import encode
from bundlestream.settings import Settings
from bundlestream.wiring import kafka_connection, topic_layout

ITEMS_PER_BUNDLE = 100
EVENTS_PER_BUNDLE = 218.3  # measured mean of event_story at 100 items per bundle


def in_process_rates(sample: int) -> tuple[float, float, float]:
    """Decode-only, decode+evolve and decode+evolve+COPY-encode rates (events/s, CPU)."""
    encoded = [encode(k.event) for k in story(sample // 229 + 1, ITEMS_PER_BUNDLE)][:sample]
    start = time.process_time()
    decoded = [(decode_record(data), Position("t", 0, n)) for n, data in enumerate(encoded)]
    decode_s = time.process_time() - start
    start = time.process_time()
    rows = project(decoded)
    evolve_s = time.process_time() - start
    start = time.process_time()
    for table, table_rows in rows.items():
        encoder_of(table)(table_rows)
    encode_s = time.process_time() - start
    n = len(encoded)
    return n / decode_s, n / (decode_s + evolve_s), n / (decode_s + evolve_s + encode_s)


def progress_line(progress: Progress) -> None:
    sys.stderr.write(
        f"\r{progress.events:>10,} events {progress.rate:>9,.0f}/s lag {progress.lag:>10,}"
    )


def _service_cpu_seconds(stack_dir: Path) -> dict[str, float]:
    """CPU used so far by the local stack's Postgres (its exited backends included) and
    Kafka broker, read from /proc; empty when the stack's pid files are not there."""
    found: dict[str, float] = {}
    for service in ("postgres", "kafka"):
        try:
            pid = (stack_dir / "run" / f"{service}.pid").read_text().split()[0]
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # utime, stime, cutime, cstime: fields 14-17 of proc(5), here indexes 11-14.
        ticks = sum(int(f) for f in fields[11:15])
        found[service] = ticks / os.sysconf("SC_CLK_TCK")
    return found


def _cpu_seconds() -> float:
    """CPU of this process and of its reaped children (the replay processes)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--processes", type=int, default=2, help="replay processes")
    parser.add_argument(
        "--reuse", metavar="RUN", help="replay the topics of an earlier run (bench-projections-…)"
    )
    args = parser.parse_args()
    run = args.reuse or f"bench-projections-{uuid.uuid4().hex[:8]}"
    settings = Settings().updated(
        kafka__topic_prefix=f"{run}.", postgres__projector_batch_size=args.batch
    )
    if args.reuse is None:
        write_events(settings, args.events)
    else:
        # Topics the catalogue gained since that run, empty.
        create_topics(kafka_connection(settings), topic_layout(settings))
    print(f"topics: {run}")
    rates = in_process_rates(50_000)
    print(
        "in process (CPU time): decode {:,.0f} events/s, decode+evolve {:,.0f}/s,"
        " decode+evolve+COPY encoding {:,.0f}/s".format(*rates)
    )
    schema = f"{run.replace('-', '_')}_{uuid.uuid4().hex[:4]}"
    cpu, load_before = _cpu_seconds(), os.getloadavg()[0]
    services = _service_cpu_seconds(settings.stack.dir)
    done = replay_into(settings, schema, progress_line, bulk=True, processes=args.processes)
    cpu, load_after = _cpu_seconds() - cpu, os.getloadavg()[0]
    services = {
        name: spent - services[name]
        for name, spent in _service_cpu_seconds(settings.stack.dir).items()
        if name in services
    }
    sys.stderr.write("\n")
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        rows = sum(postgres.summarize(conn, schema, t.name).rows for t in FACT_TABLES)
        postgres.drop_schema(conn, schema)
    print(
        f"rebuild: {done.events:,} events, {rows:,} rows in {done.elapsed_s:.1f}s: "
        f"{done.rate:,.0f} events/s, {rows / done.elapsed_s:,.0f} rows/s "
        f"(replay CPU {cpu:.1f}s: {done.events / cpu:,.0f} events per CPU second; "
        f"batch {args.batch:,}, {args.processes} processes)"
    )
    if services:
        total = cpu + sum(services.values())
        print(
            "server CPU during the replay: "
            + ", ".join(f"{name} {spent:.1f}s" for name, spent in services.items())
            + f"; all: {total:.1f}s, {done.events / total:,.0f} events per CPU second"
        )
    print(f"load average (1 min) {load_before:.1f} before the replay, {load_after:.1f} after")
    return 0


def write_events(settings: Settings, events: int) -> None:
    create_topics(kafka_connection(settings), topic_layout(settings))
    bundles = int(events / EVENTS_PER_BUNDLE) + 1
    started = time.monotonic()
    produced = produce(settings, story(bundles, ITEMS_PER_BUNDLE))
    print(
        f"produced {produced:,} events in {time.monotonic() - started:.0f}s ({bundles:,} bundles)"
    )


if __name__ == "__main__":
    sys.exit(main())
