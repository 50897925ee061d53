"""The ``bundlestream`` console script: one entry point for every command.

The settings are built here, once per process, and handed to the command."""

import argparse
import sys
from collections.abc import Callable, Sequence

from bundlestream import (
    api_command,
    console_command,
    events_command,
    facilitator_command,
    inspection,
    ledger_command,
    projector_command,
    topics_command,
    worker_command,
)
from bundlestream.projections import commands as projection_commands
from bundlestream.settings import Settings
from bundlestream.stack import commands as stack_commands

Command = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bundlestream")
    subparsers = parser.add_subparsers(dest="command", required=True)
    stack_commands.register(subparsers)
    api_command.register(subparsers)
    console_command.register(subparsers)
    inspection.register(subparsers)
    topics_command.register(subparsers)
    worker_command.register(subparsers)
    projection_commands.register(subparsers)
    projector_command.register(subparsers)
    events_command.register(subparsers)
    ledger_command.register(subparsers)
    facilitator_command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Command = args.run
    return run(args, Settings())


if __name__ == "__main__":
    sys.exit(main())
