"""Grading on a Dask cluster (``autograder grade --scheduler tcp://HOST:PORT``).

Each submission becomes one Dask task that carries the notebook's bytes, so worker hosts need no
shared filesystem with the instructor's machine: only this package (and a copy of the same course folder) and,
for the full sandbox, bubblewrap. A task's key is derived from the assignment, its suite version, the
submission id and the file's digest, so the same submission handed in twice while the first is still
queued or running is graded once.

A Dask worker that dies mid-task costs a retry, not a result: the scheduler reschedules the tasks of
a lost worker (up to ``distributed.scheduler.allowed-failures`` times, then the task fails with
``KilledWorker``), and ``retries=`` re-runs a task that raised. Each finished future is yielded
once; the gradebook's primary key (assignment, submission) is the backstop against double rows.
"""

from __future__ import annotations

import socket
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import CancelledError
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distributed import Client, Future, KilledWorker, as_completed, get_worker

from autograder.grader.assignment import Assignment, load_assignment
from autograder.grader.executors import GradingTask
from autograder.grader.grading import grade_notebook
from autograder.grader.notebook import MAX_NOTEBOOK_BYTES, NotebookError, read_code_cells
from autograder.grader.results import SubmissionResult

CONNECT_SECONDS = 10
RETRIES = 2
HOW_TO_START = ("Start a scheduler with `dask scheduler` (it prints its address, tcp://HOST:8786) and, on each "
                "grading host with this package, the course folder and bubblewrap installed, "
                "`dask worker tcp://HOST:8786 --nworkers auto --nthreads 1`; or grade on this machine without "
                "--scheduler.")


class DaskGradingError(Exception):
    """Grading on the cluster cannot go on; the message says what to do."""


class SchedulerUnreachable(DaskGradingError):
    pass


class SuiteMismatch(DaskGradingError):
    """A worker host's copy of the assignment (or of the grader) differs from the instructor's."""


@dataclass(frozen=True)
class RemoteTask:
    """A :class:`GradingTask` plus what a worker host cannot read from the instructor's disk."""

    task: GradingTask
    notebook: bytes | None  # None when ``task.problem`` says why the file is not graded
    suite_version: str  # the grader's; a worker with another copy of the suite refuses the task


# pytest runs the suite in the grading process and is not thread-safe (sys.modules, os.environ), so a
# Dask worker process grades one submission at a time, however many threads it has.
_one_at_a_time = threading.Lock()


def grade_remote(remote: RemoteTask) -> SubmissionResult:
    """Runs in a Dask worker: write the notebook to a private temporary file, grade it, delete it."""
    task = remote.task
    with _one_at_a_time:
        assignment = _local_assignment(task.slug, task.course)
        if assignment.suite_version != remote.suite_version:
            raise SuiteMismatch(
                f"The Dask worker on {socket.gethostname()} has a different copy of the assignment {task.slug!r} "
                f"or of the grader (suite version {assignment.suite_version}; the instructor's is "
                f"{remote.suite_version}). Install the same version of gd-autograder and a copy of the same "
                "course folder (at the same path, or named by $AUTOGRADER_COURSE) on every worker host, then "
                "restart its workers.")
        with tempfile.TemporaryDirectory(prefix="autograder-dask-", dir=_scratch_root()) as folder:
            path = Path(folder) / "submission.ipynb"
            if remote.notebook is not None:
                path.write_bytes(remote.notebook)
            return grade_notebook(path, task.submission, assignment, problem=task.problem)


def _scratch_root() -> str | None:
    # The Dask worker's own folder: Dask removes it when the worker stops, and a new worker on the host
    # purges the folders of killed ones, so a worker killed mid-task leaves nothing behind in /tmp.
    try:
        return get_worker().local_directory
    except ValueError:  # not in a Dask worker (tests call grade_remote directly)
        return None


def _local_assignment(slug: str, course: str) -> Assignment:
    # The instructor's course folder when this host sees it too (same machine, shared disk), else this
    # host's own ($AUTOGRADER_COURSE, or the worker's current folder).
    root = Path(course) if (Path(course) / "assignments" / slug).is_dir() else None
    return load_assignment(slug, root)


def remote_task(task: GradingTask, suite_version: str) -> RemoteTask:
    """Read the notebook here, on the instructor's machine, so the task carries its content."""
    if task.problem is not None:
        return RemoteTask(task, None, suite_version)
    path = Path(task.path)
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            read_code_cells(path)  # raises the message a student gets for an oversized notebook
        return RemoteTask(task, path.read_bytes(), suite_version)
    except NotebookError as error:
        problem = str(error)
    except OSError as error:
        problem = f"The file could not be read ({error.strerror})."
    return RemoteTask(GradingTask(task.submission, task.path, task.slug, task.course, task.digest, problem),
                      None, suite_version)


def task_key(task: GradingTask, suite_version: str) -> tuple[str, ...]:
    """The same submission with the same content under the same suite is one Dask task."""
    return ("autograder-grade", task.slug, suite_version, task.submission, task.digest)


class DaskExecutor:
    """Grades on the Dask cluster whose scheduler listens at ``address``, streaming results back."""

    def __init__(self, address: str, *, retries: int = RETRIES, connect_seconds: float | None = None) -> None:
        self.address = address
        self.retries = retries
        try:
            self.client = Client(address, timeout=connect_seconds or CONNECT_SECONDS, set_as_default=False)
        except (OSError, ValueError, TimeoutError) as error:
            raise SchedulerUnreachable(f"Cannot reach a Dask scheduler at {address} ({error}). "
                                       f"{HOW_TO_START}") from None
        self._pending: dict[Any, tuple[GradingTask, Future]] = {}  # by Dask key: on the cluster now
        self._versions: dict[tuple[str, str | None], str] = {}

    def worker_threads(self) -> int:
        """Threads of the workers connected now (each worker process grades one submission at a time)."""
        return sum(self.client.nthreads().values())

    def worker_processes(self) -> int:
        return len(self.client.nthreads())

    def results(self, tasks: Iterable[GradingTask]) -> Iterator[tuple[GradingTask, SubmissionResult]]:
        queue = iter(tasks)
        # Only a window of tasks is on the cluster at once: notebook bytes of a large batch stay on disk
        # until a worker is about to need them, and the grader's memory stays flat.
        window = max(64, 4 * self.worker_threads())
        completed = as_completed(loop=self.client.loop)
        delivered: set[str] = set()
        lost: list[GradingTask] = []

        def submit_next() -> None:
            task = next(queue, None)
            if task is None:
                return
            version = self._suite_version(task)
            future = self.client.submit(grade_remote, remote_task(task, version), key=task_key(task, version),
                                        pure=False, retries=self.retries)
            self._pending[future.key] = (task, future)
            completed.add(future)

        for _ in range(window):
            submit_next()
        for future in completed:
            task, _ = self._pending.pop(future.key)
            try:
                result = future.result()
            except KilledWorker:
                lost.append(task)  # its workers kept dying: leave it ungraded, a re-run tries again
                result = None
            except CancelledError:
                raise DaskGradingError(f"The Dask task grading {task.submission} was cancelled (the connection to "
                                       f"the scheduler at {self.address} was lost, or the cluster was restarted). "
                                       "Every result received so far is stored: run the same command again to "
                                       "grade the rest.") from None
            future.release()
            submit_next()
            if result is None or task.submission in delivered:  # never report one submission twice
                continue
            delivered.add(task.submission)
            yield task, result
        if lost:
            names = ", ".join(task.submission for task in lost[:10]) + (" ..." if len(lost) > 10 else "")
            raise DaskGradingError(
                f"{len(lost)} submission(s) were not graded because the Dask workers running them died several "
                f"times ({names}). Check the workers' logs and memory limits, then run the same command again: "
                "every other result is stored.")

    def _suite_version(self, task: GradingTask) -> str:
        where = (task.slug, task.course)
        if where not in self._versions:
            self._versions[where] = load_assignment(task.slug, Path(task.course)).suite_version
        return self._versions[where]

    def close(self) -> None:
        """Cancel what is queued or running for this batch and disconnect (the cluster stays up)."""
        pending = [future for _, future in self._pending.values()]
        self._pending.clear()
        try:
            if pending:
                self.client.cancel(pending)
        finally:
            self.client.close()


def worker_count_note(executor: DaskExecutor) -> str | None:
    """A line for the instructor when no worker has joined the scheduler yet (tasks would just wait)."""
    if executor.worker_processes() == 0:
        return (f"note: no Dask worker is connected to {executor.address} yet; grading starts when one joins "
                "(`dask worker ADDRESS --nworkers auto --nthreads 1` on a grading host).")
    return None

