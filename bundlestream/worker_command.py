"""``bundlestream worker``: run Faust workers with every agent of the pipeline.

``--processes N`` starts N worker processes (each a ``bundlestream worker``) and waits for
them; parallelism comes from partitions spread over processes, never from concurrent
agents. Each worker logs its assigned partitions and lag per stage every few seconds.
"""

import argparse
import subprocess
import sys

import faust

from bundlestream.settings import Settings
from streams.pipeline import create_pipeline


def run_worker(args: argparse.Namespace) -> int:
    """Run until SIGINT/SIGTERM; the exit code is the worker's (or the first failure's)."""
    if args.processes > 1:
        return _run_processes(args)
    app = create_pipeline(Settings())
    worker = faust.Worker(app, loglevel=args.loglevel)
    try:
        worker.execute_from_commandline()
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0


def _run_processes(args: argparse.Namespace) -> int:
    command = [sys.executable, "-m", "bundlestream.cli", "worker", "--loglevel", args.loglevel]
    children = [subprocess.Popen(command) for _ in range(args.processes)]
    try:
        return max(child.wait() for child in children)
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
                child.wait()


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``worker`` to the ``bundlestream`` command line."""
    worker = subparsers.add_parser("worker", help="run stream-processing workers (Faust)")
    worker.add_argument("--loglevel", default="info", help="Faust/mode log level")
    worker.add_argument("--processes", type=int, default=1, help="worker processes to start")
    worker.set_defaults(run=run_worker)
