"""``bundlestream projector``: the Postgres read models, supervised like the API and the
workers.

The command is a supervisor (``bundlestream.worker_supervisor``) keeping one projector
process running (``--supervised``, ``bundlestream.projections.commands``). The projector
ends when Postgres goes away under it (psycopg's ``AdminShutdown`` on the postmaster's
exit, in a chaos run); unsupervised it then stayed down, and the status routes stopped
advancing until someone started it again. Its batches and tracked offsets commit in one
transaction, so a restarted projector resumes where the last commit left it.
"""

import argparse
import logging
import sys

from bundlestream.projections.commands import run_projector
from bundlestream.settings import Settings
from bundlestream.worker_supervisor import Supervisor


def run_supervised_projector(args: argparse.Namespace, settings: Settings) -> int:
    """The supervisor, or (``--supervised``, as the supervisor starts it) the projector."""
    if args.supervised:
        return run_projector(args, settings)

    logging.basicConfig(
        level=args.loglevel.upper(), format="[%(asctime)s] [%(process)d] %(message)s"
    )
    command = [sys.executable, "-m", "bundlestream.cli", "projector", "--supervised"]
    return Supervisor([*command, "--loglevel", args.loglevel], 1, name="projector").run()


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``projector`` to the ``bundlestream`` command line."""
    parser = subparsers.add_parser("projector", help="project the event log into Postgres")
    parser.add_argument("--loglevel", default="info")
    # How the supervisor starts the projector; not for people.
    parser.add_argument("--supervised", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(run=run_supervised_projector)
