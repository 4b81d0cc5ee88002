"""A grader killed with SIGKILL mid-batch, then started again, ends with one complete result each."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import TEST_COURSE, TOY_CORRECT

SLOW_CORRECT = ["import time\ntime.sleep(0.4)", *TOY_CORRECT]  # so the kill lands mid-batch
WRONG = ["import numpy as np", "def double(x):\n    return np.asarray(x, dtype=float) + 1",
         "def apply_twice(f, x):\n    return f(x)"]
SUBMISSIONS = 14


def _grade_command(submissions: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "click_cli", "grade", "--assignment", "toy", "--course",
            str(TEST_COURSE), "--out", str(out), "--jobs", "2", str(submissions)]


def _stored_rows(database: Path) -> list[tuple[str, str, float]]:
    if not database.exists():
        return []
    try:
        with sqlite3.connect(database, timeout=5) as connection:
            return connection.execute("SELECT submission, result_json, score FROM results").fetchall()
    except sqlite3.OperationalError:  # the table is not there yet
        return []


def _worker_processes(temporary: Path) -> set[int]:
    """Workers of this test's grader: their output goes to a log under the grader's TMPDIR."""
    pids = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if os.readlink(f"/proc/{entry.name}/fd/1").startswith(str(temporary)):
                    pids.add(int(entry.name))
            except OSError:
                continue
    return pids


def test_sigkill_mid_batch_then_rerun_gives_exactly_one_complete_result_each(tmp_path, write_notebook):
    submissions = tmp_path / "submissions"
    expected = {}
    for index in range(SUBMISSIONS):
        correct = index % 3 != 0
        write_notebook(SLOW_CORRECT if correct else ["import time\ntime.sleep(0.4)", *WRONG],
                       f"student-{index:02}.ipynb", submissions)
        expected[f"student-{index:02}"] = 5.0 if correct else 0.0
    out = tmp_path / "out"
    database = out / "gradebook.sqlite"
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    grader = subprocess.Popen(_grade_command(submissions, out), cwd=Path(__file__).parents[1],
                              env={**os.environ, "TMPDIR": str(temporary)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(_stored_rows(database)) < 3 and time.monotonic() < deadline and grader.poll() is None:
        time.sleep(0.05)
    stored_before_kill = len(_stored_rows(database))
    grader.kill()  # SIGKILL to the grader itself, mid-batch
    grader.wait()
    assert 3 <= stored_before_kill < SUBMISSIONS, "the kill must land in the middle of the batch"
    # The grader's pool processes and their workers go away with it.
    deadline = time.monotonic() + 20
    while (_worker_processes(temporary) or _session_members(grader.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _worker_processes(temporary), "a worker outlived the killed grader"
    assert not _session_members(grader.pid), "a grading process outlived the killed grader"

    rerun = subprocess.run(_grade_command(submissions, out), cwd=Path(__file__).parents[1],
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"reused {stored_before_kill}" in rerun.stdout or f"reused {stored_before_kill}" in rerun.stderr

    rows = _stored_rows(database)
    assert sorted(row[0] for row in rows) == sorted(expected)  # exactly one row per submission
    for submission, result_json, score in rows:
        result = json.loads(result_json)
        assert len(result["tests"]) == 4, f"{submission}: incomplete result"
        assert score == expected[submission] == result["score"]
    with open(out / "grades.csv", newline="") as handle:
        grades = {row["submission"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert grades == expected
    assert sorted(p.stem for p in (out / "results").glob("*.json")) == sorted(expected)


def _session_members(session: int) -> list[int]:
    members = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and int(entry.name) != session:
            try:
                if os.getsid(int(entry.name)) == session:
                    members.append(int(entry.name))
            except OSError:
                continue
    return members
