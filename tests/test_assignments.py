"""Every bundled assignment proves its suite: `autograder validate` expectations, and determinism."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from autograder.grader.assignment import (
    AssignmentError,
    available_slugs,
    load_assignment,
    names_like_graded_functions,
)
from autograder.grader.grading import grade_notebook
from autograder.grader.validate import check_traceability, expectations
from click_cli import main
from tests.conftest import COURSE, TEST_COURSE

SLUGS = available_slugs(COURSE)


def test_the_four_assignments_are_bundled():
    assert {"gradient-descent", "logistic-loss", "learning-rate", "random-restarts"} <= set(SLUGS)


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_assignment_validates(slug, validation):
    """Every example solution, bundled and written blind, is judged as labelled (60 to 70 per assignment)."""
    assignment = load_assignment(slug, COURSE)
    kinds = [expectation.kind for expectation in expectations(assignment)]
    blind = [e for e in expectations(assignment) if e.path.name.startswith("blind-")]
    assert kinds.count("buggy") >= 8 and kinds.count("full") >= 6 and "zero" in kinds, (
        f"{slug} needs its source notebook, >= 5 correct and >= 8 buggy solutions and its student notebook")
    assert sum(e.kind == "full" for e in blind) >= 10 and sum(e.kind == "buggy" for e in blind) >= 10, (
        f"{slug} needs at least 10 correct and 10 buggy solutions written blind from the student notebook")
    report, log = validation(slug)
    assert report.failures == 0, "\n".join(log)


@pytest.mark.parametrize("slug", SLUGS)
def test_every_test_enforces_a_sentence_of_the_notebook_and_every_sentence_has_a_test(slug):
    log: list[str] = []
    problems = check_traceability(load_assignment(slug, COURSE), echo=log.append)
    assert problems == 0, "\n".join(line for line in log if "FAIL" in line)


@pytest.mark.parametrize("slug", SLUGS)
def test_no_problems_file_holds_an_answer(slug):
    """problems.py runs in the student's process: nothing in it may be named like a graded function."""
    assignment = load_assignment(slug, COURSE)
    assert not names_like_graded_functions(assignment.problems_source or "", assignment.functions)


@pytest.mark.parametrize("source, leaked", [
    ("def double(x):\n    return 2 * x\n", "double (a graded function)"),
    ("def _stable_double(x):\n    return 2 * x\n", "_stable_double (named like double)"),
    ("from helpers import apply_twice as twice\n", "apply_twice (a graded function)"),
    ("Apply_Twice_Reference = lambda f, x: f(f(x))\n", "Apply_Twice_Reference (named like apply_twice)"),
], ids=["same name", "prefixed", "imported", "assigned"])
def test_a_problems_file_with_an_answer_is_refused(tmp_path, source, leaked):
    shutil.copytree(TEST_COURSE / "assignments" / "toy", tmp_path / "assignments" / "toy")
    (tmp_path / "assignments" / "toy" / "problems.py").write_text("import numpy as np\n\n" + source)
    with pytest.raises(AssignmentError, match="runs in the student's process and must never hold an answer") as caught:
        load_assignment("toy", tmp_path)
    assert leaked in str(caught.value)
    result = CliRunner().invoke(main, ["validate", "--course", str(tmp_path), "toy"])
    assert result.exit_code != 0 and "must never hold an answer" in result.output


def test_problem_functions_with_other_names_are_fine():
    source = "def double_well_loss(w):\n    return w\ndef doubled(x):\n    return x\nnp = None\n"
    assert names_like_graded_functions(source, ("double_descent", "apply_twice")) == {}


def test_a_name_is_matched_to_the_graded_function_it_is():
    found = names_like_graded_functions("def loss_grad(w):\n    return w\n", ("loss", "loss_grad"))
    assert found == {"loss_grad": "loss_grad"}


@pytest.mark.parametrize("slug", SLUGS)
def test_grading_is_deterministic(slug):
    assignment = load_assignment(slug, COURSE)
    buggy = next(e for e in expectations(assignment) if e.kind == "buggy")
    first, second = (grade_notebook(buggy.path, "same", assignment) for _ in range(2))
    assert [(t.name, t.score, t.output) for t in first.tests] == [(t.name, t.score, t.output) for t in second.tests]
