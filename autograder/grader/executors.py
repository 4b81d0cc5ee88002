"""Where submissions are graded: in this process, in a pool of local grading processes, or elsewhere.

A :class:`GradingTask` is plain, picklable data naming one submission; :func:`run_task` grades it
in whatever trusted grading process runs it (each grading process starts its own sandboxed workers
for student code). Executors hand results back as they finish, in any order; the batch stores each
one before it reports it. Pickle only ever travels between grading processes, never from a worker.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os
import signal
import time
from collections.abc import Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from autograder.grader import sandbox
from autograder.grader.assignment import load_assignment
from autograder.grader.feedback import write_feedback
from autograder.grader.grading import grade_notebook
from autograder.grader.results import SubmissionResult
from autograder.worker import confine


@dataclass(frozen=True)
class GradingTask:
    submission: str
    path: str
    slug: str
    course: str  # the course folder (assignments/ and reference/)
    digest: str  # content hash of the file when the batch found it
    problem: str | None = None  # set when the file must not be read (the message says why)
    feedback_out: str | None = None  # write feedback pages under this --out folder (local processes only)


def run_task(task: GradingTask) -> SubmissionResult:
    """Grade one submission; runs in a grading process (this one, a pool process, a Dask worker).

    Feedback pages are written here too when asked (three files per submission, and the submitted notebook
    read again for its annotated copy): work for the parallel grading processes, not for the batch process
    that stores results.
    """
    assignment = load_assignment(task.slug, Path(task.course))
    result = grade_notebook(Path(task.path), task.submission, assignment, problem=task.problem)
    if task.feedback_out is not None:
        write_feedback(Path(task.feedback_out), result, assignment, notebook=Path(task.path))
    return result


GRADING_PROCESS_DIED = ("Grading this notebook ended the grading process twice (for example by making the grader "
                        "build more than the memory it has), so it was not graded. Ask your instructor to look at it.")


class Executor(Protocol):
    def results(self, tasks: Iterable[GradingTask]) -> Iterator[tuple[GradingTask, SubmissionResult]]:
        """Grade ``tasks``; yield each with its result as soon as it is done."""

    def close(self) -> None:
        """Stop: drop tasks not started, end grading processes (a worker never outlives its grader)."""


class InProcess:
    """Grades one submission at a time in this process (``--jobs 1``, tests, ``autograder check``)."""

    def results(self, tasks: Iterable[GradingTask]) -> Iterator[tuple[GradingTask, SubmissionResult]]:
        for task in tasks:
            yield task, run_task(task)

    def close(self) -> None:
        pass


_batch_process = 0


def _start_grading_process(batch_process: int) -> None:
    global _batch_process
    _batch_process = batch_process
    # Ctrl-C goes to the whole terminal process group; the batch decides how to stop, not each process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # If the batch process dies (even by SIGKILL), this process and with it its workers die too.
    confine.set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != _batch_process:  # it died before the line above took effect
        os._exit(1)
    sandbox.zygote()  # ready before the first submission arrives


class LocalPool:
    """``jobs`` grading processes on this machine, each grading one submission at a time."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        # spawn: pool processes start clean (no copy of this process's threads or open gradebook) and
        # are children of this process, so they can die with it (a fork server would outlive it).
        self._pool = self._new_pool()

    def _new_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")
        return concurrent.futures.ProcessPoolExecutor(
            self.jobs, mp_context=context, initializer=_start_grading_process, initargs=(os.getpid(),))

    def results(self, tasks: Iterable[GradingTask]) -> Iterator[tuple[GradingTask, SubmissionResult]]:
        # A window of tasks in flight, each future dropped once its result is handed on: a future keeps
        # its result, so submitting a whole batch at once kept every result of it in this process.
        queue = iter(tasks)
        pending: dict[concurrent.futures.Future, GradingTask] = {}
        suspects: list[GradingTask] = []  # in flight when a grading process died: graded again one by one

        def fill() -> None:
            while len(pending) < 2 * self.jobs and (task := next(queue, None)) is not None:
                pending[self._pool.submit(run_task, task)] = task

        fill()
        while pending or suspects:
            if not pending:
                task = suspects.pop(0)
                yield task, self._grade_alone(task)
                fill()
                continue
            done, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    # A grading process died (killed for memory, say): every task in flight is lost with the
                    # pool. Which one did it is unknown, so each is graded again on its own.
                    suspects += [task, *pending.values()]
                    pending.clear()
                    self._restart()
                    break
                fill()
                yield task, result

    def _grade_alone(self, task: GradingTask) -> SubmissionResult:
        """Grade ``task`` in a grading process of its own; if that process dies too, the submission gets
        a stored result saying so, and the batch goes on (a re-run reuses it instead of dying again)."""
        alone = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                                       initializer=_start_grading_process,
                                                       initargs=(os.getpid(),))
        try:
            return alone.submit(run_task, task).result()
        except BrokenProcessPool:
            return run_task(dataclasses.replace(task, problem=GRADING_PROCESS_DIED, feedback_out=None))
        finally:
            alone.shutdown(wait=True, cancel_futures=True)

    def _restart(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._new_pool()

    def close(self) -> None:
        processes = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        # Idle processes exit at once (and close their spare workers); one still grading after an
        # interruption is killed, and its submission is graded again on the next run.
        deadline = time.monotonic() + 2
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) or 1


def local_executor(jobs: int | None) -> Executor:
    jobs = default_jobs() if jobs is None else jobs
    return InProcess() if jobs <= 1 else LocalPool(jobs)
