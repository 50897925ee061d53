"""Detached service processes: pid files identify them exactly, stop leaves nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bundlestream.settings import Settings
from bundlestream.stack.commands import up
from bundlestream.stack.process import ServiceError, ServiceProcess
from bundlestream.stack.redis import RedisServer
from bundlestream.stack.service import StackService
from tests.bounds import CONDITION_S


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_spawned_process_is_detached_and_stopped_with_its_children(tmp_path: Path) -> None:
    service = ServiceProcess("sleeper", tmp_path)
    # A shell with a child: stop must take the whole process group down.
    pid = service.spawn(["sh", "-c", "sleep 300 & echo child $!; wait"])
    assert service.pid() == pid
    assert os.getsid(pid) == pid  # its own session: no signal from our terminal reaches it
    assert service.stop()
    assert not alive(pid)
    assert service.pid() is None and not service.pid_file.exists()
    child = int(service.log_file.read_text().split("child ")[1].split()[0])
    assert not alive(child)


def test_a_recycled_pid_is_not_ours(tmp_path: Path) -> None:
    service = ServiceProcess("impostor", tmp_path)
    service.pid_file.parent.mkdir(parents=True)
    # Our own pid with a start time that is not ours: a reboot or recycled pid.
    service.pid_file.write_text(f"{os.getpid()} 1\n")
    assert service.pid() is None
    assert not service.stop()  # and so it is never signalled
    assert alive(os.getpid())


def test_up_refuses_a_port_held_by_a_foreign_process(
    settings: Settings, redis_url: str, tmp_path: Path
) -> None:
    # The running stack's Redis holds the port; a second stack must not adopt it.
    second = RedisServer(settings.updated(stack__dir=tmp_path))
    with pytest.raises(ServiceError, match="already in use"):
        up([second], timeout_s=CONDITION_S)
    assert second.process.pid() is None


class Sleeper(StackService):
    """A real detached process with no ports: ready once it runs."""

    name = "sleeper"

    def start(self) -> None:
        self.process.spawn(["sleep", "300"])


def test_a_taken_port_later_in_the_list_stops_what_up_already_started(
    settings: Settings, tmp_path: Path
) -> None:
    first = Sleeper(settings.updated(stack__dir=tmp_path / "a"))
    # The running stack's Redis holds this one's port.
    second = RedisServer(settings.updated(stack__dir=tmp_path / "b"))
    with pytest.raises(ServiceError, match="already in use"):
        up([first, second], timeout_s=10)
    assert first.process.pid() is None
    assert not first.process.pid_file.exists()
