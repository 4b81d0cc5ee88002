"""Starting a worker process: its command line, environment, working folder and resource limits."""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import itertools
import json
import multiprocessing.util
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from autograder.grader import protections
from autograder.grader.uids import UidLease
from autograder.grader.worker_view import SYSTEM_READ_PATHS, WorkerView, worker_view
from autograder.worker import confine
from autograder.worker.cleanup import remove_tree

# Variables a worker gets; everything else of the grader's environment (tokens, paths to the
# gradebook) stays out of reach of student code.
_SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Budgets:
    """Per-assignment limits; defaults suit the small problems of these assignments."""

    notebook_seconds: float = 60.0
    call_seconds: float = 10.0
    test_seconds: float = 60.0  # one whole test: its calls and the grader's checks of their results
    memory_mb: int = 2048
    max_restarts: int = 3
    file_size_mb: int = 16
    cpu_seconds: int = 600


FOLDER_PREFIX = "autograder-zygote-"


def remove_stale_folders(temporary: Path) -> None:
    """Remove the folders of zygotes whose grading process is gone (killed with SIGKILL, say).

    Each folder is named after the pid of the process that made it; without bubblewrap it holds what
    students' code wrote, so a grader that keeps being killed would otherwise fill /tmp.
    """
    for folder in temporary.glob(f"{FOLDER_PREFIX}*-*"):
        owner = folder.name.removeprefix(FOLDER_PREFIX).split("-", 1)[0]
        if owner.isdigit() and not _process_exists(int(owner)):
            remove_tree(folder)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGALRM (a test's time budget, see :mod:`autograder.grader.suite`) until the block is done:
    an exception in the middle of talking to the zygote or releasing a uid would leave either half done."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class WorkerSetupFailed(RuntimeError):
    """A worker could not be started or confined: a fault of the grader's machine, never of a student.
    Grading stops with the message rather than give anyone a grade for it."""


class ZygoteFailed(WorkerSetupFailed):
    """The sandboxed parent of workers could not be started or stopped answering."""


class Zygote:
    """One sandboxed parent of workers per grading process (see :mod:`autograder.worker.zygote`).

    Under bubblewrap it sees only the folders its Python needs (read-only, with reference solutions
    and assignments covered), a size-capped tmpfs at :data:`SCRATCH` (one folder per child) and its
    own /proc; it has no network and dies with the grader. Its children switch to a uid of their
    own and apply Landlock and seccomp before the first student cell (:mod:`autograder.worker.confine`).
    """

    def __init__(self) -> None:
        self.protections = protections.detect()
        protections.warn_once()
        remove_stale_folders(Path(tempfile.gettempdir()))
        # The zygote's log: only the grader reads it (mkdtemp makes the folder 0700).
        self.host_folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
        self.scratch_folder: Path | None = None
        if self.protections.bwrap:
            self.scratch_root = SCRATCH
        else:
            # The workers' scratch folders, without a bubblewrap tmpfs: a folder of its own that every
            # worker uid may enter but not list (each makes its own 0700 folder inside).
            self.scratch_folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-scratch-"))
            self.scratch_folder.chmod(0o711)
            self.scratch_root = str(self.scratch_folder)
        self.view = worker_view()
        grader_end, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control = grader_end
        environment = {
            "PATH": "/usr/bin:/bin", "HOME": self.scratch_root, "LANG": "C.UTF-8", "TMPDIR": self.scratch_root,
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": self.scratch_root, "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1", **_SINGLE_THREADED,
        }
        command = [sys.executable, "-I", "-m", "autograder.worker.zygote", str(zygote_end.fileno())]
        if self.protections.bwrap:
            command = [*_bwrap_arguments(self.protections.bwrap, self.view, environment), "--", *command]
        log = open(self.host_folder / "zygote.log", "wb")  # noqa: SIM115 - handed to the child
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                cwd=self.host_folder if self.protections.bwrap else self.scratch_root, env=environment,
                pass_fds=(zygote_end.fileno(),), start_new_session=True, preexec_fn=_limit_zygote,
            )
        finally:
            log.close()
            zygote_end.close()
        self._children = itertools.count(1)
        self._lock = threading.Lock()

    def alive(self) -> bool:
        return self.process.poll() is None

    def spawn(self, read_fd: int, write_fd: int, confinement: confine.Confinement, budgets: Budgets,
              preload: tuple[str, ...] = ()) -> tuple[int, str]:
        """Fork a worker serving on ``read_fd``/``write_fd``; returns its pid (as the zygote sees it).
        ``preload``: packages the notebook imports, for the zygote to import first (once, for every worker)."""
        scratch = f"{self.scratch_root}/{next(self._children)}"
        if confinement.landlock_read or confinement.landlock_write:
            confinement = dataclasses.replace(confinement, landlock_write=[scratch, "/dev/null"])
        request = {"op": "spawn", "scratch": scratch, "confinement": confinement.to_json(),
                   "limits": _worker_limits(budgets), "preload": list(preload)}
        reply = self._ask(request, fds=[read_fd, write_fd])
        return int(reply["pid"]), scratch

    def kill(self, pid: int) -> int:
        """End the child ``pid``; returns its exit status (negative: the signal that ended it)."""
        return int(self._ask({"op": "kill", "pid": pid})["status"])

    def _ask(self, request: dict, fds: list[int] | None = None) -> dict:
        self.control.settimeout(_ZYGOTE_SECONDS)
        try:
            with self._lock, signals_deferred():  # one question and its whole answer at a time
                socket.send_fds(self.control, [json.dumps(request).encode()], fds or [])
                reply = self.control.recv(1 << 16)
        except OSError as error:
            raise ZygoteFailed(f"the sandboxed worker parent stopped answering ({error}); "
                               f"its log: {self.log_tail()}") from None
        if not reply:
            raise ZygoteFailed(f"the sandboxed worker parent exited; its log: {self.log_tail()}")
        return json.loads(reply)

    def log_tail(self, limit: int = 2000) -> str:
        try:
            return (self.host_folder / "zygote.log").read_bytes()[-limit:].decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.control.close()
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for folder in (self.host_folder, self.scratch_folder):
            if folder is not None:
                remove_tree(folder)


_zygote: Zygote | None = None
_ZYGOTE_SECONDS = 30.0


def start_early() -> None:
    """Start this process's zygote now, for a command that grades one notebook (``autograder check``, a
    Gradescope run): it starts in the background while the grader imports pytest and the rest, instead
    of after. Call it after the course is loaded (its folders are hidden from the zygote from the start)."""
    zygote()


def zygote() -> Zygote:
    """This process's zygote, started on first use, and again if it died, the protections changed or a
    course loaded since must be hidden from it."""
    global _zygote
    if (_zygote is None or not _zygote.alive() or _zygote.protections != protections.detect()
            or _zygote.view != worker_view()):
        if _zygote is not None:
            _zygote.close()
        else:
            atexit.register(_close_zygote)
            # A multiprocessing pool process ends with os._exit, skipping atexit; its finalizers still run.
            multiprocessing.util.Finalize(None, _close_zygote, exitpriority=10)
        _zygote = Zygote()
    return _zygote


def _close_zygote() -> None:
    global _zygote
    if _zygote is not None:
        _zygote.close()
        _zygote = None


class WorkerProcess:
    """One submission's worker, forked by the zygote: the grader's ends of its two pipes."""

    def __init__(self, budgets: Budgets, preload: tuple[str, ...] = ()) -> None:
        parent = zygote()
        self.protections = parent.protections
        self.uid_lease = UidLease() if self.protections.uid_switch else None
        to_worker_read, self.to_worker = os.pipe()
        self.from_worker, from_worker_write = os.pipe()
        confinement = confine.Confinement(
            uid=self.uid_lease.uid if self.uid_lease else None,
            max_processes=_MAX_PROCESSES if self.uid_lease else None,
            landlock_read=parent.view.landlock_reads() if self.protections.landlock_abi else [],
            landlock_write=["/dev/null"] if self.protections.landlock_abi else [],
            seccomp=self.protections.seccomp,
        )
        self._zygote = parent
        self._status: int | None = None
        try:
            self.pid, self.scratch = parent.spawn(to_worker_read, from_worker_write, confinement, budgets, preload)
        except BaseException:
            self._release_uid()
            for fd in (self.to_worker, self.from_worker):
                os.close(fd)
            raise
        finally:
            os.close(to_worker_read)
            os.close(from_worker_write)

    def alive(self) -> bool:
        return self._status is None and self._zygote.alive()

    def kill(self) -> None:
        """Stop the worker and everything it started; safe to call more than once."""
        with signals_deferred():  # a test's budget running out must not leave a uid leased or a worker alive
            self._kill()

    def _kill(self) -> None:
        if self._status is None:
            try:
                self._status = self._zygote.kill(self.pid)
            except ZygoteFailed:
                self._status = -int(signal.SIGKILL)
                self._zygote.close()  # the next worker gets a fresh zygote
        self._release_uid()  # also kills anything left running as its uid

    def _release_uid(self) -> None:
        if self.uid_lease is not None:
            self.uid_lease.release()
            self.uid_lease = None

    def exit_description(self) -> str:
        self.kill()
        code = self._status if self._status is not None else 0
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            if -code == signal.SIGXCPU:
                return f"it used up its CPU time ({name})"
            return f"it was ended by signal {name}"
        return f"it exited with status {code}"

    def setup_log(self) -> str:
        """The end of the zygote's log: set-up failures are written there (workers' own output is not)."""
        return self._zygote.log_tail(1000).strip() or "empty"

    def close(self) -> None:
        self.kill()
        for fd in (self.to_worker, self.from_worker):
            with contextlib.suppress(OSError):
                os.close(fd)


def start_worker(budgets: Budgets, preload: tuple[str, ...] = ()) -> WorkerProcess:
    """A fresh worker for one submission (a worker never serves two); ``preload``: see Zygote.spawn."""
    return WorkerProcess(budgets, preload)


# What the zygote can preload (autograder.worker.zygote._ON_REQUEST), found in a notebook's own import lines.
_PRELOADABLE = re.compile(r"^\s*(?:import|from)\s+(matplotlib|pandas|scipy)\b|^\s*%matplotlib\b", re.MULTILINE)


def imported_packages(sources: list[str], allowed: tuple[str, ...]) -> tuple[str, ...]:
    """The preloadable packages among ``allowed`` that these cells import (a guess from their text:
    a wrong guess costs time, never a grade, as the worker imports what it needs either way)."""
    found = set()
    for source in sources:
        for match in _PRELOADABLE.finditer(source):
            found.add(match.group(1) or "matplotlib")
    return tuple(sorted(name for name in found if name in allowed))


SCRATCH = "/scratch"
_SCRATCH_MB = 256  # the zygote's tmpfs, shared by its children one after another
_MAX_PROCESSES = 64  # threads count too; the worker itself needs one


def _bwrap_arguments(bwrap: str, view: WorkerView, environment: dict[str, str]) -> list[str]:
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
                  "--size", str(_SCRATCH_MB * 2**20), "--perms", "0711", "--tmpfs", SCRATCH,
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


def _worker_limits(budgets: Budgets) -> dict[str, int]:
    """rlimits a forked worker sets on itself before student code (names of the resource module)."""
    mib = 2**20
    return {"RLIMIT_AS": budgets.memory_mb * mib, "RLIMIT_CPU": budgets.cpu_seconds,
            "RLIMIT_FSIZE": budgets.file_size_mb * mib, "RLIMIT_CORE": 0, "RLIMIT_NOFILE": 64}


def _limit_zygote() -> None:
    """Runs in the zygote's process before exec: no core dumps, and it dies with the grading process."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Die with the grading process even without bubblewrap (a killed grader leaves no worker behind).
    confine.set_parent_death_signal(signal.SIGKILL)
