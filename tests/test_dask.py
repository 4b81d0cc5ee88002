"""Grading on a Dask cluster: same results as local grading, and a worker killed mid-batch loses nothing."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

distributed = pytest.importorskip("distributed", reason="distributed (Dask) is not installed: pip install distributed")

from autograder.grader import dask_executor  # noqa: E402 - only once Dask is known to be there
from autograder.grader.assignment import Assignment, load_assignment  # noqa: E402
from autograder.grader.batch import SubmissionFile, discover, grade_batch  # noqa: E402
from autograder.grader.dask_executor import DaskExecutor, RemoteTask, SuiteMismatch, grade_remote, remote_task  # noqa: E402
from autograder.grader.executors import GradingTask  # noqa: E402
from autograder.grader.gradebook import Gradebook  # noqa: E402
from autograder.grader.results import SubmissionResult  # noqa: E402
from click_cli import main  # noqa: E402
from tests.conftest import COURSE  # noqa: E402

SOLUTIONS = Path(__file__).parent.parent / "assignments" / "gradient-descent" / "solutions"
CHOSEN = ["correct/vectorised", "correct/magics-and-timing", "correct/helper-defined-later", "buggy/sign-error-in-step",
          "buggy/forgot-learning-rate", "buggy/mutates-w0", "buggy/ignores-tol", "buggy/extra-iteration"]


def essentials(result: SubmissionResult) -> tuple:
    """What a student sees, without timings (printed output of %time cells varies from run to run)."""
    return (result.submission, result.score, result.max_score, result.problem,
            [(t.name, t.score, t.passed, t.output, t.visibility) for t in result.tests],
            [(c.index, c.error) for c in result.cells])


@pytest.fixture(scope="module")
def assignment() -> Assignment:
    return load_assignment("gradient-descent", COURSE)


@pytest.fixture(scope="module")
def batch_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("submissions")
    for name in CHOSEN:
        target = folder / f"{name}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SOLUTIONS / f"{name}.ipynb", target)
    return folder


@pytest.fixture(scope="module")
def expected(assignment, batch_folder, tmp_path_factory) -> dict[str, tuple]:
    """The same notebooks graded locally, in this process."""
    summary = grade_batch(assignment, discover([batch_folder]), tmp_path_factory.mktemp("local"))
    assert summary.graded == len(CHOSEN)
    return {result.submission: essentials(result) for result in summary.results()}


def new_cluster() -> distributed.LocalCluster:
    return distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0")


@pytest.fixture(scope="module")
def cluster():
    with new_cluster() as running:
        yield running


def stored(out: Path, slug: str) -> dict[str, tuple]:
    gradebook = Gradebook(out / "gradebook.sqlite")
    try:
        return {result.submission: essentials(result) for result in gradebook.results(slug)}
    finally:
        gradebook.close()


def row_count(out: Path) -> int:
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        return db.execute("SELECT COUNT(*) FROM results").fetchone()[0]


def test_grade_on_a_cluster_matches_local_grading(cluster, assignment, batch_folder, expected, tmp_path):
    out = tmp_path / "out"
    arguments = ["grade", "--assignment", assignment.slug, "--out", str(out), "--scheduler",
                 cluster.scheduler_address, str(batch_folder)]
    first = CliRunner().invoke(main, arguments, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert f"Graded {len(CHOSEN)}, reused 0" in first.output
    assert stored(out, assignment.slug) == expected
    assert row_count(out) == len(CHOSEN)
    again = CliRunner().invoke(main, arguments, catch_exceptions=False)
    assert again.exit_code == 0 and f"Graded 0, reused {len(CHOSEN)}" in again.output


def test_a_worker_killed_mid_task_costs_a_retry_not_a_result(assignment, batch_folder, expected, tmp_path):
    out = tmp_path / "out"
    killed: list[tuple] = []  # (pid, keys of the tasks it was running)
    with new_cluster() as running:
        executor = DaskExecutor(running.scheduler_address)
        pids = executor.client.run(os.getpid)

        def kill_a_busy_worker(item: SubmissionFile, result: SubmissionResult, reused: bool) -> None:
            if killed:
                return
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # a worker that is grading a submission right now
                busy = executor.client.run(lambda dask_worker: [task.key for task in dask_worker.state.executing])
                address = next((address for address, keys in busy.items() if keys), None)
                if address is not None:
                    os.kill(pids[address], signal.SIGKILL)
                    killed.append((pids[address], busy[address]))
                    return
                time.sleep(0.01)

        summary = grade_batch(assignment, discover([batch_folder]), out, progress=kill_a_busy_worker,
                              executor=executor)
        assert killed, "no worker was busy after the first result, so nothing was killed mid-task"
        [(_, keys)] = killed
        # The scheduler gave the interrupted task to a worker again.
        starts = [entry for entry in running.scheduler.story(*keys) if entry[2] == "processing"]
        assert len(starts) >= 2, starts
    assert (summary.graded, summary.reused, summary.interrupted) == (len(CHOSEN), 0, False)
    assert sorted(result.submission for result in summary.results()) == sorted(expected)
    assert row_count(out) == len(CHOSEN)
    assert stored(out, assignment.slug) == expected


def test_the_task_carries_the_notebook_so_workers_need_no_shared_files(assignment, tmp_path):
    notebook = (SOLUTIONS / "correct" / "vectorised.ipynb").read_bytes()
    task = GradingTask("alice", str(tmp_path / "not-on-this-host.ipynb"), assignment.slug, str(COURSE), "digest")
    version = load_assignment(assignment.slug, COURSE).suite_version  # now, not when the module's fixture was made
    result = grade_remote(RemoteTask(task, notebook, version))
    assert result.problem is None and result.score == result.max_score > 0


def test_a_worker_with_another_copy_of_the_suite_refuses_to_grade(assignment, tmp_path):
    task = GradingTask("alice", str(tmp_path / "x.ipynb"), assignment.slug, str(COURSE), "digest")
    with pytest.raises(SuiteMismatch, match="different copy of the assignment 'gradient-descent'"):
        grade_remote(RemoteTask(task, b"{}", "0" * 16))


def test_an_unreadable_file_travels_as_a_problem_not_as_bytes(assignment, tmp_path):
    task = GradingTask("alice", str(tmp_path / "gone.ipynb"), assignment.slug, str(COURSE), "digest")
    remote = remote_task(task, assignment.suite_version)
    assert remote.notebook is None and "could not be read" in remote.task.problem


def test_scheduler_usage_errors(tmp_path, monkeypatch, batch_folder):
    monkeypatch.setattr(dask_executor, "CONNECT_SECONDS", 0.5)
    base = ["grade", "--assignment", "gradient-descent", "--out", str(tmp_path / "out")]
    both = CliRunner().invoke(main, [*base, "--jobs", "2", "--scheduler", "tcp://127.0.0.1:1", str(batch_folder)])
    assert both.exit_code == 2 and "--jobs and --scheduler cannot be used together" in both.output
    absent = CliRunner().invoke(main, [*base, "--scheduler", "tcp://127.0.0.1:1", str(batch_folder)])
    assert absent.exit_code == 2
    assert "Cannot reach a Dask scheduler at tcp://127.0.0.1:1" in absent.output
    assert "dask scheduler" in absent.output and "dask worker" in absent.output
    assert not (tmp_path / "out" / "gradebook.sqlite").exists()
