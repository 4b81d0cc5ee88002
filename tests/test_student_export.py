"""`autograder export student`: what students get, and its CI workflow run step by step as GitHub Actions would.

The ``uses:`` steps (checkout, setup-python) are played by the test: the exported folder stands for the
student's repository and this test's Python for the one set up. The ``run:`` steps run as written,
with ``bash -e`` (Actions' default shell) and the workflow's env; pip installs from the folder into a
throwaway virtual environment that borrows this environment's dependencies (no network here).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from click_cli import main
from tests.conftest import COURSE

SOLUTIONS = COURSE / "assignments" / "gradient-descent" / "solutions"
BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed; GitHub Actions runs run: steps with bash")


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("student") / "gradient-descent-student"
    result = CliRunner().invoke(main, ["export", "student", "--course", str(COURSE), "gradient-descent",
                                       "-o", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def load_workflow(folder: Path) -> dict:
    return yaml.safe_load((folder / ".github" / "workflows" / "autograder.yml").read_text(encoding="utf-8"))


def run_steps(folder: Path) -> list[dict]:
    (job,) = load_workflow(folder)["jobs"].values()
    return [step for step in job["steps"] if "run" in step]


def is_install(step: dict) -> bool:
    return "pip install" in step["run"]


@pytest.fixture(scope="module")
def runner(tmp_path_factory, exported):
    """A function that copies the exported folder as a student's repository holding ``notebook`` and runs
    every ``run:`` step of its workflow there, in order, stopping at the first that fails."""
    tmp = tmp_path_factory.mktemp("workflow")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    # A plain path line: this environment's packages (pip, numpy, ...) become importable, but not its
    # editable install of the grader, whose hook lives in a .pth file that this line does not run.
    (purelib / "borrowed-dependencies.pth").write_text(
        "\n".join(dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])) + "\n")
    env = {**os.environ, **{key: str(value) for key, value in load_workflow(exported)["env"].items()},
           "PIP_NO_INDEX": "1", "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "AUTOGRADER_COURSE"):
        env.pop(name, None)

    def run(notebook: Path | None, name: str) -> list[subprocess.CompletedProcess]:
        repository = tmp / name
        shutil.copytree(exported, repository)
        target = repository / load_workflow(exported)["env"]["NOTEBOOK"]
        target.unlink()
        if notebook is not None:
            shutil.copy(notebook, target)
        completed = []
        for step in run_steps(repository):
            script = tmp / f"{name}-step.sh"
            script.write_text(step["run"], encoding="utf-8")
            step_env = {**env, **{key: str(value) for key, value in step.get("env", {}).items()}}
            completed.append(subprocess.run([BASH, "-e", str(script)], cwd=repository, env=step_env,
                                            capture_output=True, text=True, timeout=300))
            if completed[-1].returncode != 0:
                break
        return completed

    return run


def test_the_student_folder_holds_nothing_hidden(exported):
    files = sorted(path.relative_to(exported).as_posix() for path in exported.rglob("*") if path.is_file())
    wheels = [name for name in files if name.endswith(".whl")]
    assert len(wheels) == 1 and wheels[0].startswith(".autograder/gd_autograder-")
    course = ".autograder/course/assignments/gradient-descent/"
    assert files == sorted([".github/workflows/autograder.yml", "gradient-descent.ipynb", wheels[0],
                            course + "assignment.toml", course + "public_tests.py", course + "problems.py"])
    with zipfile.ZipFile(exported / wheels[0]) as archive:
        members = archive.namelist()
    assert not [name for name in members if not name.startswith(("autograder/", "click_cli.py", "gd_autograder-"))]
    assert not [name for name in members if name.endswith(".ipynb") or "hidden_tests" in name or "reference" in name]
    student_notebook = (exported / "gradient-descent.ipynb").read_text()
    assert "BEGIN SOLUTION" not in student_notebook and "END SOLUTION" not in student_notebook


def test_the_workflow_installs_from_the_repository_and_checks_the_notebook(exported):
    workflow = load_workflow(exported)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert "push" in triggers
    assert workflow["env"] == {"ASSIGNMENT": "gradient-descent", "NOTEBOOK": "gradient-descent.ipynb"}
    (job,) = workflow["jobs"].values()
    uses = [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]
    assert uses == ["actions/checkout", "actions/setup-python"]
    python = next(step["with"]["python-version"] for step in job["steps"] if "setup-python" in step.get("uses", ""))
    assert tuple(map(int, str(python).split("."))) >= (3, 11), "the grader needs Python 3.11 or later"
    installs = [step["run"] for step in run_steps(exported) if is_install(step)]
    assert installs == ["python -m pip install --disable-pip-version-check .autograder/*.whl"], \
        "the workflow must install only what is in the repository, never the course's repository"


@needs_bash
def test_a_correct_notebook_passes_every_step(runner):
    completed = runner(SOLUTIONS / "correct" / "vectorised.ipynb", "correct")
    assert [c.returncode for c in completed] == [0] * len(completed), completed[-1].stdout + completed[-1].stderr
    assert len(completed) == 2  # the install step, then the check step
    assert "public checks passed" in completed[-1].stdout


@needs_bash
def test_a_buggy_notebook_fails_the_check_step_and_says_why(runner):
    completed = runner(SOLUTIONS / "buggy" / "sign-error-in-step.ipynb", "buggy")
    assert completed[-1].returncode == 1, completed[-1].stdout + completed[-1].stderr
    assert "FAIL" in completed[-1].stdout and "expected" in completed[-1].stdout


@needs_bash
def test_a_repository_without_the_notebook_fails_with_a_message(runner):
    completed = runner(None, "missing")
    assert completed[-1].returncode == 1
    assert "Commit your notebook under exactly that name" in completed[-1].stdout


def test_the_export_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "keep.txt").write_text("the instructor's notes")
    result = CliRunner().invoke(main, ["export", "student", "--course", str(COURSE), "gradient-descent",
                                       "-o", str(tmp_path)])
    assert result.exit_code == 1 and "is not empty" in result.output
