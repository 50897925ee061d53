"""Detached service processes, identified by pid files under the stack directory.

A pid file holds the pid and the process start time (from /proc), so ``stop`` never
signals an unrelated process that happens to reuse a recorded pid after a reboot.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bundlestream.stack.detach import start_time


class ServiceError(RuntimeError):
    """A stack service could not be installed, started or stopped."""


@dataclass(frozen=True)
class RunAs:
    """The unprivileged account a service runs under when we are root."""

    uid: int
    gid: int
    home: str


@dataclass(frozen=True)
class ServiceProcess:
    """Where one service keeps its pid file and log inside the stack directory."""

    name: str
    stack_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.stack_dir / "run" / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.stack_dir / "logs" / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid of the running service, or None when it is not running."""
        try:
            pid_text, started = self.pid_file.read_text().split()
        except (FileNotFoundError, ValueError):
            return None
        pid = int(pid_text)
        return pid if _start_time(pid) == started else None

    def spawn(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        run_as: RunAs | None = None,
    ) -> int:
        """Start ``argv`` in its own session, adopted by init; returns its pid.

        Output goes to the log file; the pid file is written before this returns.
        """
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.unlink(missing_ok=True)
        identity = [] if run_as is None else [str(run_as.uid), str(run_as.gid)]
        detach = [sys.executable, "-m", "bundlestream.stack.detach", str(self.pid_file)]
        with self.log_file.open("ab") as log:
            result = subprocess.run(
                [*detach, *identity, "--", *argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=_child_env(env, run_as),
                check=False,
            )
        pid = self.pid()
        if result.returncode != 0 or pid is None:
            raise ServiceError(f"{self.name} did not start: {self.log_tail()}")
        return pid

    def stop(self, stop_signal: signal.Signals = signal.SIGTERM, timeout_s: float = 30.0) -> bool:
        """Stop the service and its whole process group; True when something was running.

        ``stop_signal`` goes to the group first (Postgres wants SIGINT, a fast shutdown);
        whatever is left after ``timeout_s``, or after the leader exits, gets SIGKILL.
        """
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal_group(pid, stop_signal)
        wait_until(lambda: not _alive(pid), timeout_s)
        # A pgid is never handed out as a new pid while its group has members, so this
        # reaches only stragglers of our own service.
        _signal_group(pid, signal.SIGKILL)
        # SIGKILL takes effect when each member next runs: under load a child can
        # outlive the leader by a moment. Return only once the whole group is gone.
        wait_until(lambda: not _group_alive(pid), 10.0)
        self.pid_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 30) -> str:
        """The end of the service log, for error messages."""
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def wait_until(ready: Callable[[], bool], timeout_s: float, interval_s: float = 0.25) -> bool:
    """Poll ``ready`` until it returns True or ``timeout_s`` passes; returns the last answer."""
    deadline = time.monotonic() + timeout_s
    while True:
        if ready():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


def run_checked(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    run_as: RunAs | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Run a set-up command to completion; raise ServiceError with its output on failure."""
    result = subprocess.run(
        list(argv),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        cwd=cwd,
        env=_child_env(env, run_as),
        check=False,
        user=_uid(run_as),
        group=_gid(run_as),
        extra_groups=_extra_groups(run_as),
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace")[-4000:]
        raise ServiceError(f"{' '.join(argv)} exited {result.returncode}:\n{output}")


def _uid(run_as: RunAs | None) -> int | None:
    return None if run_as is None else run_as.uid


def _gid(run_as: RunAs | None) -> int | None:
    return None if run_as is None else run_as.gid


def _extra_groups(run_as: RunAs | None) -> list[int] | None:
    # Dropping to another user must drop root's supplementary groups too.
    return None if run_as is None else []


def _child_env(env: Mapping[str, str] | None, run_as: RunAs | None) -> dict[str, str]:
    # Stack scripts may pass the environment on to their children (house rule).
    merged = dict(os.environ)
    if run_as is not None:
        merged["HOME"] = run_as.home
    merged.update(env or {})
    return merged


def _start_time(pid: int) -> str | None:
    try:
        return start_time(pid)
    except (FileNotFoundError, ProcessLookupError):
        return None


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _group_alive(pgid: int) -> bool:
    """True while any process of group ``pgid`` exists and is not a zombie."""
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = stat_file.read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        state, _ppid, group = stat[stat.rindex(")") + 2 :].split(maxsplit=3)[:3]
        if int(group) == pgid and state != "Z":
            return True
    return False


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError as exc:
        raise ServiceError(f"not allowed to signal process group {pid}") from exc
