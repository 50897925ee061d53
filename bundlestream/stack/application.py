"""bundlestream's own processes in the local stack: the API, the stream workers and the
projector.

``make up`` and ``make run`` start them after the infrastructure, as detached processes
with pid files like every other service, after creating the catalogue's topics.
"""

from __future__ import annotations

import argparse
import signal
import sys

import httpx

from bundlestream.settings import Settings
from bundlestream.stack.process import ServiceProcess, run_checked
from bundlestream.stack.service import Service


def bundlestream_command(*args: str) -> list[str]:
    """argv running a ``bundlestream`` subcommand with this interpreter (no PATH lookup)."""
    return [sys.executable, "-u", "-m", "bundlestream.cli", *args]


def available_commands() -> set[str]:
    """The subcommands this build of the CLI has (workers arrive with the streams package)."""
    from bundlestream.cli import build_parser  # the CLI imports this package: import late

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


class ApiServer:
    """``bundlestream api``; ready when GET /health answers 200."""

    name = "api"
    stop_signal = signal.SIGTERM

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def url(self) -> str:
        return f"http://{self.settings.api.host}:{self.settings.api.port}"

    @property
    def process(self) -> ServiceProcess:
        return ServiceProcess(self.name, self.settings.stack.dir)

    def ports(self) -> list[tuple[str, int]]:
        return [(self.settings.api.host, self.settings.api.port)]

    def install(self) -> None:
        """Nothing to install: the API is this package."""

    def start(self) -> None:
        self.process.spawn(bundlestream_command("api"))

    def is_ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def after_ready(self) -> None:
        """Nothing to create."""


# Faust logs this line once the worker has joined its group and started its agents.
WORKER_READY_LINE = b"[^Worker]: Ready"


class StreamWorker:
    """One ``bundlestream worker``, as production runs it: a supervisor that starts its
    Faust worker again whenever that exits (the stall watchdog, a crash, a kill).

    The instance that started it calls it ready once Faust logs that it is; any other
    instance (``stack status``) only knows whether it runs.
    """

    stop_signal = signal.SIGTERM

    def __init__(self, settings: Settings, index: int) -> None:
        self.settings = settings
        self.name = f"worker-{index}"
        self._log_offset: int | None = None

    @property
    def process(self) -> ServiceProcess:
        return ServiceProcess(self.name, self.settings.stack.dir)

    def ports(self) -> list[tuple[str, int]]:
        return []  # its web server is off (streams_web_enabled) when N workers share a host

    def install(self) -> None:
        """Create the catalogue's topics first, so workers never auto-create them."""
        run_checked(bundlestream_command("topics", "create"))

    def start(self) -> None:
        log = self.process.log_file
        self._log_offset = log.stat().st_size if log.exists() else 0
        # The local stack's gateway is always arlocal, whose wallets must be minted.
        self.process.spawn(
            bundlestream_command("worker"), env={"BUNDLESTREAM_GATEWAY_IS_ARLOCAL": "true"}
        )

    def is_ready(self) -> bool:
        if self.process.pid() is None:
            return False
        if self._log_offset is None:
            return True
        with self.process.log_file.open("rb") as log:
            log.seek(self._log_offset)
            return WORKER_READY_LINE in log.read()

    def after_ready(self) -> None:
        """Nothing to create."""


class ProjectorProcess:
    """``bundlestream projector``: the read models that status and offsets answer from.

    Ready once running: it migrates its schema and seeks to its tracked offsets itself.
    """

    name = "projector"
    stop_signal = signal.SIGTERM

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def process(self) -> ServiceProcess:
        return ServiceProcess(self.name, self.settings.stack.dir)

    def ports(self) -> list[tuple[str, int]]:
        return []

    def install(self) -> None:
        """Create the catalogue's topics first, so the projector can subscribe to them."""
        run_checked(bundlestream_command("topics", "create"))

    def start(self) -> None:
        self.process.spawn(bundlestream_command("projector"))

    def is_ready(self) -> bool:
        return self.process.pid() is not None

    def after_ready(self) -> None:
        """Nothing to create."""


def application_services(settings: Settings) -> list[Service]:
    """The API and, when this build has them, the stream workers and the projector."""
    commands = available_commands()
    services: list[Service] = [ApiServer(settings)] if "api" in commands else []
    if "worker" in commands:
        services += [StreamWorker(settings, i) for i in range(1, settings.stack.workers + 1)]
    if "projector" in commands:
        services.append(ProjectorProcess(settings))
    return services
