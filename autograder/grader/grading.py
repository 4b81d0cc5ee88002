"""Grading one notebook: read it, run it in a worker, run a suite against it, collect the result."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from autograder.grader.assignment import Assignment
from autograder.grader.attempts import is_unattempted
from autograder.grader.mistakes import likely_mistakes, public_key
from autograder.grader.notebook import NotebookError, read_code_cells
from autograder.grader.results import SubmissionResult, TestResult
from autograder.grader.session import WorkerSession
from autograder.grader.suite import run_suite


def grade_notebook(path: Path, submission_id: str, assignment: Assignment, *, public: bool = False,
                   public_checks: bool = False, problem: str | None = None) -> SubmissionResult:
    """Grade ``path`` with the hidden suite (or, with ``public``, run the public checks alone).
    ``public_checks`` also runs the public checks, first and in the same worker, as tests worth no points
    (what Gradescope shows beside the grade). ``problem`` marks a file that must not be read (the batch
    found it unfit); every test then fails with that message."""
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
        tests = []
        if public or (public_checks and assignment.public_suite.is_file()):
            # Before any hidden test, so no public message can carry what a hidden test sent the notebook.
            tests += public_check_results(run_suite(assignment.public_suite, assignment, session, tracebacks=False),
                                          graded=not public)
        if not public:
            tests += run_suite(assignment.hidden_suite, assignment, session)
    finally:
        session.close()
    report = session.load_report
    unattempted = problem is None and is_unattempted(cells, assignment.template_cells, assignment.functions)
    catalogue = () if unattempted else assignment.mistakes  # a stub's failures say nothing about a mistake
    # A check run names its tests without the prefix grading gives public checks, which patterns use.
    key = public_key if public else (lambda test: test.name)
    return SubmissionResult(submission=submission_id, assignment=assignment.slug, tests=tests,
                            cells=report.cells if report else [], problem=report.problem if report else problem,
                            execution_time=time.monotonic() - started, student_seconds=session.student_seconds,
                            mistakes=likely_mistakes(tests, catalogue, key=key),
                            mistakes_before_release=likely_mistakes(
                                tests, catalogue, key=key, considered=lambda test: test.visibility == "visible"),
                            unattempted=unattempted)


def public_check_results(tests: list[TestResult], *, graded: bool) -> list[TestResult]:
    """The public checks' results as ``autograder check`` shows them, or (``graded``) as visible tests
    worth no points beside the graded ones."""
    if not graded:
        return tests
    return [replace(test, name=f"Public check, {test.name}", score=0.0, max_score=0.0, visibility="visible",
                    public=True) for test in tests]
