"""What a student's feedback shows, decided once for every format (HTML, Markdown, terminal).

Every student-controlled string in it is :func:`~autograder.grader.escaping.printable` (no terminal
control sequences); each format escapes it further for its own syntax.

Visibility follows Gradescope's values. Tests whose visibility is among those chosen are shown in
full (name, result, message, plots); every other test appears only as "hidden test" with the
function it grades and its score, because its points are part of the grade the student sees.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from autograder.grader.artifacts import is_artifact
from autograder.grader.escaping import printable
from autograder.grader.results import VISIBILITIES, LikelyMistake, SubmissionResult, mistakes_text
from autograder.grader.written_answers.questions import FUNCTION_PREFIX

# Feedback is usually released with the grades, after the due date: everything but "hidden".
DEFAULT_VISIBILITIES: frozenset[str] = frozenset({"visible", "after_due_date", "after_published"})
STDOUT_PER_CELL = 2_000
STDOUT_TOTAL = 8_000


@dataclass
class CheckView:
    function: str
    title: str  # the check's description, or "hidden test"
    score: float
    max_score: float
    passed: bool
    message: str = ""  # what differed; empty when passed or hidden
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    hidden: bool = False
    pending: bool = False  # a written answer not graded by a person yet: shown as pending, never as a zero
    # A known mistake explains this check's failure: shown once, on the first check it explains, with the names
    # of the others (same_reason), which formats then leave out.
    same_reason_titles: list[str] = field(default_factory=list)
    same_reason: bool = False


@dataclass
class FunctionView:
    name: str
    score: float
    max_score: float
    checks: list[CheckView]


@dataclass
class CellView:
    index: int
    error: str | None
    notes: list[str]
    stdout: str
    cut: int = 0  # characters of printed output left out
    title: str = ""  # the cell's first line (already printable), so the student can find it

    @property
    def heading(self) -> str:
        return f"Cell {self.index} ({self.title})" if self.title else f"Cell {self.index}"


@dataclass
class FeedbackView:
    submission: str
    title: str
    score: float
    max_score: float
    problem: str | None
    functions: list[FunctionView]
    cells: list[CellView]
    mistakes: list[str] = field(default_factory=list)  # the likely mistakes, one sentence each, shown first

    @property
    def checks(self) -> list[CheckView]:
        return [check for function in self.functions for check in function.checks]


def chosen_visibilities(visibilities: Collection[str] | None) -> frozenset[str]:
    chosen = DEFAULT_VISIBILITIES if visibilities is None else frozenset(visibilities)
    unknown = sorted(chosen - set(VISIBILITIES))
    if unknown:
        raise ValueError(f"Unknown visibility {', '.join(unknown)}; choose from {', '.join(VISIBILITIES)}.")
    return chosen


def build_view(result: SubmissionResult, title: str, functions: Collection[str] = (),
               visibilities: Collection[str] | None = None) -> FeedbackView:
    """The feedback of ``result``; ``functions`` orders the graded functions (the assignment's order)."""
    shown = chosen_visibilities(visibilities)
    order = [*functions, *(t.function for t in result.tests if t.function not in functions)]
    by_function: dict[str, list[CheckView]] = {name: [] for name in dict.fromkeys(order)}
    check_of: dict[str, CheckView] = {}
    for test in result.tests:
        description = test.name.split(": ", 1)[1] if test.name.startswith(f"{test.function}: ") else test.name
        if test.pending:
            check = CheckView(test.function, description, test.score, test.max_score, False,
                              printable(test.output), pending=True)
        elif test.visibility in shown:
            # Plots only where a check failed: that is where they explain something, and drawing
            # them costs about 0.1 s each, more than grading, on every passed check of a class.
            check = CheckView(test.function, description, test.score, test.max_score, test.passed,
                              printable(test.output) if not test.passed or test.function.startswith(FUNCTION_PREFIX)
                              else "",  # a written answer's rubric items and comment are its feedback
                              [] if test.passed else [a for a in test.artifacts if is_artifact(a)])
        else:
            check = CheckView(test.function, "hidden test", test.score, test.max_score, test.passed, hidden=True)
        by_function[test.function].append(check)
        check_of.setdefault(test.name, check)
    views = [FunctionView(name, sum(c.score for c in checks), sum(c.max_score for c in checks), checks)
             for name, checks in by_function.items()]
    # Before results are released only the visible tests may speak; afterwards every test's outcome may.
    mistakes = result.mistakes if shown - {"visible"} else result.mistakes_before_release
    _group_by_mistake(check_of, mistakes)
    return FeedbackView(printable(result.submission), title, result.score, result.max_score,
                        printable(result.problem) if result.problem else None, views, _cells(result),
                        [printable(line) for line in mistakes_text(mistakes)])


def _group_by_mistake(by_name: dict[str, CheckView], mistakes: list[LikelyMistake]) -> None:
    """Show each likely mistake's failed checks once: the first in full, the others only counted under it."""
    for mistake in mistakes:
        explained = [by_name[name] for name in mistake.tests
                     if name in by_name and not by_name[name].hidden and not by_name[name].same_reason]
        if len(explained) < 2:
            continue
        first, *others = explained
        first.same_reason_titles += [f"{check.function}: {check.title}" for check in others]
        for check in others:
            check.same_reason, check.message, check.artifacts = True, "", []


def same_reason_text(check: CheckView) -> str:
    """The line under the first check a likely mistake explains, before the names of the others it explains."""
    count = len(check.same_reason_titles)
    return (f"and {count} more check{'s' if count > 1 else ''} fail{'s' if count == 1 else ''} for the same reason "
            "(the likely mistake named at the top):")


def _cells(result: SubmissionResult) -> list[CellView]:
    """Cells worth showing (an error, a note or printed output), printed output capped."""
    views, budget = [], STDOUT_TOTAL
    for cell in result.cells:
        if not (cell.error or cell.notes or cell.stdout.strip()):
            continue
        keep = max(0, min(STDOUT_PER_CELL, budget, len(cell.stdout)))
        budget -= keep
        views.append(CellView(cell.index, printable(cell.error) if cell.error else None,
                              [printable(note) for note in cell.notes], printable(cell.stdout[:keep]),
                              len(cell.stdout) - keep, printable(cell.title)))
    return views


def score_text(score: float, max_score: float) -> str:
    return f"{score:g} / {max_score:g}"


def total_score_text(view: FeedbackView) -> str:
    """The total, saying how many points of written answers are still to be graded."""
    pending = sum(check.max_score for check in view.checks if check.pending)
    suffix = f" ({pending:g} points pending: written answers not graded yet)" if pending else ""
    return score_text(view.score, view.max_score) + suffix


def function_score_text(function: FunctionView) -> str:
    """A function's (or written question's) score; "pending" while a person has not graded it."""
    if any(check.pending for check in function.checks):
        return f"pending (- / {function.max_score:g})"
    return score_text(function.score, function.max_score)
