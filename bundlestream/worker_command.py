"""``bundlestream worker``: run a Faust worker with every agent of the pipeline."""

import argparse

import faust

from bundlestream.settings import Settings
from streams.app import create_app


def run_worker(args: argparse.Namespace) -> int:
    """Run until SIGINT/SIGTERM; the exit code is the worker's."""
    app = create_app(Settings())
    worker = faust.Worker(app, loglevel=args.loglevel)
    try:
        worker.execute_from_commandline()
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``worker`` to the ``bundlestream`` command line."""
    worker = subparsers.add_parser("worker", help="run a stream-processing worker (Faust)")
    worker.add_argument("--loglevel", default="info", help="Faust/mode log level")
    worker.set_defaults(run=run_worker)
