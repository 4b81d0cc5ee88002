"""Dedicated uids for workers: one per concurrent worker on this machine, never shared while in use.

A uid is held by an exclusive ``flock`` on a file named after it, so grading processes started
independently (``--jobs``, several batches, Dask workers on one host) never hand out the same uid
twice. The lock goes away with the holder, even when it is killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
from pathlib import Path

FIRST_UID = 61000  # far above the uids Debian gives to people (1000+) and below nobody (65534)
COUNT = 512
# One fixed folder for the whole machine (not $TMPDIR): every grading process must see the same locks.
_LOCK_FOLDER = Path("/tmp/autograder-uids")


class UidExhausted(RuntimeError):
    pass


class UidLease:
    """An exclusive claim on one uid; :meth:`release` frees it (after its processes are gone)."""

    def __init__(self) -> None:
        _LOCK_FOLDER.mkdir(mode=0o700, exist_ok=True)
        for uid in range(FIRST_UID, FIRST_UID + COUNT):
            handle = os.open(_LOCK_FOLDER / str(uid), os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(handle)
                continue
            self.uid, self._handle = uid, handle
            kill_processes_of(uid)  # a worker of a killed grader may have left something behind
            return
        raise UidExhausted(f"all {COUNT} worker uids from {FIRST_UID} are in use; lower --jobs")

    def release(self) -> None:
        if self._handle is not None:
            kill_processes_of(self.uid)
            os.close(self._handle)
            self._handle = None


def kill_processes_of(uid: int) -> None:
    """SIGKILL every process whose real uid is ``uid`` (only workers ever run as these uids)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            if entry.stat().st_uid == uid:
                os.kill(int(entry.name), signal.SIGKILL)
