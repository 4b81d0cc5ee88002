"""Starting a worker process: its command line, environment, working folder and resource limits."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Variables a worker gets; everything else of the grader's environment (tokens, paths to the
# gradebook) stays out of reach of student code.
_SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Budgets:
    """Per-assignment limits; defaults suit the small problems of these assignments."""

    notebook_seconds: float = 60.0
    call_seconds: float = 10.0
    memory_mb: int = 2048
    max_restarts: int = 3
    file_size_mb: int = 16
    cpu_seconds: int = 600


class WorkerProcess:
    """A started worker: its process, the grader's ends of the two pipes, and its scratch folder."""

    def __init__(self, budgets: Budgets) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="autograder-worker-"))
        to_worker_read, self.to_worker = os.pipe()
        self.from_worker, from_worker_write = os.pipe()
        environment = {
            "PATH": "/usr/bin:/bin", "HOME": str(self.scratch), "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(self.scratch), "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1", **_SINGLE_THREADED,
        }
        log = open(self.scratch / "worker.log", "wb")  # noqa: SIM115 - handed to the child
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-m", "autograder.worker", str(to_worker_read), str(from_worker_write)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.scratch, env=environment,
                pass_fds=(to_worker_read, from_worker_write), start_new_session=True,
                preexec_fn=lambda: _limit_resources(budgets),
            )
        finally:
            log.close()
            os.close(to_worker_read)
            os.close(from_worker_write)

    def kill(self) -> None:
        """Stop the worker and everything it started in its session; safe to call more than once."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def exit_description(self) -> str:
        code = self.process.wait()
        if code < 0:
            name = signal.Signals(-code).name
            if -code == signal.SIGXCPU:
                return f"it used up its CPU time ({name})"
            return f"it was ended by signal {name}"
        return f"it exited with status {code}"

    def close(self) -> None:
        self.kill()
        for fd in (self.to_worker, self.from_worker):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.scratch, ignore_errors=True)


def _limit_resources(budgets: Budgets) -> None:
    """Runs in the child before the worker starts: caps it whatever the student code does."""
    mib = 2**20
    limits = {
        resource.RLIMIT_AS: budgets.memory_mb * mib,
        resource.RLIMIT_CPU: budgets.cpu_seconds,
        resource.RLIMIT_FSIZE: budgets.file_size_mb * mib,
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_NOFILE: 64,
    }
    for which, value in limits.items():
        resource.setrlimit(which, (value, value))
