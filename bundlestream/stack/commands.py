"""``bundlestream stack up|down|status|run``: start, stop and inspect the local stack."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from bundlestream.settings import Settings
from bundlestream.stack.application import ApiServer, ConsoleServer, application_services
from bundlestream.stack.arlocal import Arlocal
from bundlestream.stack.evm import EvmNode, run_token
from bundlestream.stack.facilitator import Facilitator
from bundlestream.stack.kafka import KafkaBroker
from bundlestream.stack.miner import Miner, run_miner
from bundlestream.stack.postgres import PostgresCluster
from bundlestream.stack.process import ServiceError, wait_until
from bundlestream.stack.redis import RedisServer
from bundlestream.stack.s3rver import S3rver
from bundlestream.stack.service import Service, port_open


def stack_settings(settings: Settings) -> Settings:
    """The settings with an absolute stack directory, so pid files and data directories
    mean the same thing to child processes and to a later ``down`` run from elsewhere."""
    return settings.updated(stack__dir=settings.stack.dir.resolve())


def stack_services(settings: Settings) -> list[Service]:
    """The infrastructure of the local stack, in start order."""
    brokers = range(1, settings.stack.kafka_brokers + 1)
    services: list[Service] = [
        *(KafkaBroker(settings, node_id) for node_id in brokers),
        PostgresCluster(settings),
        RedisServer(settings),
        S3rver(settings),
        Arlocal(settings),
        EvmNode(settings),
        Facilitator(settings),
    ]
    if settings.stack.arlocal_mine_interval_s > 0:
        services.append(Miner(settings))  # local mode: nothing else mines arlocal's blocks
    return services


def up(services: Sequence[Service], timeout_s: float) -> list[Service]:
    """Install and start what is not running, then wait until all are ready.

    Returns the services this call started. Everything is spawned first and awaited
    afterwards, so the slow starters (the JVM) overlap. On failure, what this call
    started is stopped again before the error propagates.
    """
    started: list[Service] = []
    try:
        for service in services:
            service.install()
        for service in services:
            # One at a time: a later service whose port is taken must not strand the
            # ones already spawned outside ``started`` (then nothing would stop them).
            if _start_if_stopped(service):
                started.append(service)
        for service in services:
            _await_ready(service, timeout_s)
            service.after_ready()
    except BaseException:
        down(started)
        raise
    return started


def down(services: Sequence[Service]) -> list[str]:
    """Stop every service that has a live pid file, in reverse start order."""
    return [s.name for s in reversed(services) if s.process.stop(s.stop_signal)]


def status(services: Sequence[Service]) -> dict[str, str]:
    """``name → "ready" | "starting" | "stopped"``."""
    return {service.name: _state(service) for service in services}


def _start_if_stopped(service: Service) -> bool:
    if service.process.pid() is not None:
        return False
    for host, port in service.ports():
        # Readiness probes would happily talk to someone else's server on our port.
        if port_open(host, port):
            raise ServiceError(
                f"{service.name}: {host}:{port} is already in use by a process this stack "
                f"did not start; stop it or choose another port (BUNDLESTREAM_* settings)"
            )
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


def _names(services: Sequence[Service]) -> str:
    return ", ".join(service.name for service in services) or "none"


def start_all(settings: Settings, with_application: bool) -> list[Service]:
    """Bring up the infrastructure, then (optionally) the API and workers on top of it."""
    started = up(stack_services(settings), settings.stack.start_timeout_s)
    if with_application:
        try:
            started += up(application_services(settings), settings.stack.start_timeout_s)
        except BaseException:
            down(started)
            raise
    return started


def run_install(args: argparse.Namespace, settings: Settings) -> int:
    """Install what the stack needs (jars, node packages, redis-server) without starting it."""
    try:
        for service in stack_services(stack_settings(settings)):
            service.install()
    except ServiceError as exc:
        print(f"stack install failed: {exc}", file=sys.stderr)
        return 1
    return 0


def run_up(args: argparse.Namespace, settings: Settings) -> int:
    settings = stack_settings(settings)
    try:
        started = start_all(settings, args.app)
    except ServiceError as exc:
        print(f"stack up failed: {exc}", file=sys.stderr)
        return 1
    print(f"stack ready in {settings.stack.dir} (started: {_names(started)})")
    if args.app:
        print(f"API: {ApiServer(settings).url}")
        print(f"console: {ConsoleServer(settings).url}")
    return 0


def run_down(args: argparse.Namespace, settings: Settings) -> int:
    """Stop the application and the infrastructure, whatever started them."""
    settings = stack_settings(settings)
    stopped = down(stack_services(settings) + application_services(settings))
    print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    return 0


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 only when every infrastructure service is ready (scripts decide on ``up``)."""
    settings = stack_settings(settings)
    infrastructure = status(stack_services(settings))
    if not args.quiet:
        for name, state in {**infrastructure, **status(application_services(settings))}.items():
            print(f"{name:10} {state}")
    return 0 if all(state == "ready" for state in infrastructure.values()) else 3


def run_foreground(args: argparse.Namespace, settings: Settings) -> int:
    """``make run``: start everything, print the URL, stop what we started on Ctrl-C."""
    settings = stack_settings(settings)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        started = start_all(settings, with_application=True)
    except ServiceError as exc:
        print(f"stack up failed: {exc}", file=sys.stderr)
        return 1
    api = ApiServer(settings)
    print(f"bundlestream is running: {api.url}  (logs in {settings.stack.dir}/logs; Ctrl-C stops)")
    print(f"operator console: {ConsoleServer(settings).url}")
    sys.stdout.flush()
    while not stop.wait(1.0) and api.process.pid() is not None:
        pass
    print(f"stopping: {', '.join(down(started)) or 'nothing'}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``stack up|down|status|run|miner|token`` to the ``bundlestream`` command line."""
    stack = subparsers.add_parser("stack", help="the local stack of real services")
    actions = stack.add_subparsers(dest="stack_command", required=True)
    actions.add_parser("install", help="install what is missing, start nothing").set_defaults(
        run=run_install
    )
    up_parser = actions.add_parser("up", help="install what is missing, start, wait until ready")
    up_parser.add_argument("--app", action="store_true", help="also start the API and workers")
    up_parser.set_defaults(run=run_up)
    actions.add_parser("down", help="stop by pid everything the stack started").set_defaults(
        run=run_down
    )
    status_parser = actions.add_parser("status", help="exit 0 when every service is ready")
    status_parser.add_argument("--quiet", action="store_true")
    status_parser.set_defaults(run=run_status)
    actions.add_parser("run", help="up with the API and workers until Ctrl-C").set_defaults(
        run=run_foreground
    )
    actions.add_parser("miner", help="mine an arlocal block every few seconds").set_defaults(
        run=run_miner
    )
    token = actions.add_parser("token", help="deploy the compiled LocalUSDC on the EVM node")
    token.add_argument("compiled", help="{abi, bytecode} JSON from stack/node/compile-contract.js")
    token.set_defaults(run=run_token)
