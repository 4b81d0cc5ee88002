"""Nothing hidden in anything a student installs, receives or can read, for every bundled assignment.

The artifacts: the folder ``autograder export student`` writes (the notebook, the Classroom workflow,
the public course files) and the wheel inside it (what the student's CI and laptop install), and what
Gradescope shows a student before the due date (the top-level output and the visible tests).

Each is listed file by file and must hold none of the hidden suite, the reference modules, the source
notebook or an example solution: not by name, not by content, not a line of the reference code, and no
top-level definition named like a graded function (from which an answer could be computed).
"""

from __future__ import annotations

import ast
import hashlib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.grader.assignment import available_slugs, load_assignment, names_like_graded_functions
from autograder.grader.grading import grade_notebook
from click_cli import main
from tests.conftest import COURSE

SLUGS = available_slugs(COURSE)
HEAVY_PACKAGES = ("distributed", "dask", "playwright", "otter-grader", "nbconvert")


def secret_files(slug: str) -> list[Path]:
    folder = COURSE / "assignments" / slug
    return [folder / "hidden_tests.py", *sorted((COURSE / "reference").glob("*.py")),
            *sorted((folder / "source").glob("*.ipynb")), *sorted((folder / "solutions").rglob("*.ipynb"))]


COMPUTES = (" - ", " + ", " * ", " / ", " @ ", "**", "exp(", "log(", "sqrt(", "maximum(", "where(")


def reference_code_lines() -> set[str]:
    """Lines of the reference modules' function bodies that compute something (an operator or a maths
    function in a line of some length), rather than convert or check their arguments."""
    lines = set()
    for module in (COURSE / "reference").glob("*.py"):
        source = module.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                for statement in body:
                    segment = ast.get_source_segment(source, statement) or ""
                    lines |= {line.strip() for line in segment.splitlines()
                              if len(line.strip()) >= 20 and any(sign in line for sign in COMPUTES)}
    return lines


def answer_sources(source: str, functions: tuple[str, ...]) -> list[str]:
    """What in a Python file could hand a student an answer: an import of the reference modules, or a
    top-level definition named like a graded function (test functions, named after what they test, aside)."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [f"imports {module}" for module in modules
                      if module == "reference" or module.startswith("reference.")]
    answers = {name: function for name, function in names_like_graded_functions(source, functions).items()
               if not name.startswith("test_")}
    return found + ([f"defines names like graded functions: {answers}"] if answers else [])


def artifact_texts(folder: Path) -> dict[str, bytes]:
    """Every file of the student folder, and every member of the wheels in it, by name."""
    texts = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            name = path.relative_to(folder).as_posix()
            texts[name] = path.read_bytes()
            if name.endswith(".whl"):
                with zipfile.ZipFile(path) as wheel:
                    texts |= {f"{name}!{member}": wheel.read(member) for member in wheel.namelist()}
    return texts


@pytest.fixture(scope="module")
def reference_lines() -> set[str]:
    lines = reference_code_lines()
    assert len(lines) >= 30, "the reference modules should give many lines to look for"
    return lines


@pytest.mark.parametrize("slug", SLUGS)
def test_the_student_folder_and_what_it_installs_hold_nothing_hidden(slug, tmp_path, reference_lines):
    folder = tmp_path / "student"
    result = CliRunner().invoke(main, ["export", "student", "--course", str(COURSE), slug, "-o", str(folder)])
    assert result.exit_code == 0, result.output
    texts = artifact_texts(folder)
    assignment = load_assignment(slug, COURSE)
    assert texts[f"{slug}.ipynb"] == assignment.student_notebook.read_bytes()
    assert ".github/workflows/autograder.yml" in texts

    secrets = secret_files(slug)
    # The student notebook shares its name with the source notebook; every package has an __init__.py.
    secret_names = {path.name for path in secrets} - {f"{slug}.ipynb", "__init__.py"}
    secret_digests = {hashlib.sha256(path.read_bytes()).hexdigest(): path for path in secrets}
    # A line the notebook itself states (the update rule a question spells out) is the specification.
    stated = assignment.student_notebook.read_text(encoding="utf-8")
    secret_lines = {line for line in reference_lines if line not in stated}
    problems = []
    for name, content in texts.items():
        if Path(name.split("!")[-1]).name in secret_names:
            problems.append(f"{name} is named like a hidden file")
        if hashlib.sha256(content).hexdigest() in secret_digests:
            problems.append(f"{name} is a copy of {secret_digests[hashlib.sha256(content).hexdigest()]}")
        text = content.decode("utf-8", errors="replace")
        leaked = sorted(line for line in secret_lines if line in text)
        if leaked:
            problems.append(f"{name} holds reference code: {leaked[:3]}")
        for marker in ("BEGIN SOLUTION", "END SOLUTION"):
            if marker in text:
                problems.append(f"{name} contains {marker!r}")
        if name.endswith(".py"):
            problems += [f"{name}: {problem}" for problem in answer_sources(text, assignment.functions)]
    assert not problems, "\n".join(problems)

    wheel = next(name for name in texts if name.endswith(".whl"))
    metadata = next(content for name, content in texts.items() if name.startswith(wheel + "!")
                    and name.endswith(".dist-info/METADATA")).decode()
    required = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    everyone = [line for line in required if "extra ==" not in line]
    assert everyone and not [line for line in everyone if line.startswith(HEAVY_PACKAGES)], (
        f"students would install heavy packages: {everyone}")


@pytest.mark.parametrize("solution", ["buggy/sign-error-in-step", "correct/vectorised"])
def test_what_gradescope_shows_before_the_due_date_reveals_no_held_back_result(solution):
    """Held-back tests (hidden, after_due_date) appear only with their own visibility, and the visible
    parts (top-level output, visible tests) give no total, no function score and none of their names."""
    assignment = load_assignment("gradient-descent", COURSE)
    path = assignment.folder / "solutions" / f"{solution}.ipynb"
    shown = grade_notebook(path, "someone", assignment, public_checks=True).to_gradescope()
    held_back = [test for test in shown["tests"] if test["visibility"] in ("hidden", "after_due_date")]
    visible = [test for test in shown["tests"] if test["visibility"] == "visible"]
    assert held_back and visible, "this check needs an assignment with held-back tests"
    output = shown["output"]
    assert "Score" not in output and "/" not in output.split("\n", 2)[-1], output
    for test in held_back:
        assert test["name"] not in output and all(test["name"] not in v["output"] for v in visible)
    public = [test for test in visible if "public check" in test["tags"]]
    assert public and f"{sum(t['status'] == 'passed' for t in public)} of {len(public)} passed" in output
    checked = grade_notebook(path, "someone", assignment, public=True)
    assert sorted((t["name"].removeprefix("Public check, "), t["status"] == "passed", t["output"]) for t in public) \
        == sorted((t.name, t.passed, t.output) for t in checked.tests), "Gradescope and autograder check disagree"
