"""The committed student notebooks are what ``otter assign`` makes of their sources, with blank answers.

A source notebook edited without regenerating its student notebook would hand students an outdated
assignment, so every student notebook is compared with a fresh generation. Each student notebook must
also keep the graded functions' signatures and docstrings with ``...`` as their bodies (so every one
returns None and scores zero), and carry a ``grader.check`` cell for each graded function.
"""

from __future__ import annotations

import ast
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from autograder.grader.authoring import (
    generate_student_notebooks,
    normalise_notebook,
    slugs_with_sources,
    source_notebook_path,
    student_notebook_path,
)

ASSIGNMENTS = Path(__file__).resolve().parent.parent / "assignments"
SLUGS = slugs_with_sources(ASSIGNMENTS)
REGENERATE = "autograder build-notebooks"


def cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def code_sources(notebook: dict[str, Any]) -> list[str]:
    return [cell_source(cell) for cell in notebook["cells"] if cell.get("cell_type") == "code"]


def parse_cell(source: str) -> ast.Module:
    """Parse a code cell, blanking IPython magics and shell escapes the way Jupyter would run them."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    return ast.parse("\n".join(lines))


def graded_functions(slug: str) -> list[str]:
    config = tomllib.loads((ASSIGNMENTS / slug / "assignment.toml").read_text(encoding="utf-8"))
    return list(config["functions"])


def functions_of_the_source(slug: str) -> set[str]:
    """Functions the source notebook's solution defines (graded items that are none grade something else)."""
    source = json.loads(source_notebook_path(ASSIGNMENTS / slug, slug).read_text(encoding="utf-8"))
    return {node.name for text in code_sources(source) for node in parse_cell(text).body
            if isinstance(node, ast.FunctionDef)}


def load_student(slug: str) -> dict[str, Any]:
    path = student_notebook_path(ASSIGNMENTS / slug, slug)
    assert path.is_file(), f"{path} is missing; run `{REGENERATE}` to generate it from the source notebook."
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fresh_notebooks() -> dict[str, str]:
    """One ``otter assign`` run per source notebook, shared by the parametrised comparisons."""
    return generate_student_notebooks(ASSIGNMENTS)


def test_there_are_source_notebooks():
    assert SLUGS, f"no assignment under {ASSIGNMENTS} has a source/<slug>.ipynb notebook"


@pytest.mark.parametrize("slug", SLUGS)
def test_student_notebook_is_current(slug: str, fresh_notebooks: dict[str, str]):
    path = student_notebook_path(ASSIGNMENTS / slug, slug)
    source = source_notebook_path(ASSIGNMENTS / slug, slug)
    relative = path.relative_to(ASSIGNMENTS.parent)
    assert path.is_file(), f"{relative} is missing; run `{REGENERATE}` to generate it."
    committed = path.read_text(encoding="utf-8")
    assert committed == fresh_notebooks[slug], (
        f"{relative} is out of date with {source.relative_to(ASSIGNMENTS.parent)}: run `{REGENERATE}` "
        "to regenerate the student notebooks, and commit the result.")


@pytest.mark.parametrize("slug", SLUGS)
def test_student_solutions_are_blank(slug: str):
    notebook = load_student(slug)
    for number, cell in enumerate(notebook["cells"], start=1):
        text = cell_source(cell)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN TESTS", "BEGIN QUESTION", "ASSIGNMENT CONFIG"):
            assert marker not in text, f"cell {number} of the {slug} student notebook still contains {marker!r}"
    definitions: dict[str, list[ast.FunctionDef]] = {}
    for source in code_sources(notebook):
        for node in parse_cell(source).body:
            if isinstance(node, ast.FunctionDef):
                definitions.setdefault(node.name, []).append(node)
    solved = functions_of_the_source(slug)
    for name in graded_functions(slug):
        if name not in solved:  # a graded item that is no function (learning-rate's trace_plot grades a figure)
            assert name not in definitions, f"the {slug} student notebook defines {name}(), its source does not"
            continue
        assert name in definitions, f"the {slug} student notebook does not define {name}()"
        for node in definitions[name]:
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                body = body[1:]  # the docstring, which students keep
            blank = (len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                     and body[0].value.value is Ellipsis)
            assert blank, f"in the {slug} student notebook, the body of {name}() is not just `...`"
            assert ast.get_docstring(node), f"in the {slug} student notebook, {name}() lost its docstring"


@pytest.mark.parametrize("slug", SLUGS)
def test_student_notebook_has_check_cells(slug: str):
    """The notebook sets up ``grader`` for its own assignment before anything else, checks every graded
    function exactly once after the cell that defines it, and carries no test cases of its own (the public
    checks live in ``public_tests.py`` only, so Jupyter and ``autograder check`` cannot disagree)."""
    notebook = load_student(slug)
    sources = code_sources(notebook)
    init = parse_cell(sources[0])
    set_up = [node for node in ast.walk(init) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "Notebook"]
    assert [call.args[0].value for call in set_up if call.args] == [slug], (
        f"the first code cell of the {slug} student notebook must set up grader = Notebook({slug!r})")
    assert any(isinstance(node, ast.ImportFrom) and node.module == "autograder.student" for node in init.body)
    checked: list[str] = []
    defined: set[str] = set()
    for source in sources[1:]:
        tree = parse_cell(source)
        for call in ast.walk(tree):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "check" \
                    and isinstance(call.func.value, ast.Name) and call.func.value.id == "grader":
                name = call.args[0].value
                assert name in defined, f"the {slug} student notebook checks {name}() before defining it"
                checked.append(name)
        defined |= {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    functions = [name for name in graded_functions(slug) if name in functions_of_the_source(slug)]
    assert sorted(checked) == sorted(functions), (
        f"the {slug} student notebook checks {checked} but its graded functions are {functions}")
    tests = notebook.get("metadata", {}).get("otter", {}).get("tests", {})
    assert not tests, f"the {slug} student notebook carries test cases of its own: {sorted(tests)}"


def test_normalise_notebook_is_deterministic():
    notebook = {
        "nbformat": 4, "nbformat_minor": 5, "metadata": {"b": 1, "a": 2},
        "cells": [
            {"id": "0f3c9a1e", "cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [{"x": 1}],
             "execution_count": 3},
            {"id": "random-id", "cell_type": "markdown", "metadata": {}, "source": "text"},
        ],
    }
    text = normalise_notebook(notebook)
    again = dict(notebook, cells=[dict(cell, id="another") for cell in notebook["cells"]])
    assert normalise_notebook(again) == text
    parsed = json.loads(text)
    assert [cell["id"] for cell in parsed["cells"]] == ["cell-000", "cell-001"]
    assert parsed["cells"][0]["outputs"] == [] and parsed["cells"][0]["execution_count"] is None
    assert text.endswith("\n") and list(parsed["metadata"]) == ["a", "b"]
    assert notebook["cells"][0]["id"] == "0f3c9a1e", "normalise_notebook must not change its argument"
