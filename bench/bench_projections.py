"""Rebuild throughput: one million synthetic events replayed from Kafka into a fresh schema.

Run on purpose against a running stack (``bundlestream stack up`` or any BUNDLESTREAM_*
stack): ``.venv/bin/python bench/bench_projections.py [--events 1000000] [--batch 20000]``.
Writes the events of bench/event_story.py (uploads to permanence, duplicates, drops,
repacks, failures, nested offsets) under a fresh topic prefix, then times the replay
into a fresh schema (the work of ``projections rebuild``: consume, decode, evolve, COPY,
track) and prints events/s and rows/s, beside the decode-only and evolve-only rates of
the same events in this process, so the numbers show where the time goes.
"""

import argparse
import resource
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.kafka_topics import create_topics
from bench.event_story import produce, story
from bundlestream.settings import Settings
from projections import postgres
from projections.projection import project
from projections.rebuild import Progress, replay_into
from projections.records import decode_record
from projections.rows import Position
from projections.tables import FACT_TABLES
from schemas.codec import encode

ITEMS_PER_BUNDLE = 100
EVENTS_PER_BUNDLE = 218.3  # measured mean of event_story at 100 items per bundle


def in_process_rates(sample: int) -> tuple[float, float]:
    """Decode-only and decode+evolve rates (events/s) of the story's events."""
    encoded = [encode(k.event) for k in story(sample // 229 + 1, ITEMS_PER_BUNDLE)][:sample]
    start = time.process_time()
    decoded = [(decode_record(data), Position("t", 0, n)) for n, data in enumerate(encoded)]
    decode_s = time.process_time() - start
    start = time.process_time()
    project(decoded)
    evolve_s = time.process_time() - start
    return len(encoded) / decode_s, len(encoded) / (decode_s + evolve_s)


def progress_line(progress: Progress) -> None:
    sys.stderr.write(
        f"\r{progress.events:>10,} events {progress.rate:>9,.0f}/s lag {progress.lag:>10,}"
    )


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
    args = parser.parse_args()
    run = f"bench-projections-{uuid.uuid4().hex[:8]}"
    settings = Settings().model_copy(
        update={"topic_prefix": f"{run}.", "projector_batch_size": args.batch}
    )
    create_topics(settings)
    bundles = int(args.events / EVENTS_PER_BUNDLE) + 1
    started = time.monotonic()
    produced = produce(settings, story(bundles, ITEMS_PER_BUNDLE))
    print(
        f"produced {produced:,} events in {time.monotonic() - started:.0f}s ({bundles:,} bundles)"
    )
    decode_rate, evolve_rate = in_process_rates(50_000)
    print(
        f"in process (CPU time): decode {decode_rate:,.0f} events/s,"
        f" decode+evolve {evolve_rate:,.0f}/s"
    )
    schema = run.replace("-", "_")
    cpu = _cpu_seconds()
    done = replay_into(settings, schema, progress_line, bulk=True, processes=args.processes)
    cpu = _cpu_seconds() - cpu
    sys.stderr.write("\n")
    with postgres.connect(settings.postgres_dsn) as conn:
        rows = sum(postgres.summarize(conn, schema, t.name).rows for t in FACT_TABLES)
        postgres.drop_schema(conn, schema)
    print(
        f"rebuild: {done.events:,} events, {rows:,} rows in {done.elapsed_s:.1f}s: "
        f"{done.rate:,.0f} events/s, {rows / done.elapsed_s:,.0f} rows/s "
        f"(replay CPU {cpu:.1f}s: {done.events / cpu:,.0f} events per CPU second; "
        f"batch {args.batch:,}, {args.processes} processes)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
