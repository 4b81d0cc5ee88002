"""The GitHub Classroom workflow template, run here step by step as GitHub Actions would run it.

The ``uses:`` steps (checkout, setup-python) are played by the test: the working folder stands for
the student's repository and this test's Python for the one set up. The ``run:`` steps run as
written, with ``bash -e`` (Actions' default shell) and the workflow's env, except that
``AUTOGRADER_PACKAGE`` points at a wheel of the local checkout instead of the network, and pip
installs it into a throwaway virtual environment that borrows this environment's dependencies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from autograder.grader.exports.wheel import build_wheel

REPOSITORY = Path(__file__).parent.parent
WORKFLOW = REPOSITORY / "templates" / "github-classroom" / ".github" / "workflows" / "autograder.yml"
SOLUTIONS = REPOSITORY / "assignments" / "gradient-descent" / "solutions"
BASH = shutil.which("bash")
needs_bash = pytest.mark.skipif(BASH is None, reason="bash is not installed; GitHub Actions runs run: steps with bash")


def load_workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def run_steps() -> list[dict]:
    (job,) = load_workflow()["jobs"].values()
    return [step for step in job["steps"] if "run" in step]


def is_install(step: dict) -> bool:
    return "$AUTOGRADER_PACKAGE" in step["run"]


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    """Run the install steps once; return a function running the remaining steps in a repository."""
    tmp = tmp_path_factory.mktemp("workflow")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    # A plain path line: this environment's packages (pip, numpy, ...) become importable, but not its
    # editable install of the grader, whose hook lives in a .pth file that this line does not run.
    (purelib / "borrowed-dependencies.pth").write_text(
        "\n".join(dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])) + "\n")
    env = {**os.environ, **{key: str(value) for key, value in load_workflow()["env"].items()},
           "AUTOGRADER_PACKAGE": str(build_wheel(tmp / "wheel")), "PIP_NO_INDEX": "1",
           "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)

    def run(steps: list[dict], repository: Path) -> list[subprocess.CompletedProcess]:
        completed = []
        for step in steps:
            script = repository.parent / "step.sh"
            script.write_text(step["run"], encoding="utf-8")
            step_env = {**env, **{key: str(value) for key, value in step.get("env", {}).items()}}
            completed.append(subprocess.run([BASH, "-e", str(script)], cwd=repository, env=step_env,
                                            capture_output=True, text=True, timeout=300))
            if completed[-1].returncode != 0:
                break
        return completed

    install_steps = [step for step in run_steps() if is_install(step)]
    (tmp / "repository").mkdir()
    installed = run(install_steps, tmp / "repository")
    assert [c.returncode for c in installed] == [0] * len(install_steps), installed[-1].stderr
    assert (venv / "bin" / "autograder").exists(), "the install step must put the autograder command on PATH"
    return lambda repository: run([step for step in run_steps() if not is_install(step)], repository)


def student_repository(tmp_path: Path, notebook: Path | None) -> Path:
    repository = tmp_path / "student-repository"
    repository.mkdir()
    if notebook is not None:
        shutil.copy(notebook, repository / load_workflow()["env"]["NOTEBOOK"])
    return repository


def test_the_template_installs_the_grader_and_checks_the_notebook():
    workflow = load_workflow()
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert "push" in triggers
    assert workflow["env"]["ASSIGNMENT"] == "gradient-descent" and workflow["env"]["NOTEBOOK"].endswith(".ipynb")
    (job,) = workflow["jobs"].values()
    uses = [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]
    assert uses == ["actions/checkout", "actions/setup-python"]
    python = next(step["with"]["python-version"] for step in job["steps"] if "setup-python" in step.get("uses", ""))
    assert tuple(map(int, str(python).split("."))) >= (3, 11), "the grader needs Python 3.11 or later"
    commands = [step["run"] for step in run_steps()]
    assert sum(map(is_install, run_steps())) == 1
    assert any('autograder check --assignment "$ASSIGNMENT" "$NOTEBOOK"' in command for command in commands)


@needs_bash
def test_a_correct_notebook_passes_every_step(runner, tmp_path):
    completed = runner(student_repository(tmp_path, SOLUTIONS / "correct" / "vectorised.ipynb"))
    assert [c.returncode for c in completed] == [0] * len(completed), completed[-1].stdout + completed[-1].stderr
    assert "public checks passed" in completed[-1].stdout


@needs_bash
def test_a_buggy_notebook_fails_the_check_step_and_says_why(runner, tmp_path):
    completed = runner(student_repository(tmp_path, SOLUTIONS / "buggy" / "sign-error-in-step.ipynb"))
    assert completed[-1].returncode == 1, completed[-1].stdout + completed[-1].stderr
    assert "FAIL" in completed[-1].stdout and "expected" in completed[-1].stdout


@needs_bash
def test_a_repository_without_the_notebook_fails_with_a_message(runner, tmp_path):
    completed = runner(student_repository(tmp_path, None))
    assert completed[-1].returncode == 1
    assert "Commit your notebook under exactly that name" in completed[-1].stdout
