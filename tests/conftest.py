"""Shared fixtures: the toy assignment (short budgets) and a notebook writer."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from autograder.grader.assignment import Assignment, load_assignment

COURSE = Path(__file__).resolve().parent.parent  # this repository: assignments/ and reference/
TEST_COURSE = Path(__file__).parent / "course"  # the toy assignment, with short budgets


@pytest.fixture
def toy() -> Assignment:
    return load_assignment("toy", TEST_COURSE)


@pytest.fixture
def write_notebook(tmp_path: Path) -> Callable[..., Path]:
    """Write a notebook whose code cells are ``cells``; returns its path."""

    def write(cells: list[str], name: str = "submission.ipynb", folder: Path | None = None) -> Path:
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_markdown_cell("# A submission")]
        notebook.cells += [nbformat.v4.new_code_cell(source) for source in cells]
        path = (folder or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, path)
        return path

    return write


TOY_CORRECT = [
    "import numpy as np",
    "def double(x):\n    return 2 * np.asarray(x, dtype=float)",
    "def apply_twice(f, x):\n    return f(f(x))",
]


@pytest.fixture(scope="session")
def installation(tmp_path_factory):
    """The engine installed from a wheel into a venv of the system Python, with copies of the courses,
    shared by the tests that build the environments courses run in (tests/environments.py)."""
    from autograder.grader.exports.wheel import build_wheel
    from tests import environments

    reason = environments.unavailable_reason()
    if reason:
        pytest.skip(reason)
    wheel_folder = tmp_path_factory.mktemp("engine-wheel")
    build_wheel(wheel_folder)
    built = environments.install(wheel_folder)
    yield built
    shutil.rmtree(built.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def validation():
    """``validate_assignment`` of a bundled assignment, run once per session and shared: by the test that
    checks every expectation, and by the test that compares the public checks wherever students meet them."""
    from autograder.grader.validate import validate_assignment

    reports: dict[str, tuple[object, list[str]]] = {}

    def validated(slug: str):
        if slug not in reports:
            log: list[str] = []
            reports[slug] = (validate_assignment(load_assignment(slug, COURSE), echo=log.append), log)
        return reports[slug]

    return validated
