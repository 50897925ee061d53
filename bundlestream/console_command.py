"""``bundlestream console`` (the operator console, supervised like the API) and
``bundlestream console user add NAME`` (create an operator or set their password)."""

import argparse
import getpass
import logging
import sys

import psycopg

from bundlestream.adapters.operator_accounts import add_operator
from bundlestream.settings import Settings


def run_console(args: argparse.Namespace, settings: Settings) -> int:
    """The supervisor, or (``--supervised``, as the supervisor starts it) the server."""
    if args.supervised:
        from bundlestream.console.server import serve

        return serve(settings)
    from bundlestream.worker_supervisor import Supervisor

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [%(process)d] %(message)s")
    command = [sys.executable, "-m", "bundlestream.cli", "console", "--supervised"]
    return Supervisor(command, processes=1, name="console").run()


def read_password(from_stdin: bool) -> str:
    """One line of stdin, or asked twice on the terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise SystemExit("the two passwords differ")
    return first


def run_user_add(args: argparse.Namespace, settings: Settings) -> int:
    password = read_password(args.password_stdin)
    if len(password) < 12:
        print("refused: a password needs at least 12 characters", file=sys.stderr)
        return 1
    with psycopg.connect(settings.postgres.dsn.get_secret_value(), autocommit=True) as conn:
        add_operator(conn, settings.console.schema_name, args.name, password)
    print(f"operator {args.name} can log in to the console")
    return 0


def register(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``console`` and ``console user add`` to the command line."""
    parser = subparsers.add_parser("console", help="serve the operator console (supervised)")
    parser.add_argument("--supervised", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(run=run_console)
    users = parser.add_subparsers(dest="console_command").add_parser(
        "user", help="operator accounts"
    )
    add = users.add_subparsers(dest="user_command", required=True).add_parser(
        "add", help="create an operator (or set their password)"
    )
    add.add_argument("name")
    add.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    add.set_defaults(run=run_user_add)
