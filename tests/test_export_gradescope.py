"""`autograder export gradescope`: the zip, unpacked into a fake /autograder tree, grades as on Gradescope.

run_autograder runs with this test's Python (AUTOGRADER_PYTHON) instead of the venv setup.sh would
build, since setup.sh installs the dependencies from PyPI; setup.sh itself is checked for syntax and
its offline install of the grader is repeated here from the wheel in the zip.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from click_cli import main
from tests.conftest import COURSE
from tests.test_results_schema import assert_gradescope_results

SOLUTIONS = COURSE / "assignments" / "gradient-descent" / "solutions"
BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed; Gradescope's scripts are bash scripts")


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("export") / "autograder.zip"
    result = CliRunner().invoke(main, ["export", "gradescope", "--course", str(COURSE), "gradient-descent",
                                       "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert "upload it as the autograder" in result.output
    return path


def unpack(zip_path: Path, root: Path) -> Path:
    """Lay the zip out as Gradescope does: source/ holds it, run_autograder is copied to the root."""
    source = root / "source"
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            target = source / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            target.chmod((info.external_attr >> 16) & 0o777 or 0o644)
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root


def run_autograder(root: Path) -> tuple[dict, subprocess.CompletedProcess]:
    for old in (root / "results").iterdir():  # each Gradescope run starts from an empty results folder
        old.unlink()
    env = {**os.environ, "AUTOGRADER_GRADESCOPE_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    completed = subprocess.run([str(root / "run_autograder")], env=env, cwd=root, capture_output=True, text=True,
                               timeout=300)
    written = sorted(path.name for path in (root / "results").iterdir())
    assert written == ["results.json"], f"{written}\n{completed.stdout}\n{completed.stderr}"
    data = json.loads((root / "results" / "results.json").read_text())
    assert_gradescope_results(data)
    return data, completed


def submit(root: Path, *notebooks: Path) -> None:
    shutil.rmtree(root / "submission")
    (root / "submission").mkdir()
    for notebook in notebooks:
        shutil.copy(notebook, root / "submission" / notebook.name)


def test_the_zip_holds_what_gradescope_expects(exported):
    with zipfile.ZipFile(exported) as archive:
        names = set(archive.namelist())
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
        requirements = archive.read("requirements.txt").decode().split()
        setup = archive.read("setup.sh").decode()
    wheels = [name for name in names if name.endswith(".whl")]
    assert len(wheels) == 1 and wheels[0].startswith("gd_autograder-")
    course = "course/assignments/gradient-descent/"
    # Exactly the engine, the scripts, and the course content grading needs: no solution, no source notebook,
    # no other assignment, no reference module the suites do not import.
    assert names == {"setup.sh", "run_autograder", "requirements.txt", wheels[0],
                     *(course + name for name in ("assignment.toml", "hidden_tests.py", "public_tests.py",
                                                  "problems.py", "mistakes.toml", "student/gradient-descent.ipynb")),
                     "course/reference/__init__.py", "course/reference/gradient_descent.py"}
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert any(line.startswith("numpy") for line in requirements)
    assert not any(line.startswith(("otter-grader", "distributed", "playwright")) for line in requirements)
    assert not any(line.startswith("ruff") for line in requirements), "development tools stay out of the image"
    # The grader itself comes from the zip, never from an index.
    assert f'--no-index --no-deps "$SOURCE/{wheels[0]}"' in setup and '-r "$SOURCE/requirements.txt"' in setup


@needs_bash
def test_the_scripts_are_valid_bash(exported, tmp_path):
    root = unpack(exported, tmp_path / "autograder")
    for script in ("setup.sh", "run_autograder"):
        checked = subprocess.run([BASH, "-n", str(root / "source" / script)], capture_output=True, text=True)
        assert checked.returncode == 0, f"{script}: {checked.stderr}"


def test_the_wheel_installs_offline_and_carries_the_grader(exported, tmp_path):
    with zipfile.ZipFile(exported) as archive:
        wheel_name = next(name for name in archive.namelist() if name.endswith(".whl"))
        wheel = tmp_path / wheel_name
        wheel.write_bytes(archive.read(wheel_name))
    target = tmp_path / "installed"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-index",
                                "--no-deps", "--target", str(target), str(wheel)],
                               capture_output=True, text=True, timeout=120)
    assert installed.returncode == 0, installed.stderr
    assert (target / "bin" / "autograder").is_file(), "the console script must come with the wheel"
    with zipfile.ZipFile(wheel) as archive:
        members = archive.namelist()
    # The engine and nothing else: course content is never installed where Python (and so a worker) looks.
    outside = [name for name in members if not name.startswith(("autograder/", "click_cli.py", "gd_autograder-"))]
    assert outside == [] and "autograder/worker/server.py" in members and "autograder/checks.py" in members
    assert not [name for name in members if name.endswith(".ipynb") or "hidden_tests" in name]
    imported = subprocess.run([sys.executable, "-c", "import autograder.grader.grading, "
                               "autograder.grader.exports.gradescope_run, click_cli; print(autograder.__file__)"],
                              env={**os.environ, "PYTHONPATH": str(target)}, cwd=tmp_path, capture_output=True,
                              text=True)
    assert imported.returncode == 0, imported.stderr
    assert Path(imported.stdout.strip()).is_relative_to(target)


@needs_bash
def test_run_autograder_gives_full_marks_to_a_correct_notebook_and_fewer_to_a_buggy_one(exported, tmp_path):
    root = unpack(exported, tmp_path / "autograder")
    submit(root, SOLUTIONS / "correct" / "helper-defined-later.ipynb")
    correct, completed = run_autograder(root)
    assert completed.returncode == 0, completed.stderr
    full = sum(test["max_score"] for test in correct["tests"])
    assert full > 0 and correct["score"] == full
    assert all(test["status"] == "passed" for test in correct["tests"])

    submit(root, SOLUTIONS / "buggy" / "forgot-learning-rate.ipynb")
    buggy, completed = run_autograder(root)
    assert completed.returncode == 0, completed.stderr
    assert 0 < buggy["score"] < full
    assert any(test["status"] == "failed" and test["output"] for test in buggy["tests"])


@needs_bash
def test_a_submission_without_exactly_one_notebook_scores_zero_and_says_why(exported, tmp_path):
    root = unpack(exported, tmp_path / "autograder")
    submit(root)
    (root / "submission" / "notes.txt").write_text("forgot the notebook")
    nothing, completed = run_autograder(root)
    assert completed.returncode == 0, completed.stderr
    assert nothing["score"] == 0 and "No notebook (.ipynb file) was found" in nothing["output"]

    submit(root, SOLUTIONS / "correct" / "vectorised.ipynb", SOLUTIONS / "correct" / "helper-defined-later.ipynb")
    several, _ = run_autograder(root)
    assert several["score"] == 0
    assert "2 notebooks (helper-defined-later.ipynb, vectorised.ipynb)" in several["output"]
    assert "Submit only the notebook you want graded" in several["output"]


@needs_bash
def test_a_broken_suite_is_reported_as_the_graders_fault(exported, tmp_path):
    root = unpack(exported, tmp_path / "autograder")
    (root / "source" / "course" / "assignments" / "gradient-descent" / "hidden_tests.py").write_text("def test_x(:\n")
    submit(root, SOLUTIONS / "correct" / "vectorised.ipynb")
    data, completed = run_autograder(root)
    assert completed.returncode == 1 and "Grader fault" in completed.stderr
    assert data["score"] == 0 and "not in your work" in data["output"] and "tell your instructor" in data["output"]
