"""Progress of a long operator command: a rich progress bar (count, rate, ETA) on a
terminal, plain lines on anything else (a log file, a pipe, CI).

The plain form writes one line when the work starts, at most one every ``every_s``
while it runs, and one when it ends:
``rebuild: 1,200/10,000 events (12%), 400/s, ETA 22s``. Time comes from ``clock`` (a
monotonic clock by default), so that the lines can be checked exactly.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

PLAIN_EVERY_S = 5.0


class CommandProgress:
    """``with CommandProgress("rebuild", "events") as progress: progress.update(done,
    total)``; ``total`` None: unknown yet (no percentage, no ETA)."""

    def __init__(
        self,
        what: str,
        unit: str,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        every_s: float = PLAIN_EVERY_S,
    ) -> None:
        self._stream = sys.stderr if stream is None else stream
        self._view: _Bar | _Lines = (
            _Bar(what, unit, self._stream)
            if self._stream.isatty()
            else _Lines(what, unit, self._stream, clock, every_s)
        )

    def __enter__(self) -> CommandProgress:
        self._view.start()
        return self

    def update(self, done: int, total: int | None = None) -> None:
        self._view.update(done, total)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._view.stop()


class _Rate(ProgressColumn):
    """Units per second, as rich estimates it from the recent updates."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self._unit = unit

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f} {self._unit}/s")


class _Bar:
    def __init__(self, what: str, unit: str, stream: TextIO) -> None:
        self._progress = Progress(
            TextColumn(f"[bold]{what}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            _Rate(unit),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(file=stream),
        )
        self._task: TaskID | None = None

    def start(self) -> None:
        self._progress.start()
        self._task = self._progress.add_task("", total=None)

    def update(self, done: int, total: int | None) -> None:
        assert self._task is not None
        self._progress.update(self._task, completed=done, total=total)

    def stop(self) -> None:
        self._progress.stop()


class _Lines:
    def __init__(
        self, what: str, unit: str, stream: TextIO, clock: Callable[[], float], every_s: float
    ) -> None:
        self._what, self._unit, self._stream = what, unit, stream
        self._clock, self._every_s = clock, every_s
        self._started = self._last = 0.0
        self._done = 0
        self._total: int | None = None

    def start(self) -> None:
        self._started = self._last = self._clock()
        self._write(f"{self._what}: started")

    def update(self, done: int, total: int | None) -> None:
        self._done, self._total = done, total
        now = self._clock()
        if now - self._last >= self._every_s:
            self._last = now
            self._write(self._line(now))

    def stop(self) -> None:
        self._write(self._line(self._clock()) + " (done)" if self._done else f"{self._what}: done")

    def _line(self, now: float) -> str:
        elapsed = now - self._started
        rate = self._done / elapsed if elapsed > 0 else 0.0
        of = "" if self._total is None else f"/{self._total:,}"
        share = "" if not self._total else f" ({100 * self._done // self._total}%)"
        left = None if self._total is None or rate <= 0 else (self._total - self._done) / rate
        eta = "" if left is None else f", ETA {left:.0f}s"
        return f"{self._what}: {self._done:,}{of} {self._unit}{share}, {rate:,.0f}/s{eta}"

    def _write(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()
