"""The projector process and ``bundlestream projections migrate|rebuild|check``."""

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from bundlestream.adapters.prometheus import serve_metrics
from bundlestream.progress import CommandProgress
from bundlestream.projections import postgres
from bundlestream.projections.check import compare_schemas
from bundlestream.projections.metrics import ProjectorMetrics
from bundlestream.projections.migrator import migrate
from bundlestream.projections.projector import BatchReport, Projector
from bundlestream.projections.rebuild import Progress, rebuild
from bundlestream.settings import Settings


def run_projector(args: argparse.Namespace, settings: Settings) -> int:
    """Project the live schema until SIGINT/SIGTERM (finishing the batch in hand)."""
    logging.basicConfig(level=args.loglevel.upper(), format="%(asctime)s %(message)s")
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        migrate(conn, settings.postgres.projections_schema)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    metrics = ProjectorMetrics(settings)
    serve_metrics(metrics.registry, settings.metrics.host, settings.metrics.projector_port)

    def on_batch(report: BatchReport) -> None:
        metrics.record(report)
        _log_batch(report)

    projector = Projector(
        settings, settings.postgres.projections_schema, settings.postgres.projector_group_id
    )
    projector.start()
    try:
        projector.run(stopping.is_set, on_batch)
    finally:
        projector.close()
    return 0


def _log_batch(report: BatchReport) -> None:
    logging.getLogger("bundlestream.projector").info(
        "projected %d events (%d dead letters)", report.events, report.dead_letters
    )


def run_migrate(args: argparse.Namespace, settings: Settings) -> int:
    schema = args.schema or settings.postgres.projections_schema
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        applied = migrate(conn, schema)
    print(f"{schema}: applied {applied or 'nothing (up to date)'}")
    return 0


def run_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    with CommandProgress("rebuild", "events") as progress:

        def report(reading: Progress) -> None:
            progress.update(reading.events, reading.events + reading.lag)

        result = rebuild(settings, report, swap=not args.no_swap, processes=args.processes)
    done = result.progress
    print(
        f"replayed {done.events:,} events in {done.elapsed_s:.1f}s ({done.rate:,.0f}/s) "
        f"into {result.fresh}"
        + (f"; previous live schema kept as {result.retired}" if result.retired else "")
    )
    return 0


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    left = args.left or settings.postgres.projections_schema
    with postgres.connect(settings.postgres.dsn.get_secret_value()) as conn:
        missing = [s for s in (left, args.right) if not postgres.schema_exists(conn, s)]
        if missing:
            print(f"no such schema: {', '.join(missing)}", file=sys.stderr)
            return 2
        with CommandProgress("check", "relations") as progress:
            comparisons = compare_schemas(conn, left, args.right, progress.update)
    for c in comparisons:
        verdict = "equal" if c.equal else "DIFFERENT"
        print(
            f"{c.relation:<22} {c.left.rows:>10} {c.right.rows:>10}  "
            f"{c.left.checksum:>24} {c.right.checksum:>24}  {verdict}"
        )
    return 0 if all(c.equal for c in comparisons) else 1


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``projections ...`` to the ``bundlestream`` command line (``projector``, which
    runs ``run_projector`` under a supervisor, is ``bundlestream.projector_command``)."""
    projections = subparsers.add_parser("projections", help="the Postgres read models")
    actions = projections.add_subparsers(dest="projections_command", required=True)
    migrate_cmd = actions.add_parser("migrate", help="apply pending migrations to a schema")
    migrate_cmd.add_argument("--schema", help="default: BUNDLESTREAM_PROJECTIONS_SCHEMA")
    migrate_cmd.set_defaults(run=run_migrate)
    rebuild_cmd = actions.add_parser(
        "rebuild", help="replay the log from offset 0 into a fresh schema and swap it in"
    )
    rebuild_cmd.add_argument("--no-swap", action="store_true", help="build, do not swap")
    rebuild_cmd.add_argument(
        "--processes",
        type=int,
        default=2,
        help="replay topics in this many processes at once (default 2: a replay of 1M events "
        "was measured at 31 s with 1 and 15-19 s with 2, docs/benchmarks.md)",
    )
    rebuild_cmd.set_defaults(run=run_rebuild)
    check = actions.add_parser("check", help="compare two schemas table by table")
    check.add_argument("right", help="the schema to compare with")
    check.add_argument("--left", help="default: the live schema")
    check.set_defaults(run=run_check)
