"""``bundlestream worker``: Faust workers with every agent of the pipeline, supervised.

``bundlestream worker [--processes N]`` supervises N worker processes
(``bundlestream.worker_supervisor``): a worker that exits (a crash it chose rather than
skip a message, its stall watchdog, a kill) is started again after a short backoff;
SIGTERM/SIGINT stops them all. Parallelism comes from partitions spread over processes,
never from concurrent agents. Each worker logs its assigned partitions and lag per stage
every few seconds, and serves its Prometheus metrics on a port of its own
(``BUNDLESTREAM_WORKER_METRICS_PORT`` + its index - 1).
"""

import argparse
import logging
import sys

from bundlestream.settings import Settings


def run_worker(args: argparse.Namespace, settings: Settings) -> int:
    """The supervisor, or (``--supervised``, as the supervisor starts it) one worker."""
    if args.supervised:
        return _run_one_worker(settings, args.loglevel)
    from bundlestream.worker_supervisor import Supervisor

    logging.basicConfig(
        level=args.loglevel.upper(), format="[%(asctime)s] [%(process)d] %(message)s"
    )
    command = [sys.executable, "-m", "bundlestream.cli", "worker", "--supervised"]
    return Supervisor(
        [*command, "--loglevel", args.loglevel],
        args.processes,
        env_of=lambda index: worker_metrics_env(settings.metrics.worker_port, index),
    ).run()


def worker_metrics_env(first_port: int, index: int) -> dict[str, str]:
    """The metrics port of worker ``index`` (1..N): ``first_port + index - 1``; 0 stays 0."""
    port = first_port + index - 1 if first_port else 0
    return {"BUNDLESTREAM_WORKER_METRICS_PORT": str(port)}


def _run_one_worker(settings: Settings, loglevel: str) -> int:
    """Run until SIGINT/SIGTERM (or until the worker ends itself); its exit code."""
    from bundlestream.adapters.kafka_topics import create_topics
    from bundlestream.streams.crash import Worker  # Faust: only workers load it
    from bundlestream.streams.pipeline import create_pipeline
    from bundlestream.wiring import kafka_connection, topic_layout

    # Every topic an agent reads or a table writes, led by its broker before Faust starts:
    # a changelog missing from the consumer's first metadata makes the table's first write
    # raise PartitionsMismatch (0 partitions against its source's N). A broker that cannot
    # say so yet ends this worker (TopicAdminError), and the supervisor starts another.
    create_topics(kafka_connection(settings), topic_layout(settings))
    app = create_pipeline(settings)
    worker = Worker(app, loglevel=loglevel)
    try:
        worker.execute_from_commandline()
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``worker`` to the ``bundlestream`` command line."""
    worker = subparsers.add_parser("worker", help="run stream-processing workers (Faust)")
    worker.add_argument("--loglevel", default="info", help="Faust/mode log level")
    worker.add_argument("--processes", type=int, default=1, help="worker processes to keep running")
    # How the supervisor starts each worker; not for people.
    worker.add_argument("--supervised", action="store_true", help=argparse.SUPPRESS)
    worker.set_defaults(run=run_worker)
