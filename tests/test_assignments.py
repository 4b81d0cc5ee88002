"""Every bundled assignment proves its suite: `autograder validate` expectations, and determinism."""

from __future__ import annotations

import pytest

from autograder.assignment import assignments_root, available_slugs, load_assignment
from autograder.grading import grade_notebook
from autograder.validate import expectations, validate_assignment

SLUGS = available_slugs(assignments_root())


def test_the_four_assignments_are_bundled():
    assert {"gradient-descent", "logistic-loss", "learning-rate", "random-restarts"} <= set(SLUGS)


@pytest.mark.parametrize("slug", SLUGS)
def test_assignment_validates(slug):
    assignment = load_assignment(slug)
    kinds = [expectation.kind for expectation in expectations(assignment)]
    assert kinds.count("buggy") >= 8 and kinds.count("full") >= 6 and "zero" in kinds, (
        f"{slug} needs its source notebook, >= 5 correct and >= 8 buggy solutions and its student notebook")
    log: list[str] = []
    report = validate_assignment(assignment, echo=log.append)
    assert report.failures == 0, "\n".join(log)


@pytest.mark.parametrize("slug", SLUGS)
def test_grading_is_deterministic(slug):
    assignment = load_assignment(slug)
    buggy = next(e for e in expectations(assignment) if e.kind == "buggy")
    first, second = (grade_notebook(buggy.path, "same", assignment) for _ in range(2))
    assert [(t.name, t.score, t.output) for t in first.tests] == [(t.name, t.score, t.output) for t in second.tests]
