"""Grading one notebook: read it, run it in a worker, run a suite against it, collect the result."""

from __future__ import annotations

import time
from pathlib import Path

from autograder.grader.assignment import Assignment
from autograder.grader.notebook import NotebookError, read_code_cells
from autograder.grader.results import SubmissionResult
from autograder.grader.session import WorkerSession
from autograder.grader.suite import run_suite


def grade_notebook(path: Path, submission_id: str, assignment: Assignment, *, public: bool = False,
                   problem: str | None = None) -> SubmissionResult:
    """Grade ``path`` with the hidden suite (or the public one). ``problem`` marks a file that must
    not be read (the batch found it unfit); every test then fails with that message."""
    started = time.monotonic()
    if not public:
        assignment.require_hidden_suite()
    if problem is None:
        try:
            cells = read_code_cells(path)
        except NotebookError as error:
            problem = str(error)
    if problem is not None:
        session = WorkerSession.unavailable(problem, assignment.budgets)
    else:
        session = WorkerSession(cells, assignment.problems_source, assignment.budgets, assignment.packages)
        session.start()
    try:
        suite = assignment.public_suite if public else assignment.hidden_suite
        tests = run_suite(suite, assignment, session)
    finally:
        session.close()
    report = session.load_report
    return SubmissionResult(submission=submission_id, assignment=assignment.slug, tests=tests,
                            cells=report.cells if report else [], problem=report.problem if report else problem,
                            execution_time=time.monotonic() - started)
