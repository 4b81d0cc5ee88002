"""Proving an assignment's suite against notebooks whose right grade is known.

* ``source/<slug>.ipynb`` (the solution notebook) and ``solutions/correct/*.ipynb``: full marks.
* ``student/<slug>.ipynb`` (blank answers): zero, without any grader fault.
* ``solutions/buggy/*.ipynb``: notebook metadata ``{"autograder": {"breaks": ["fn"], "bug": "..."}}``;
  the notebook must lose points on every function in ``breaks`` and keep all points elsewhere.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grader.assignment import Assignment
from autograder.grader.grading import grade_notebook
from autograder.grader.mistakes import observed_pattern, render_mistakes, updated_mistakes
from autograder.grader.results import SubmissionResult
from autograder.grader.suite import stated_sentences
from autograder.grader.traceability import Report, trace


@dataclass
class ValidationReport:
    checked: int = 0
    failures: int = 0
    # Every notebook's result as Gradescope would get it (graded tests and public checks), by label.
    results: dict[str, SubmissionResult] = field(default_factory=dict)
    # Labels of the buggy notebooks the public checks catch, and of those only the hidden suite catches.
    caught_by_public_checks: list[str] = field(default_factory=list)
    caught_only_by_hidden_suite: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Expectation:
    path: Path
    label: str
    kind: str  # "full", "zero" or "buggy"
    breaks: tuple[str, ...] = ()
    bug: str = ""


def expectations(assignment: Assignment) -> list[Expectation]:
    found = []
    if assignment.source_notebook.exists():
        found.append(Expectation(assignment.source_notebook, "source notebook", "full"))
    if assignment.student_notebook.exists():
        found.append(Expectation(assignment.student_notebook, "student notebook", "zero"))
    solutions = assignment.folder / "solutions"
    for path in sorted((solutions / "correct").glob("*.ipynb")):
        found.append(Expectation(path, f"correct/{path.stem}", "full"))
    for path in sorted((solutions / "buggy").glob("*.ipynb")):
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("autograder", {})
        found.append(Expectation(path, f"buggy/{path.stem}", "buggy", tuple(meta.get("breaks", ())),
                                 str(meta.get("bug", ""))))
    return found


def judge(expectation: Expectation, result: SubmissionResult) -> str | None:
    """Why ``result`` is not the grade ``expectation`` asks for, or None when it is."""
    scores = result.function_scores()
    if expectation.kind == "full":
        lost = [name for name, (score, top) in scores.items() if score < top]
        failed_checks = [test.name for test in result.tests if test.public and not test.passed]
        if failed_checks:
            lost.append(f"a correct notebook fails public checks ({'; '.join(failed_checks)})")
        return f"expected full marks; lost points on {', '.join(lost)}" if lost else None
    if expectation.kind == "zero":
        return None if result.score == 0 else f"expected zero; scored {result.score:g}"
    if not expectation.breaks:
        return "the notebook's metadata does not say which function it breaks"
    unknown = [name for name in expectation.breaks if name not in scores]
    kept = [name for name in expectation.breaks if name in scores and scores[name][0] >= scores[name][1]]
    collateral = [name for name, (score, top) in scores.items() if score < top and name not in expectation.breaks]
    problems = []
    if unknown:
        problems.append(f"'breaks' names {', '.join(unknown)}, which are not graded functions")
    if kept:
        problems.append(f"the bug in {', '.join(kept)} was not caught")
    if collateral:
        problems.append(f"points were also lost on {', '.join(collateral)}, which is correct")
    return "; ".join(problems) or None


def validate_assignment(assignment: Assignment, echo: Callable[[str], None] = print) -> ValidationReport:
    report = ValidationReport()
    echo(f"== {assignment.slug}: {assignment.title}")
    for expectation in expectations(assignment):
        result = grade_notebook(expectation.path, expectation.label, assignment, public_checks=True)
        report.results[expectation.label] = result
        problem = judge(expectation, result)
        report.checked += 1
        report.failures += problem is not None
        status = "ok  " if problem is None else "FAIL"
        echo(f"  {status} {expectation.label}: {result.score:g} / {result.max_score:g}"
             + (f"  <- {problem}" if problem else ""))
        if expectation.kind == "buggy":
            if expectation.bug:
                echo(f"         bug: {expectation.bug}")
            public = [test.name for test in result.tests if test.public and not test.passed]
            hidden = [test.name for test in result.tests if not test.public and not test.passed]
            echo("         caught by: " + ("; ".join(hidden) if hidden else "nothing"))
            if public:
                report.caught_by_public_checks.append(expectation.label)
                echo("         and by the public checks: " + "; ".join(public))
            else:
                report.caught_only_by_hidden_suite.append(expectation.label)
                echo("         not by the public checks: only the hidden suite catches it")
    echo(f"  {report.checked} notebooks checked, {report.failures} failed expectations.")
    buggy = len(report.caught_by_public_checks) + len(report.caught_only_by_hidden_suite)
    echo(f"  The public checks catch {len(report.caught_by_public_checks)} of the {buggy} buggy notebooks; "
         "only the hidden suite catches "
         + (", ".join(report.caught_only_by_hidden_suite) or "none") + ".")
    report_mistakes(assignment, report, echo)
    report.failures += check_traceability(assignment, echo)
    return report


def observed_patterns(assignment: Assignment, report: ValidationReport
                      ) -> dict[str, tuple[tuple[str, ...], frozenset[str]]]:
    """Per buggy solution (file stem): the functions it breaks and the tests it failed in ``report``."""
    return {expectation.path.stem: (expectation.breaks, observed_pattern(report.results[expectation.label].tests))
            for expectation in expectations(assignment)
            if expectation.kind == "buggy" and expectation.label in report.results}


def report_mistakes(assignment: Assignment, report: ValidationReport, echo: Callable[[str], None] = print) -> None:
    """Say which known mistake each buggy solution's feedback names, and what mistakes.toml lacks. Not a failed
    expectation: feedback without a named mistake is still right; the author fixes the file at leisure."""
    if not assignment.mistakes_file.is_file():
        return
    catalogue = {mistake.id: mistake for mistake in assignment.mistakes}
    listed = {solution: mistake for mistake in catalogue.values() for solution in mistake.patterns}
    stale = []
    for solution, (_, pattern) in observed_patterns(assignment, report).items():
        named = [m.id for m in report.results[f"buggy/{solution}"].mistakes]
        own = listed.get(solution)
        if own is None or not own.description:
            echo(f"  note mistakes: buggy/{solution} has no described mistake in {assignment.mistakes_file.name}")
        elif own.patterns[solution] != pattern:
            stale.append(solution)
        elif own.id not in named:
            tests = report.results[f"buggy/{solution}"].tests
            functions = {test.function for test in tests if test.name in pattern}
            everything = all(not test.passed for test in tests if test.function in functions)
            why = ("it fails every check of its functions, as a missing function would" if everything
                   else "more mistakes than feedback names at once fail the same checks")
            echo(f"  note mistakes: buggy/{solution}'s feedback cannot name its mistake {own.id}: {why}")
    if stale:
        echo(f"  note mistakes: the patterns of {', '.join(stale)} are out of date; run "
             f"`autograder validate --write-mistakes {assignment.slug}`")


def write_mistakes(assignment: Assignment, report: ValidationReport) -> list[str]:
    """Rewrite the assignment's mistakes.toml with the patterns ``report`` observed, keeping the descriptions.
    Returns what changed, in words."""
    mistakes, notes = updated_mistakes(assignment.mistakes, observed_patterns(assignment, report))
    temporary = assignment.mistakes_file.with_name(assignment.mistakes_file.name + ".tmp")
    temporary.write_text(render_mistakes(mistakes), encoding="utf-8")
    os.replace(temporary, assignment.mistakes_file)
    return notes


def check_traceability(assignment: Assignment, echo: Callable[[str], None] = print) -> int:
    """Link every test to the student notebook's sentences it enforces; return how many links are missing."""
    if not assignment.student_notebook.is_file():
        echo(f"  FAIL traceability: {assignment.student_notebook} does not exist")
        return 1
    hidden = trace(assignment.student_notebook, stated_sentences(assignment.hidden_suite, assignment),
                   assignment.not_behaviour)
    problems = hidden.problems
    if assignment.public_suite.is_file():
        public: Report = trace(assignment.student_notebook, stated_sentences(assignment.public_suite, assignment), ())
        problems += [problem for problem in public.problems if not problem.startswith("no test enforces")]
    for statement in hidden.statements:
        tests = hidden.enforced_by.get(statement.text)
        if tests:
            echo(f"  ok   \"{statement.text[:100]}\" <- {len(tests)} test(s)")
    for problem in problems:
        echo(f"  FAIL traceability: {problem}")
    echo(f"  {len(hidden.statements)} sentences of the student notebook, {len(problems)} traceability problems.")
    return len(problems)
