"""A graded submission, and its form in Gradescope's ``results.json`` schema."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from autograder.grader.session import CellReport

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


@dataclass
class TestResult:
    name: str
    function: str
    score: float
    max_score: float
    passed: bool
    output: str
    visibility: str = "visible"
    # Plot data the test recorded (see autograder.grader.artifacts); results.json carries it as the test's extra_data.
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    # One of the assignment's public checks (public_tests.py), shown on Gradescope beside the graded tests
    # with no points, so that students see there exactly what `autograder check` told them.
    public: bool = False
    # A written answer not graded by a person yet (grader/written_answers): its points are not counted,
    # and every output says "pending" rather than showing a zero. Written answers are added to a result
    # where it is shown (grades.csv, feedback, exports), never stored with it: results.json stays what
    # the autograder gave, as on Gradescope, where written answers are graded by hand from their PDFs.
    pending: bool = False


PUBLIC_CHECK_TAG = "public check"


@dataclass(frozen=True)
class LikelyMistake:
    """A known mistake (the assignment's mistakes.toml) whose pattern the failed tests fit."""
    id: str
    description: str
    tests: tuple[str, ...]  # the failed tests it explains, in the result's order


def mistake_groups(mistakes: list[LikelyMistake]) -> list[tuple[tuple[str, ...], list[str]]]:
    """(failed checks, descriptions) per set of failed checks: mistakes that explain the same failures (the checks
    cannot tell them apart) are named together."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for mistake in mistakes:
        groups.setdefault(tuple(mistake.tests), []).append(mistake.description.rstrip("."))
    return list(groups.items())


def mistakes_text(mistakes: list[LikelyMistake]) -> list[str]:
    """The lines that open a result's feedback: each likely mistake and how many failed checks it explains."""
    lines = []
    for tests, descriptions in mistake_groups(mistakes):
        count = f" ({len(tests)} failed checks show it)" if len(tests) > 1 else ""
        if len(descriptions) == 1:
            lines.append(f"Likely mistake{count}: {descriptions[0]}.")
        else:
            lines.append(f"Likely mistake{count}, one of: " + "; or ".join(descriptions) + ".")
    return lines


@dataclass
class SubmissionResult:
    submission: str
    assignment: str
    tests: list[TestResult] = field(default_factory=list)
    cells: list[CellReport] = field(default_factory=list)
    problem: str | None = None  # why the notebook could not be run at all, for the student
    execution_time: float = 0.0
    # Seconds the student's code ran: its cells and the calls the tests made, without starting workers.
    student_seconds: float = 0.0
    # Known mistakes the failed tests fit (all tests; before release, the visible tests alone).
    mistakes: list[LikelyMistake] = field(default_factory=list)
    mistakes_before_release: list[LikelyMistake] = field(default_factory=list)
    # The notebook is the untouched student template: nothing was attempted.
    unattempted: bool = False

    @property
    def score(self) -> float:
        return round(sum(test.score for test in self.tests), 6)

    @property
    def max_score(self) -> float:
        return round(sum(test.max_score for test in self.tests), 6)

    @property
    def pending_points(self) -> float:
        """Points of written answers still to be graded by a person."""
        return round(sum(test.max_score for test in self.tests if test.pending), 6)

    def function_scores(self) -> dict[str, tuple[float, float]]:
        totals: dict[str, tuple[float, float]] = {}
        for test in self.tests:
            score, max_score = totals.get(test.function, (0.0, 0.0))
            totals[test.function] = (score + test.score, max_score + test.max_score)
        return totals

    def without_plots_and_output(self) -> SubmissionResult:
        """This result less its plot data and printed output, which only its own feedback page shows
        and which make up most of its size: what a batch holds when it needs every result at once."""
        return replace(self, tests=[replace(test, artifacts=[]) for test in self.tests],
                       cells=[replace(cell, stdout="") for cell in self.cells])

    def summary(self) -> str:
        """The top-level feedback text: score per function, then what went wrong in the notebook."""
        pending = f" ({self.pending_points:g} points pending: written answers not graded yet)" \
            if self.pending_points else ""
        lines = [*mistakes_text(self.mistakes), f"Score: {self.score:g} / {self.max_score:g}{pending}"]
        lines += [f"  {name}: {score:g} / {max_score:g}" for name, (score, max_score) in self.function_scores().items()]
        if self.problem:
            lines += ["", self.problem]
        for cell in self.cells:
            if cell.error:
                lines += ["", f"{cell.heading} failed (the cells after it still ran):", cell.error.rstrip()]
            lines += [f"{cell.heading}: {note}." for note in cell.notes]
        return "\n".join(lines)

    def student_summary(self) -> str:
        """The top-level feedback students may see before the due date: everything in ``summary()`` when
        every graded test is visible; otherwise only the public checks' verdict and what went wrong in the
        notebook, since a total or a function's score would tell them how the held-back tests went."""
        graded = [test for test in self.tests if not test.public]
        if all(test.visibility == "visible" for test in graded):
            return self.summary()
        public = [test for test in self.tests if test.public]
        passed = sum(test.passed for test in public)
        lines = [*mistakes_text(self.mistakes_before_release),
                 f"Public checks: {passed} of {len(public)} passed (the same checks "
                 "as `autograder check` and your notebook's grader.check cells; they are listed below).",
                 "Your score and the other tests' results are shown when your instructor releases them."]
        # Past the likely mistakes, the total and the functions' scores:
        skip = len(mistakes_text(self.mistakes)) + 1 + len(self.function_scores())
        return "\n".join(lines + self.summary().splitlines()[skip:])

    def to_gradescope(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "execution_time": round(self.execution_time, 3),
            "output": self.student_summary(),
            "output_format": "text",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [
                {"name": test.name, "number": str(number), "score": test.score, "max_score": test.max_score,
                 "status": "passed" if test.passed else "failed", "output": test.output,
                 "output_format": "text", "tags": [test.function, *([PUBLIC_CHECK_TAG] if test.public else [])],
                 "visibility": test.visibility,
                 **({"extra_data": {"artifacts": test.artifacts}} if test.artifacts else {})}
                for number, test in enumerate(self.tests, start=1)
            ],
            "extra_data": {
                "submission": self.submission, "assignment": self.assignment, "problem": self.problem,
                "functions": {name: {"score": s, "max_score": m} for name, (s, m) in self.function_scores().items()},
                "cells": [asdict(cell) for cell in self.cells],
                "student_seconds": round(self.student_seconds, 3),
                "likely_mistakes": [asdict(m) for m in self.mistakes],
                "likely_mistakes_before_release": [asdict(m) for m in self.mistakes_before_release],
                "unattempted": self.unattempted,
            },
        }

    @classmethod
    def from_gradescope(cls, data: dict[str, Any]) -> SubmissionResult:
        extra = data.get("extra_data", {})
        tests = [TestResult(name=t["name"], function=(t.get("tags") or [t["name"].split(":", 1)[0]])[0],
                            score=t["score"], max_score=t["max_score"], passed=t["status"] == "passed",
                            output=t["output"], visibility=t["visibility"],
                            artifacts=list(t.get("extra_data", {}).get("artifacts", [])),
                            public=PUBLIC_CHECK_TAG in t.get("tags", []))
                 for t in data["tests"]]
        return cls(submission=extra.get("submission", ""), assignment=extra.get("assignment", ""),
                   tests=tests, cells=[CellReport(**cell) for cell in extra.get("cells", [])],
                   problem=extra.get("problem"), execution_time=data.get("execution_time", 0.0),
                   student_seconds=extra.get("student_seconds", 0.0),
                   mistakes=[_likely(m) for m in extra.get("likely_mistakes", [])],
                   mistakes_before_release=[_likely(m) for m in extra.get("likely_mistakes_before_release", [])],
                   unattempted=bool(extra.get("unattempted", False)))


def _likely(data: dict[str, Any]) -> LikelyMistake:
    return LikelyMistake(str(data["id"]), str(data["description"]), tuple(map(str, data.get("tests", []))))
