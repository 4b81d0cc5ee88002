"""The public checks in a student's own Jupyter kernel: ``grader.check("gradient_step")``.

A student notebook starts with::

    from autograder.student import Notebook
    grader = Notebook("gradient-descent")

and each question ends with ``grader.check("gradient_step")``. That runs the assignment's public checks
(its ``public_tests.py``, the same checks that ``autograder check``, the student's CI and Gradescope's
visible tests run) on the function as this kernel defines it right now, and prints each check passed or
failed, with the same message as ``autograder check``. It needs no notebook file, so it works whatever
the file is called; it finds the public checks in the ``.autograder/course`` folder handed out with the
notebook (searched from the current folder upwards), in a course folder, or in ``$AUTOGRADER_COURSE``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.grader.assignment import COURSE_ENV, Assignment, load_assignment
from autograder.grader.feedback.terminal import render_checks
from autograder.grader.feedback.view import build_view
from autograder.grader.inprocess import InProcessSession
from autograder.grader.results import VISIBILITIES, SubmissionResult, TestResult
from autograder.grader.suite import SuiteError, run_suite

STUDENT_FOLDER = ".autograder"  # what `autograder export student` writes next to the notebook


class ChecksNotFound(FileNotFoundError):
    """The public checks of the assignment are not where the notebook can find them; the message says what to do."""


def find_course(slug: str, course: str | Path | None = None, start: Path | None = None) -> Path:
    """The course folder holding ``slug``'s public checks: ``course``, else $AUTOGRADER_COURSE, else the
    first of ``.autograder/course`` or a course folder in the current folder or one above it."""
    given = course or os.environ.get(COURSE_ENV)
    candidates = [Path(given)] if given else [
        where for folder in [(start or Path.cwd()).resolve(), *(start or Path.cwd()).resolve().parents]
        for where in (folder / STUDENT_FOLDER / "course", folder)]
    for candidate in candidates:
        if (candidate / "assignments" / slug / "public_tests.py").is_file():
            return candidate
    raise ChecksNotFound(
        f"The public checks of {slug!r} were not found: keep this notebook in the folder it came in (the one "
        f"holding {STUDENT_FOLDER}/), start Jupyter there, or set {COURSE_ENV} to the folder that holds them.")


@dataclass
class CheckResults:
    """The outcome of ``grader.check(...)``: shown as one line in a notebook, after the checks' own lines."""

    function: str
    tests: list[TestResult]

    @property
    def passed(self) -> bool:
        return bool(self.tests) and all(test.passed for test in self.tests)

    def __repr__(self) -> str:
        passed = sum(test.passed for test in self.tests)
        return f"{self.function}: {passed} of {len(self.tests)} public checks passed."


class Notebook:
    """The public checks of one assignment, for the notebook running in this kernel."""

    def __init__(self, assignment: str, *, course: str | Path | None = None) -> None:
        self.assignment: Assignment = load_assignment(assignment, find_course(assignment, course))
        self.results: dict[str, CheckResults] = {}  # the latest checks of each function

    def check(self, function: str) -> CheckResults:
        """Run the public checks of ``function`` on the notebook's definition of it, and print them."""
        if function not in self.assignment.functions:
            raise ValueError(f"{function!r} is not a function of {self.assignment.slug}; its functions are "
                             f"{', '.join(self.assignment.functions)}.")
        session = InProcessSession(_notebook_namespace(), call_seconds=self.assignment.budgets.call_seconds)
        try:
            tests = run_suite(self.assignment.public_suite, self.assignment, session, tracebacks=False, only=function)
        except SuiteError:
            tests = []
        result = SubmissionResult(submission="", assignment=self.assignment.slug, tests=tests)
        view = build_view(result, self.assignment.title, self.assignment.functions, VISIBILITIES)
        print(render_checks(view.checks) if tests else f"{function} has no public checks.")
        self.results[function] = CheckResults(function, tests)
        return self.results[function]

    def check_all(self) -> list[CheckResults]:
        return [self.check(function) for function in self.assignment.functions]


def _notebook_namespace() -> dict[str, Any]:
    """The namespace the notebook's cells run in: IPython's user namespace in a kernel, else __main__'s."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    return shell.user_ns if shell is not None else sys.modules["__main__"].__dict__
