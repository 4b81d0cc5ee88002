"""Students meet the public checks in four places, and all four say the same of every bundled notebook.

1. Jupyter: the student notebook filled in with the solution, run in a real kernel (nbclient), its
   ``grader.check`` cells printing each check;
2. ``autograder check``, the command students run;
3. their CI: the same command as the workflow runs it, whose ``--classroom-output`` is what GitHub
   Classroom's reporter reads (the workflow itself is run step by step in test_student_export.py);
4. Gradescope: the visible public checks in the results.json that grading writes (the results come
   from ``validate``, which grades exactly as Gradescope's run_autograder does).

The checks, their verdicts and their messages are compared verbatim on the source notebook, the blank
student notebook, and as few bundled solutions (correct, buggy and blind) as it takes for every public check
to be seen both passing and failing wherever any notebook does either (chosen from the Gradescope results of
every notebook, which ``validate`` computes anyway). The four places differ in how they run and print, not
in what a notebook contains, so every verdict of every check through each place is what must agree; a
kernel start and a command per notebook for all of them would take minutes per assignment.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.grader.assignment import available_slugs, load_assignment
from autograder.grader.exports.classroom import OUTPUT_NAME
from autograder.grader.results import SubmissionResult
from autograder.grader.validate import Expectation, expectations
from click_cli import main
from tests.conftest import COURSE
from tests.kernel import filled_in, run_in_kernel

SLUGS = available_slugs(COURSE)
Verdicts = list[tuple[str, bool, str]]


def in_ci(notebook: Path, slug: str, output: Path) -> tuple[Verdicts, str]:
    """What ``autograder check --classroom-output`` reports (for Classroom) and prints (for the student)."""
    output.write_text("")
    result = CliRunner().invoke(main, ["check", "--course", str(COURSE), "--assignment", slug,
                                       "--classroom-output", str(output), str(notebook)])
    assert result.exit_code in (0, 1), result.output
    encoded = output.read_text().strip().removeprefix(f"{OUTPUT_NAME}=")
    tests = json.loads(base64.b64decode(encoded))["tests"]
    return sorted((test["name"], test["status"] == "pass", test["message"]) for test in tests), result.output


def on_gradescope(result: SubmissionResult) -> Verdicts:
    """The public checks among the visible tests of the results.json students see."""
    shown = result.to_gradescope()
    tests = [test for test in shown["tests"] if "public check" in test["tags"]]
    assert all(test["visibility"] == "visible" and test["max_score"] == 0 for test in tests)
    return sorted((test["name"].removeprefix("Public check, "), test["status"] == "passed", test["output"])
                  for test in tests)


def covering(found: list[Expectation], results: dict[str, SubmissionResult]) -> list[Expectation]:
    """The source and blank notebooks, then greedily the solution showing most (check, verdict) pairs not yet
    seen, until every pair a solution shows is covered. The blank notebook's failures do not count: every
    check fails there for the same reason (nothing is implemented), not with the messages real bugs get."""
    shows = {e.label: set((name, passed) for name, passed, _ in on_gradescope(results[e.label])) for e in found}
    chosen = [e for e in found if e.label in ("source notebook", "student notebook")]
    solutions = [e for e in found if e not in chosen]
    seen = set().union(*(shows[e.label] for e in chosen if e.label == "source notebook"))
    wanted = set().union(*(shows[e.label] for e in solutions))
    while not wanted <= seen:
        best = max((e for e in solutions if e not in chosen), key=lambda e: len(shows[e.label] - seen))
        chosen.append(best)
        seen |= shows[best.label]
    return chosen


@pytest.mark.slow
def test_covering_shows_every_verdict_of_every_check(validation):
    report, _ = validation("gradient-descent")
    found = expectations(load_assignment("gradient-descent", COURSE))
    chosen = covering(found, report.results)
    assert {"source notebook", "student notebook"} <= {e.label for e in chosen}
    solutions = [e for e in found if e.kind == "buggy"]
    failed_by_a_bug = {name for e in solutions for name, passed, _ in on_gradescope(report.results[e.label])
                       if not passed}
    chosen_bugs = [e for e in chosen if e.kind == "buggy"]
    assert failed_by_a_bug and failed_by_a_bug == {
        name for e in chosen_bugs for name, passed, _ in on_gradescope(report.results[e.label]) if not passed}
    assert len(chosen) < len(found) / 2


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_jupyter_check_ci_and_gradescope_agree_on_every_bundled_notebook(slug, validation, tmp_path, monkeypatch):
    assignment = load_assignment(slug, COURSE)
    report, _ = validation(slug)
    monkeypatch.setenv("AUTOGRADER_COURSE", str(COURSE))  # the kernel finds the checks as a course folder would
    found = covering(expectations(assignment), report.results)
    print(f"\n{slug}: {', '.join(e.label for e in found)}")
    runs = run_in_kernel({e.label: filled_in(assignment.student_notebook, e.path) for e in found}, tmp_path)
    disagreements = []
    for expectation in found:
        ci, printed = in_ci(expectation.path, slug, tmp_path / "github-output")
        gradescope = on_gradescope(report.results[expectation.label])
        kernel = runs[expectation.label]
        jupyter = None if kernel.results is None else sorted(t for tests in kernel.results.values() for t in tests)
        if not (ci == gradescope == jupyter):
            disagreements.append(f"{expectation.label}:\n  CI/check:   {ci}\n  Gradescope: {gradescope}\n"
                                 f"  Jupyter:    {jupyter}")
            continue
        for name, _passed, message in ci:
            # `autograder check` shows once the message of checks that fail for the likely mistake it names
            # at the top, and lists the others by name under "... fail for the same reason ...:".
            grouped = "for the same reason" in printed and f"- {name}" in map(str.strip, printed.splitlines())
            seen = [line for line in message.splitlines()
                    if (line not in printed and not grouped) or line not in kernel.printed]
            assert not seen, f"{expectation.label}: {name}: not shown to the student: {seen}"
    assert not disagreements, "\n".join(disagreements)
