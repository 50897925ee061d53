"""The faults of the chaos run: what each one does to the stack, and when it happens.

A supervised process (the API's uvicorn, a Faust worker, the projector) is killed with
SIGKILL and left to its supervisor. Everything else is killed with SIGKILL on its whole
process group (a broker, Postgres, Redis) and started again by the run, or stopped for
an outage and started again after it (the object store, and the gateway through
``GatewayProxy``).
"""

import asyncio
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.chaos_gateway import GatewayProxy
from bundlestream.settings import Settings
from bundlestream.stack.application import ApiServer, ProjectorProcess, StreamWorker
from bundlestream.stack.kafka import KafkaBroker
from bundlestream.stack.postgres import PostgresCluster
from bundlestream.stack.process import ServiceError, wait_until
from bundlestream.stack.redis import RedisServer
from bundlestream.stack.s3rver import S3rver
from bundlestream.stack.service import Service


@dataclass
class FaultRun:
    """One fault as it happened (monotonic times)."""

    name: str
    at: float
    restored: float | None = None
    detail: str = ""


def fault_names(settings: Settings, rng: random.Random) -> list[str]:
    """Every fault kind once: the API, each worker, the projector, one broker (chosen
    by ``rng``), Postgres, Redis, and outages of the object store and the gateway."""
    workers = [f"worker-{i}" for i in range(1, settings.stack.workers + 1)]
    broker = f"kafka-{rng.randint(1, settings.stack.kafka_brokers)}"
    names = ["api", *workers, "projector", broker, "postgres", "redis", "object-store"]
    return [*names, "gateway"]


def schedule(
    names: list[str], start: float, end: float, rng: random.Random
) -> list[tuple[float, str]]:
    """Each fault at a random moment of its own slot of [start, end), in random order."""
    order = rng.sample(names, len(names))
    slot = (end - start) / len(order)
    return [(start + k * slot + rng.uniform(0, slot / 2), name) for k, name in enumerate(order)]


def supervised_children(supervisor_pid: int) -> list[int]:
    """The processes a supervisor runs now (its direct children)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == supervisor_pid and fields[0] not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


class Faults:
    def __init__(
        self, settings: Settings, proxy: GatewayProxy, outage_s: float, broker_down_s: float
    ) -> None:
        self.settings, self.proxy = settings, proxy
        self.outage_s, self.broker_down_s = outage_s, broker_down_s

    async def inject(self, name: str) -> FaultRun:
        run = FaultRun(name, time.monotonic())
        if name in ("api", "projector") or name.startswith("worker-"):
            run.detail = self._kill_supervised(name)
        elif name == "gateway":
            await self.proxy.stop()
            await asyncio.sleep(self.outage_s)
            await self.proxy.start()
            run.detail = f"refused for {self.outage_s:.0f} s"
        elif name == "object-store":
            await asyncio.to_thread(S3rver(self.settings).process.stop)
            await asyncio.sleep(self.outage_s)
            await self._start(S3rver(self.settings))
            run.detail = f"s3rver stopped for {self.outage_s:.0f} s"
        else:
            service = self._killed_service(name)
            pid = service.process.pid()
            await asyncio.to_thread(service.process.stop, signal.SIGKILL)
            if name.startswith("kafka"):
                await asyncio.sleep(self.broker_down_s)
            await self._start(service)
            run.detail = f"kill -9 of process group {pid}, started again"
        run.restored = time.monotonic()
        return run

    def _killed_service(self, name: str) -> Service:
        if name.startswith("kafka"):
            node = 1 if name == "kafka-1" else int(name.split("-")[1])
            return KafkaBroker(self.settings, node)
        services: dict[str, Callable[[Settings], Service]] = {
            "postgres": PostgresCluster,
            "redis": RedisServer,
        }
        return services[name](self.settings)

    def _kill_supervised(self, name: str) -> str:
        supervisor: Service
        if name == "api":
            supervisor = ApiServer(self.settings)
        elif name == "projector":
            supervisor = ProjectorProcess(self.settings)
        else:
            supervisor = StreamWorker(self.settings, int(name.split("-")[1]))
        pid = supervisor.process.pid()
        if pid is None:
            raise ServiceError(f"{name} is not running")
        children = supervised_children(pid)
        for child in children:
            os.kill(child, signal.SIGKILL)
        return f"kill -9 of {children} (supervisor {pid} restarts it)"

    async def _start(self, service: Service, attempts: int = 20) -> None:
        """Start ``service`` again until it is ready. A start can fail while the killed
        process is a zombie not yet reaped (Postgres then finds its lock file's pid
        alive: "lock file postmaster.pid already exists", seen in a trial), or while
        its detached children still hold its shared memory: try again a second later."""
        for _ in range(attempts):
            await asyncio.to_thread(service.start)

            def ready_or_dead() -> bool:
                return service.process.pid() is None or service.is_ready()

            await asyncio.to_thread(wait_until, ready_or_dead, 180.0)
            if service.process.pid() is not None and service.is_ready():
                return
            await asyncio.sleep(1.0)
        raise ServiceError(f"{service.name} not ready again: {service.process.log_tail()}")
