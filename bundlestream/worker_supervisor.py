"""Keep N worker processes running: a worker that exits, whatever the reason, is started
again after a short backoff. ``bundlestream worker`` supervises the Faust workers with it,
``bundlestream api`` its one uvicorn process (``name`` says which in the log).

Workers end themselves on purpose (``crash_worker`` rather than skip a message, the stall
watchdog rather than hold partitions it no longer fetches) and can be killed; the
partitions they held go to the others and, once restarted, back to them. SIGTERM or
SIGINT stops the supervisor: it stops every worker (SIGTERM, then SIGKILL after
``STOP_TIMEOUT_S``) and starts none again. A worker is told to exit with SIGTERM if the
supervisor itself dies (Linux ``PR_SET_PDEATHSIG``), so none outlives it.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType

log = logging.getLogger(__name__)

RESTART_DELAY_S = 1.0  # after a worker's first exit
RESTART_DELAY_MAX_S = 30.0  # doubling per exit that follows a short run, up to this
STEADY_RUN_S = 60.0  # a worker that ran this long starts again after RESTART_DELAY_S
STOP_TIMEOUT_S = 30.0
_POLL_S = 0.2
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the supervisor dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class Slot:
    """One of the N places a worker runs in."""

    index: int
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float = 0.0
    quick_exits: int = 0

    def restart_delay(self, now: float) -> float:
        """Backoff after an exit: it doubles while workers keep dying young."""
        self.quick_exits = self.quick_exits + 1 if now - self.started_at < STEADY_RUN_S else 0
        return min(RESTART_DELAY_S * 2.0**self.quick_exits, RESTART_DELAY_MAX_S)


def _no_env(index: int) -> dict[str, str]:
    return {}


class Supervisor:
    """``env_of(index)``: environment variables of the process in slot ``index`` (1..N)
    besides the supervisor's own, e.g. a port of its own."""

    def __init__(
        self,
        command: Sequence[str],
        processes: int,
        name: str = "worker",
        env_of: Callable[[int], dict[str, str]] = _no_env,
    ) -> None:
        self.command = list(command)
        self.name = name
        self.env_of = env_of
        self.slots = [Slot(index) for index in range(1, processes + 1)]
        self.stopping = False

    def run(self) -> int:
        """Until SIGTERM/SIGINT; 0 once every worker has stopped."""
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            while not self.stopping:
                self._tend(time.monotonic())
                time.sleep(_POLL_S)
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        log.info("%s supervisor: %s, stopping the workers", self.name, signal.Signals(signum).name)
        self.stopping = True

    def _tend(self, now: float) -> None:
        for slot in self.slots:
            if slot.process is not None and slot.process.poll() is not None:
                delay = slot.restart_delay(now)
                log.warning(
                    "%s %d (pid %d) exited with status %s; starting another in %.0f s",
                    self.name,
                    slot.index,
                    slot.process.pid,
                    slot.process.returncode,
                    delay,
                )
                slot.process, slot.restart_at = None, now + delay
            if slot.process is None and now >= slot.restart_at and not self.stopping:
                slot.process = subprocess.Popen(
                    self.command,
                    preexec_fn=_die_with_parent,
                    env={**os.environ, **self.env_of(slot.index)},
                )
                slot.started_at = now
                log.info("%s %d started (pid %d)", self.name, slot.index, slot.process.pid)

    def _stop_all(self) -> None:
        running = [s.process for s in self.slots if s.process and s.process.poll() is None]
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.error("%s pid %d ignored SIGTERM; killing it", self.name, process.pid)
                process.kill()
                process.wait()
