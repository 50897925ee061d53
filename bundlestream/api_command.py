"""``bundlestream api``: the HTTP API, supervised like the workers.

The command is a supervisor (``bundlestream.worker_supervisor``) keeping one uvicorn
process running (``--supervised``, ``bundlestream.api.server``): a process that dies,
killed or crashed, is started again after a short backoff; SIGTERM/SIGINT stops it for
good, and the server gets SIGTERM if the supervisor itself dies.
"""

import argparse
import logging
import sys

from bundlestream.api.server import raise_open_file_limit, serve
from bundlestream.settings import Settings
from bundlestream.worker_supervisor import Supervisor


def run_api(args: argparse.Namespace, settings: Settings) -> int:
    """The supervisor, or (``--supervised``, as the supervisor starts it) the server."""
    raise_open_file_limit()  # every connection is a descriptor; the server inherits it
    if args.supervised:
        return serve(settings)

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [%(process)d] %(message)s")
    command = [sys.executable, "-m", "bundlestream.cli", "api", "--supervised"]
    return Supervisor(command, processes=1, name="api").run()


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``api`` to the ``bundlestream`` command line."""
    parser = subparsers.add_parser("api", help="serve the upload API (supervised)")
    # How the supervisor starts the server; not for people.
    parser.add_argument("--supervised", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(run=run_api)
