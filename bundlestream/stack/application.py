"""bundlestream's own processes in the local stack: the API, the stream workers and the
projector.

``make up`` and ``make run`` start them after the infrastructure, as detached processes
with pid files like every other service, after creating the catalogue's topics.
"""

from __future__ import annotations

import os

from bundlestream.settings import Settings
from bundlestream.stack.process import run_checked
from bundlestream.stack.service import Service, StackService, answers_ok, bundlestream_command
from bundlestream.worker_command import worker_metrics_env


class ApiServer(StackService):
    """``bundlestream api``: a supervisor that starts its uvicorn process again whenever
    that dies, as ``StreamWorker`` does for Faust; ready when GET /health answers 200."""

    name = "api"

    @property
    def url(self) -> str:
        return f"http://{self.settings.api.host}:{self.settings.api.port}"

    def ports(self) -> list[tuple[str, int]]:
        return [(self.settings.api.host, self.settings.api.port)]

    def start(self) -> None:
        self.process.spawn(bundlestream_command("api"))

    def is_ready(self) -> bool:
        return answers_ok(f"{self.url}/health")


class ConsoleServer(StackService):
    """``bundlestream console``: the operator console, supervised like the API; ready when
    its login page (the one page outside the login) answers 200."""

    name = "console"

    @property
    def url(self) -> str:
        return f"http://{self.settings.console.host}:{self.settings.console.port}"

    def ports(self) -> list[tuple[str, int]]:
        return [(self.settings.console.host, self.settings.console.port)]

    def start(self) -> None:
        self.process.spawn(bundlestream_command("console"))

    def is_ready(self) -> bool:
        return answers_ok(f"{self.url}/login")


# Faust logs this line once the worker has joined its group and started its agents.
WORKER_READY_LINE = b"[^Worker]: Ready"


def create_topics() -> None:
    """Create the catalogue's topics, so workers and the projector never auto-create them
    and can subscribe to them."""
    run_checked(bundlestream_command("topics", "create"))


class StreamWorker(StackService):
    """One ``bundlestream worker``, as production runs it: a supervisor that starts its
    Faust worker again whenever that exits (the stall watchdog, a crash, a kill). Its
    web server is off (streams_web_enabled) when N workers share a host: no ports.

    The instance that started it calls it ready once Faust logs that it is; any other
    instance (``stack status``) only knows whether it runs.
    """

    def __init__(self, settings: Settings, index: int) -> None:
        super().__init__(settings)
        self.name = f"worker-{index}"
        self.index = index
        self._log_offset: int | None = None

    def install(self) -> None:
        create_topics()

    def start(self) -> None:
        log = self.process.log_file
        self._log_offset = log.stat().st_size if log.exists() else 0
        # The local stack's gateway is always arlocal, whose wallets must be minted. Each
        # worker (one process per supervisor here) gets the next metrics port.
        metrics = worker_metrics_env(self.settings.metrics.worker_port, self.index)
        self.process.spawn(
            bundlestream_command("worker"),
            env={"BUNDLESTREAM_GATEWAY_IS_ARLOCAL": "true", **metrics},
        )

    def is_ready(self) -> bool:
        if self.process.pid() is None:
            return False
        if self._log_offset is None:
            return True
        with self.process.log_file.open("rb") as log:
            log.seek(self._log_offset)
            return WORKER_READY_LINE in log.read()


class ProjectorProcess(StackService):
    """``bundlestream projector``: the read models that status and offsets answer from,
    supervised (started again when it exits) like the API and the workers.

    Ready once running: it migrates its schema and seeks to its tracked offsets itself.
    """

    name = "projector"

    def install(self) -> None:
        create_topics()

    def start(self) -> None:
        self.process.spawn(bundlestream_command("projector"))


def application_services(settings: Settings) -> list[Service]:
    """The API, the stream workers, the projector and the operator console."""
    count = settings.stream_workers(os.cpu_count())
    workers = [StreamWorker(settings, i) for i in range(1, count + 1)]
    return [ApiServer(settings), *workers, ProjectorProcess(settings), ConsoleServer(settings)]
