"""The benchmark's helpers (not its timings): the notebooks it builds and its in-process baseline."""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder.grader.assignment import load_assignment
from autograder.grader.batch import content_hash
from autograder.grader.inprocess import InProcessSession
from autograder.grader.notebook import read_code_cells
from autograder.grader.suite import run_suite
from benchmarks import notebooks
from tests.conftest import COURSE, TEST_COURSE


def test_a_batch_is_valid_distinct_notebooks_cycling_through_correct_and_buggy(tmp_path):
    slug = "learning-rate"
    solutions = notebooks.solutions(slug)
    paths = notebooks.build_batch(slug, len(solutions) + 3, tmp_path)
    assert len(paths) == len(solutions) + 3
    for path in paths:
        nbformat.validate(nbformat.read(path, as_version=4))
        assert json.loads(path.read_text())["metadata"]["otter"]["assignment_name"] == slug  # otter run needs it
    assert len({content_hash(path) for path in paths}) == len(paths)  # each copy is its own submission
    kinds = [path.name.split("-")[1] for path in paths[:4]]
    assert kinds == ["correct", "buggy", "correct", "buggy"]
    assert read_code_cells(paths[-1]) == read_code_cells(solutions[2])  # the fourth copy after a full cycle


def test_trivial_notebooks_define_the_toy_functions(tmp_path):
    [path] = notebooks.build_trivial_batch(1, tmp_path)
    nbformat.validate(nbformat.read(path, as_version=4))
    assert [source for _, source in read_code_cells(path)] == notebooks.TRIVIAL_TOY
    toy = load_assignment("toy", TEST_COURSE)
    assert all(f"def {name}(" in "".join(notebooks.TRIVIAL_TOY) for name in toy.functions)


def test_reference_cells_inline_the_reference_modules_they_import():
    cells = notebooks.reference_cells(notebooks.reference_module("random-restarts"))
    assert len(cells) == 2 and "def gradient_step" in cells[0] and "def random_restarts" in cells[1]
    assert not any("from reference" in cell for cell in cells)


@pytest.mark.parametrize("slug", ["gradient-descent", "random-restarts"])
def test_the_in_process_baseline_gives_the_reference_full_marks(slug):
    """The comparison is only fair if the stand-in session grades like a worker does."""
    assignment = load_assignment(slug, COURSE)
    cells = list(enumerate(notebooks.reference_cells(notebooks.reference_module(slug)), start=2))
    tests = run_suite(assignment.hidden_suite, assignment, InProcessSession.from_cells(cells))
    failed = [(test.name, test.output) for test in tests if not test.passed]
    assert tests and not failed
