"""Time limits inside the grading process, by the real-time interval timer (SIGALRM)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def raise_after(seconds: float | None, error: Callable[[], BaseException]) -> Iterator[None]:
    """Raise ``error()`` in the code run inside once ``seconds`` have passed.

    Only in the main thread, where a timer signal is delivered (elsewhere, and with no seconds, there is
    no limit: Dask's worker threads keep the workers' own per-call budgets). Limits nest: a timer already
    set that is due sooner is left to fire; a later one is set again afterwards, less the time spent."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    outer_remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    if outer_remaining and outer_remaining <= seconds:
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise error()

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_remaining:
            signal.setitimer(signal.ITIMER_REAL, max(outer_remaining - (time.monotonic() - started), 1e-3))
