"""``bundlestream stack up|down|status``: start, stop and inspect the local stack."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bundlestream.settings import Settings
from bundlestream.stack.arlocal import Arlocal
from bundlestream.stack.kafka import KafkaBroker
from bundlestream.stack.miner import Miner, run_miner
from bundlestream.stack.postgres import PostgresCluster
from bundlestream.stack.process import ServiceError, wait_until
from bundlestream.stack.redis import RedisServer
from bundlestream.stack.s3rver import S3rver
from bundlestream.stack.service import Service


def stack_services(settings: Settings) -> list[Service]:
    """Every service of the local stack, in start order.

    The stack directory is made absolute first, so pid files and data directories mean
    the same thing to child processes and to a later ``down`` run from elsewhere.
    """
    settings = settings.model_copy(update={"stack_dir": settings.stack_dir.resolve()})
    services: list[Service] = [
        KafkaBroker(settings),
        PostgresCluster(settings),
        RedisServer(settings),
        S3rver(settings),
        Arlocal(settings),
    ]
    if settings.arlocal_mine_interval_s > 0:
        services.append(Miner(settings))  # local mode: nothing else mines arlocal's blocks
    return services


def up(services: Sequence[Service], timeout_s: float) -> list[str]:
    """Install and start what is not running, then wait until all are ready.

    Returns the names of the services this call started. Everything is spawned first
    and awaited afterwards, so the slow starters (the JVM) overlap.
    """
    for service in services:
        service.install()
    started = [service for service in services if _start_if_stopped(service)]
    for service in services:
        _await_ready(service, timeout_s)
        service.after_ready()
    return [service.name for service in started]


def down(services: Sequence[Service]) -> list[str]:
    """Stop every service that has a live pid file, in reverse start order."""
    return [s.name for s in reversed(services) if s.process.stop(s.stop_signal)]


def status(services: Sequence[Service]) -> dict[str, str]:
    """``name → "ready" | "starting" | "stopped"``."""
    return {service.name: _state(service) for service in services}


def _start_if_stopped(service: Service) -> bool:
    if service.process.pid() is not None:
        return False
    service.start()
    return True


def _await_ready(service: Service, timeout_s: float) -> None:
    def ready_or_dead() -> bool:
        return service.process.pid() is None or service.is_ready()

    wait_until(ready_or_dead, timeout_s)
    if service.process.pid() is None or not service.is_ready():
        raise ServiceError(
            f"{service.name} did not become ready; log {service.process.log_file}:\n"
            f"{service.process.log_tail()}"
        )


def _state(service: Service) -> str:
    if service.process.pid() is None:
        return "stopped"
    return "ready" if service.is_ready() else "starting"


def run_up(args: argparse.Namespace) -> int:
    settings = Settings()
    services = stack_services(settings)
    try:
        started = up(services, settings.stack_start_timeout_s)
    except ServiceError as exc:
        print(f"stack up failed: {exc}", file=sys.stderr)
        return 1
    print(f"stack ready in {settings.stack_dir} (started: {', '.join(started) or 'none'})")
    return 0


def run_down(args: argparse.Namespace) -> int:
    stopped = down(stack_services(Settings()))
    print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    """Exit 0 only when every service is ready (scripts use it to decide on ``up``)."""
    states = status(stack_services(Settings()))
    if not args.quiet:
        for name, state in states.items():
            print(f"{name:10} {state}")
    return 0 if all(state == "ready" for state in states.values()) else 3


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``stack up|down|status`` to the ``bundlestream`` command line."""
    stack = subparsers.add_parser("stack", help="the local stack of real services")
    actions = stack.add_subparsers(dest="stack_command", required=True)
    actions.add_parser("up", help="install what is missing, start, wait until ready").set_defaults(
        run=run_up
    )
    actions.add_parser("down", help="stop by pid what the stack started").set_defaults(run=run_down)
    status_parser = actions.add_parser("status", help="exit 0 when every service is ready")
    status_parser.add_argument("--quiet", action="store_true")
    status_parser.set_defaults(run=run_status)
    actions.add_parser("miner", help="mine an arlocal block every few seconds").set_defaults(
        run=run_miner
    )
