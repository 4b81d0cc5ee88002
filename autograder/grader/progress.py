"""Progress of a batch: a live bar on a terminal, a plain line every few seconds in logs, or nothing."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressReport:
    """Counts finished submissions and shows done/total, rate and time left.

    On a terminal the bar is redrawn in place at most ten times a second; elsewhere (CI logs) one
    line is written every ``log_every`` seconds and one at the end, so logs stay short.
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, quiet: bool = False,
                 log_every: float = 5.0, clock=time.monotonic) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.interactive = not quiet and self.stream.isatty()
        self.log_every = log_every
        self.clock = clock
        self.done = self.reused = self.failed = 0
        self._started = clock()
        self._last_drawn = float("-inf")

    def advance(self, *, reused: bool = False, problem: bool = False) -> None:
        self.done += 1
        self.reused += reused
        self.failed += problem
        self._show(final=self.done == self.total)

    def line(self) -> str:
        elapsed = max(self.clock() - self._started, 1e-9)
        graded = self.done - self.reused
        rate = graded / elapsed
        left = self.total - self.done
        eta = f", about {_duration(left / rate)} left" if rate > 0 and left else ""
        extra = f", {self.reused} unchanged" if self.reused else ""
        extra += f", {self.failed} could not run" if self.failed else ""
        return f"{self.done}/{self.total} submissions ({rate:.1f}/s{extra}{eta})"

    def _show(self, final: bool) -> None:
        if self.quiet:
            return
        now = self.clock()
        if self.interactive:
            if final or now - self._last_drawn >= 0.1:
                self._last_drawn = now
                width = 30
                filled = int(width * self.done / max(self.total, 1))
                self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.line()}\033[K")
                if final:
                    self.stream.write("\n")
                self.stream.flush()
        elif final or now - self._last_drawn >= self.log_every:
            self._last_drawn = now
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def interrupted(self) -> None:
        if self.interactive:
            self.stream.write("\n")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
