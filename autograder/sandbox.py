"""Starting a worker process: its command line, environment, working folder and resource limits."""

from __future__ import annotations

import atexit
import contextlib
import json
import multiprocessing.util
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder import confine, protections
from autograder.uids import UidLease
from autograder.worker_view import SYSTEM_READ_PATHS, WorkerView, worker_view

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
    scratch_mb: int = 64  # size of the worker's writable tmpfs under bubblewrap


class WorkerProcess:
    """A started worker: its process, the grader's ends of the two pipes, and its scratch folder.

    Under bubblewrap the worker sees only the folders its Python needs (read-only, with reference
    solutions and assignments covered), a size-capped tmpfs at :data:`SCRATCH` and its own /proc;
    it has no network and dies with the grader. Inside, it switches to a uid of its own and applies
    Landlock and seccomp before the first student cell (:mod:`autograder.confine`).
    """

    def __init__(self, budgets: Budgets) -> None:
        self.protections = protections.detect()
        protections.warn_once()
        self.host_folder = Path(tempfile.mkdtemp(prefix="autograder-worker-"))  # log; scratch if no bwrap
        self.uid_lease = UidLease() if self.protections.uid_switch else None
        to_worker_read, self.to_worker = os.pipe()
        self.from_worker, from_worker_write = os.pipe()
        view = worker_view()
        if self.protections.bwrap:
            scratch = SCRATCH
        else:
            scratch = str(self.host_folder / "scratch")
            os.mkdir(scratch, 0o700)
            if self.uid_lease:
                os.chown(scratch, self.uid_lease.uid, self.uid_lease.uid)
        confinement = confine.Confinement(
            uid=self.uid_lease.uid if self.uid_lease else None,
            max_processes=_MAX_PROCESSES if self.uid_lease else None,
            landlock_read=[*view.split(), *SYSTEM_READ_PATHS, "/dev"] if self.protections.landlock_abi else [],
            landlock_write=[scratch, "/dev/null"] if self.protections.landlock_abi else [],
            seccomp=self.protections.seccomp,
        )
        environment = {
            "PATH": "/usr/bin:/bin", "HOME": scratch, "LANG": "C.UTF-8", "TMPDIR": scratch,
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": scratch, "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1", **_SINGLE_THREADED,
        }
        command = [sys.executable, "-I", "-m", "autograder.worker", str(to_worker_read), str(from_worker_write),
                   json.dumps(confinement.to_json())]
        if self.protections.bwrap:
            command = [*_bwrap_arguments(self.protections.bwrap, view, budgets, environment), "--", *command]
        log = open(self.host_folder / "worker.log", "wb")  # noqa: SIM115 - handed to the child
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                cwd=self.host_folder if self.protections.bwrap else scratch,
                env=environment, pass_fds=(to_worker_read, from_worker_write), start_new_session=True,
                preexec_fn=lambda: _limit_resources(budgets),
            )
        except BaseException:
            self._release_uid()
            raise
        finally:
            log.close()
            os.close(to_worker_read)
            os.close(from_worker_write)

    def kill(self) -> None:
        """Stop the worker and everything it started; safe to call more than once."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._release_uid()  # also kills what escaped the process group (setsid) under the reduced profile

    def _release_uid(self) -> None:
        if self.uid_lease is not None:
            self.uid_lease.release()
            self.uid_lease = None

    def exit_description(self) -> str:
        code = self.process.wait()
        if self.protections.bwrap and code > 128:  # bubblewrap reports a signal as 128 + its number
            code = -(code - 128)
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            if -code == signal.SIGXCPU:
                return f"it used up its CPU time ({name})"
            return f"it was ended by signal {name}"
        return f"it exited with status {code}"

    def log_tail(self, limit: int = 2000) -> str:
        """The end of what the worker printed outside student cells (start-up errors), for messages."""
        try:
            return (self.host_folder / "worker.log").read_bytes()[-limit:].decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self) -> None:
        self.kill()
        for fd in (self.to_worker, self.from_worker):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.host_folder, ignore_errors=True)


_spares: dict[Budgets, WorkerProcess] = {}
_keep_spares = False


def keep_spare_workers() -> None:
    """From now on, keep one started worker ready for the next submission (for grading processes
    that grade many submissions; the spare's start-up overlaps the current submission's tests)."""
    global _keep_spares
    if not _keep_spares:
        _keep_spares = True
        atexit.register(_close_spares)
        # A multiprocessing pool process ends with os._exit, skipping atexit; its finalizers still run.
        multiprocessing.util.Finalize(None, _close_spares, exitpriority=10)


def start_worker(budgets: Budgets) -> WorkerProcess:
    """A fresh worker for one submission: the spare if there is one, and a new spare behind it."""
    if not _keep_spares:
        return WorkerProcess(budgets)
    worker = _spares.pop(budgets, None)
    if worker is None or worker.process.poll() is not None:
        if worker is not None:
            worker.close()
        worker = WorkerProcess(budgets)
    _spares[budgets] = WorkerProcess(budgets)
    return worker


def _close_spares() -> None:
    for worker in _spares.values():
        worker.close()
    _spares.clear()


SCRATCH = "/scratch"
_MAX_PROCESSES = 64  # threads count too; the worker itself needs one


def _bwrap_arguments(bwrap: str, view: WorkerView, budgets: Budgets, environment: dict[str, str]) -> list[str]:
    arguments = [bwrap, *protections.namespace_arguments()]
    made: set[str] = set()
    for path in [*SYSTEM_READ_PATHS, *view.read_paths]:
        if not os.path.lexists(path):
            continue
        arguments += _parent_folders(path, made)
        if os.path.islink(path) and os.path.dirname(path) == "/":  # /lib -> usr/lib on merged-/usr systems
            arguments += ["--symlink", os.readlink(path), path]
        else:
            arguments += ["--ro-bind", path, path]
    for secret in view.hidden:  # later mounts cover earlier ones
        arguments += ["--tmpfs", secret]
    arguments += ["--proc", "/proc", "--dev", "/dev",
                  "--size", str(budgets.scratch_mb * 2**20), "--perms", "1777", "--tmpfs", SCRATCH,
                  "--chdir", SCRATCH]
    for name, value in environment.items():
        arguments += ["--setenv", name, value]
    return arguments


def _parent_folders(path: str, made: set[str]) -> list[str]:
    """``--dir`` for each missing parent, world-traversable: bubblewrap would make them mode 0700."""
    arguments = []
    for parent in reversed(Path(path).parents):
        name = str(parent)
        if name != "/" and name not in made:
            made.add(name)
            arguments += ["--perms", "0755", "--dir", name]
    return arguments


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
    # Die with the grading process even without bubblewrap (a killed grader leaves no worker behind).
    confine.set_parent_death_signal(signal.SIGKILL)
