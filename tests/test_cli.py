"""The ``autograder`` command, through click's CliRunner and as a real subprocess."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from click_cli import main
from tests.conftest import COURSE, TEST_COURSE, TOY_CORRECT
from tests.test_batch import BUGGY_DOUBLE


def run(*args: str):
    return CliRunner().invoke(main, ["--help"] if not args else list(args), catch_exceptions=False)


@pytest.mark.parametrize("command", [[], ["grade"], ["check"], ["validate"]], ids=["group", "grade", "check",
                                                                                  "validate"])
def test_every_command_explains_itself_with_an_example(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Example" in result.output


def test_grade_exits_zero_whatever_the_students_scored(tmp_path, write_notebook):
    write_notebook(TOY_CORRECT, "good.ipynb", tmp_path / "subs")
    write_notebook(BUGGY_DOUBLE, "bad.ipynb", tmp_path / "subs")
    result = run("grade", "--assignment", "toy", "--course", str(TEST_COURSE), "--out",
                 str(tmp_path / "out"), str(tmp_path / "subs"))
    assert result.exit_code == 0, result.output
    assert "Scores: mean 3.50 / 5; 1 of 2 with full marks; 0 could not be run" in result.output
    assert "2/2 submissions" in result.output  # the progress line of a non-terminal run
    assert (tmp_path / "out" / "results" / "bad.json").exists()


def test_usage_errors_exit_non_zero_with_a_message(tmp_path, write_notebook):
    unknown = run("grade", "--assignment", "nope", "--course", str(TEST_COURSE), "--out",
                  str(tmp_path / "out"), str(tmp_path))
    assert unknown.exit_code == 2 and "There is no assignment 'nope'" in unknown.output and "toy" in unknown.output
    missing = run("grade", "--assignment", "toy", "--course", str(TEST_COURSE), "--out",
                  str(tmp_path / "out"), str(tmp_path / "does-not-exist"))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    (tmp_path / "empty").mkdir()
    nothing = run("grade", "--assignment", "toy", "--course", str(TEST_COURSE), "--out",
                  str(tmp_path / "out"), str(tmp_path / "empty"))
    assert nothing.exit_code == 2 and "No *.ipynb files" in nothing.output


def test_a_broken_suite_is_a_grader_fault(tmp_path, write_notebook):
    assignments = tmp_path / "assignments"
    shutil.copytree(TEST_COURSE / "assignments" / "toy", assignments / "toy")
    (assignments / "toy" / "hidden_tests.py").write_text("def test_x(:\n    pass\n")
    notebook = write_notebook(TOY_CORRECT)
    result = run("grade", "--assignment", "toy", "--course", str(tmp_path), "--out",
                 str(tmp_path / "out"), str(notebook))
    assert result.exit_code == 1 and "cannot be used" in result.output and "Fix the suite" in result.output


def test_check_exit_status_follows_the_public_checks(write_notebook):
    good = run("check", "--assignment", "toy", "--course", str(TEST_COURSE),
               str(write_notebook(TOY_CORRECT, "good.ipynb")))
    assert good.exit_code == 0 and "PASS  double: double(2.0) is 4.0" in good.output
    bad = run("check", "--assignment", "toy", "--course", str(TEST_COURSE),
              str(write_notebook(BUGGY_DOUBLE, "bad.ipynb")))
    assert bad.exit_code == 1 and "FAIL" in bad.output and "expected 4, got 6" in bad.output


def _solution(path: Path, cells: list[str], meta: dict) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["autograder"] = meta
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


def test_validate_passes_on_right_expectations_and_fails_on_wrong_ones(tmp_path):
    assignments = tmp_path / "assignments"
    shutil.copytree(TEST_COURSE / "assignments" / "toy", assignments / "toy")
    solutions = assignments / "toy" / "solutions"
    _solution(solutions / "correct" / "plain.ipynb", TOY_CORRECT, {"expect": "correct"})
    _solution(solutions / "buggy" / "triple.ipynb", BUGGY_DOUBLE, {"expect": "buggy", "breaks": ["double"],
                                                                    "bug": "multiplies by 3"})
    good = run("validate", "--course", str(tmp_path), "toy")  # with the toy's own student notebook
    assert good.exit_code == 0, good.output
    assert "caught by: double: doubles an array; double: doubles a float" in good.output
    _solution(solutions / "buggy" / "mislabelled.ipynb", BUGGY_DOUBLE, {"expect": "buggy", "breaks": ["apply_twice"]})
    bad = run("validate", "--course", str(tmp_path), "toy")
    assert bad.exit_code == 1
    assert "the bug in apply_twice was not caught" in bad.output
    assert "points were also lost on double" in bad.output


def test_grade_as_a_real_subprocess(tmp_path, write_notebook):
    write_notebook(TOY_CORRECT, "good.ipynb", tmp_path / "subs")
    (tmp_path / "subs" / "junk.ipynb").write_text("not json")
    command = shutil.which("autograder", path=str(Path(sys.executable).parent))
    prefix = [command] if command else [sys.executable, "-m", "click_cli"]
    completed = subprocess.run([*prefix, "grade", "--assignment", "toy", "--course", str(TEST_COURSE),
                                "--out", str(tmp_path / "out"), str(tmp_path / "subs")],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        rows = {row["submission"]: row for row in csv.DictReader(handle)}
    assert rows["good"]["score"] == "5" and rows["junk"]["score"] == "0"
    junk = json.loads((tmp_path / "out" / "results" / "junk.json").read_text())
    assert "not valid notebook JSON" in junk["output"]


def test_an_out_folder_of_another_assignment_is_refused_and_left_as_it_was(tmp_path, write_notebook):
    write_notebook(TOY_CORRECT, "good.ipynb", tmp_path / "subs")
    first = run("grade", "--assignment", "toy", "--course", str(TEST_COURSE), "--out", str(tmp_path / "out"),
                str(tmp_path / "subs"))
    assert first.exit_code == 0, first.output
    before = {path: path.read_bytes() for path in (tmp_path / "out").rglob("*") if path.is_file()}
    other = run("grade", "--assignment", "gradient-descent", "--course", str(COURSE), "--out",
                str(tmp_path / "out"), str(tmp_path / "subs"))
    assert other.exit_code == 2
    assert "holds the outputs of toy; grading gradient-descent there would replace" in other.output
    assert {path: path.read_bytes() for path in (tmp_path / "out").rglob("*") if path.is_file()} == before


def test_validate_fails_when_a_test_and_the_notebook_part_ways(tmp_path):
    """Traceability: a quote the student notebook does not say, a test that quotes nothing, and a sentence of
    the notebook no test enforces each fail validate, with the sentence or test named."""
    shutil.copytree(TEST_COURSE / "assignments" / "toy", tmp_path / "assignments" / "toy")
    suite = tmp_path / "assignments" / "toy" / "hidden_tests.py"
    notebook = tmp_path / "assignments" / "toy" / "student" / "toy.ipynb"
    assert run("validate", "--course", str(tmp_path), "toy").exit_code == 0
    suite.write_text(suite.read_text().replace('states=["returning `f(f(x))`.", "Apply f twice."]',
                                              'states=["returning f(x) once."]'))
    changed = nbformat.read(notebook, as_version=4)
    changed.cells.append(nbformat.v4.new_markdown_cell("## Question 3\n\nNever print anything."))
    nbformat.write(changed, notebook)
    bad = run("validate", "--course", str(tmp_path), "toy")
    assert bad.exit_code == 1
    assert "quotes 'returning f(x) once.', which the student notebook does not say" in bad.output
    assert "no test enforces the notebook's sentence 'Write `apply_twice(f, x)`, returning `f(f(x))`.'" in bad.output
    assert "no test enforces the notebook's sentence 'Never print anything.'" in bad.output
    suite.write_text(suite.read_text().replace(', states=["returning f(x) once."]', ""))
    unquoted = run("validate", "--course", str(tmp_path), "toy")
    assert "apply_twice: applies a grader function twice names no sentence of the student notebook" in unquoted.output
