"""`autograder export student`: what students get, and its CI workflow run step by step as GitHub Actions would.

The ``uses:`` steps are played by the test: the exported folder stands for the student's repository
(checkout), this test's Python for the one set up (setup-python), and GitHub Classroom's grading reporter
is read as its source does: for each runner in ``runners``, base64-decode ``<RUNNER>_RESULTS`` and parse
the JSON. The ``run:`` steps run as written, with ``bash -e`` (Actions' default shell), the workflow's env
and a ``$GITHUB_OUTPUT`` file whose ``name=value`` lines become ``steps.<id>.outputs``; pip installs from
the folder into a throwaway virtual environment that borrows this environment's dependencies (no network
here).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
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


@dataclass
class WorkflowRun:
    """What the steps did: each ``run:`` step's process, and what each step with an id put in its outputs."""

    completed: list[subprocess.CompletedProcess]
    outputs: dict[str, dict[str, str]]

    @property
    def failed(self) -> bool:
        return any(process.returncode != 0 for process in self.completed)

    def reporter_input(self, workflow: dict) -> list[dict]:
        """The runner results the grading reporter step would decode, as its source reads them."""
        (job,) = workflow["jobs"].values()
        step = next(step for step in job["steps"] if "autograding-grading-reporter" in step.get("uses", ""))
        runners = step["with"]["runners"]
        assert re.fullmatch(r"([a-zA-Z0-9]+,)*[a-zA-Z0-9]+", runners), "the reporter refuses other runner names"
        results = []
        for runner in runners.split(","):
            template = step["env"][f"{runner.upper()}_RESULTS"]
            step_id, name = re.fullmatch(r"\$\{\{ steps\.(\w+)\.outputs\.(\w+) \}\}", template).groups()
            encoded = self.outputs.get(step_id, {}).get(name, "")
            results.append(json.loads(base64.b64decode(encoded).decode("utf-8")))
        return results


def read_step_outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line)


@pytest.fixture(scope="module")
def runner(tmp_path_factory, exported):
    """A function that copies the exported folder as a student's repository holding ``notebook`` and runs
    every ``run:`` step of its workflow there, in order, as Actions would: a failing step stops the job
    unless it has ``continue-on-error``."""
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

    def run(notebook: Path | None, name: str) -> WorkflowRun:
        repository = tmp / name
        shutil.copytree(exported, repository)
        target = repository / load_workflow(exported)["env"]["NOTEBOOK"]
        target.unlink()
        if notebook is not None:
            shutil.copy(notebook, target)
        completed, outputs = [], {}
        for number, step in enumerate(run_steps(repository)):
            script = tmp / f"{name}-step.sh"
            script.write_text(step["run"], encoding="utf-8")
            github_output = tmp / f"{name}-output-{number}"
            github_output.write_text("")
            step_env = {**env, **{key: str(value) for key, value in step.get("env", {}).items()},
                        "GITHUB_OUTPUT": str(github_output)}
            completed.append(subprocess.run([BASH, "-e", str(script)], cwd=repository, env=step_env,
                                            capture_output=True, text=True, timeout=300))
            if "id" in step:
                outputs[step["id"]] = read_step_outputs(github_output)
            if completed[-1].returncode != 0 and not step.get("continue-on-error"):
                break
        return WorkflowRun(completed, outputs)

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


def test_the_workflow_installs_from_the_repository_and_reports_to_classroom(exported):
    workflow = load_workflow(exported)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert {"push", "repository_dispatch"} <= set(triggers), "Classroom starts the grading with repository_dispatch"
    assert workflow["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    assert workflow["env"] == {"ASSIGNMENT": "gradient-descent", "NOTEBOOK": "gradient-descent.ipynb"}
    (job,) = workflow["jobs"].values()
    assert job["if"] == "github.actor != 'github-classroom[bot]'"
    uses = [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]
    assert uses == ["actions/checkout", "actions/setup-python", "classroom-resources/autograding-grading-reporter"]
    assert "uses" in job["steps"][-1], "the report comes last, after the checks"
    python = next(step["with"]["python-version"] for step in job["steps"] if "setup-python" in step.get("uses", ""))
    assert tuple(map(int, str(python).split("."))) >= (3, 11), "the grader needs Python 3.11 or later"
    installs = [step["run"] for step in run_steps(exported) if is_install(step)]
    assert installs == ["python -m pip install --disable-pip-version-check .autograder/*.whl"], \
        "the workflow must install only what is in the repository, never the course's repository"


def assert_reporter_format(result: dict) -> None:
    """What the grading reporter reads of a runner's result."""
    assert result["version"] == 1 and result["status"] in {"pass", "fail", "error"}
    assert isinstance(result["max_score"], int | float) and result["max_score"] > 0
    assert result["tests"], "no checks were reported"
    for test in result["tests"]:
        assert set(test) >= {"name", "status", "message", "score"}
        assert test["status"] in {"pass", "fail", "error"} and isinstance(test["score"], int | float)
    assert sum(test.get("max_score", 0) for test in result["tests"]) == pytest.approx(result["max_score"])


@needs_bash
def test_a_correct_notebook_passes_every_step_with_full_public_points(runner, exported):
    run = runner(SOLUTIONS / "correct" / "vectorised.ipynb", "correct")
    assert not run.failed, run.completed[-1].stdout + run.completed[-1].stderr
    assert len(run.completed) == 2  # the install step, then the check step
    assert "public checks passed" in run.completed[-1].stdout
    (result,) = run.reporter_input(load_workflow(exported))
    assert_reporter_format(result)
    assert result["status"] == "pass"
    assert sum(test["score"] for test in result["tests"]) == result["max_score"]


@needs_bash
def test_a_buggy_notebook_gets_fewer_points_and_the_same_messages_as_autograder_check(runner, exported):
    run = runner(SOLUTIONS / "buggy" / "sign-error-in-step.ipynb", "buggy")
    check = run.completed[-1]
    assert len(run.completed) == 2 and check.returncode == 1, check.stdout + check.stderr
    assert "FAIL" in check.stdout and "expected" in check.stdout
    (result,) = run.reporter_input(load_workflow(exported))
    assert_reporter_format(result)
    assert result["status"] == "fail"
    assert 0 <= sum(test["score"] for test in result["tests"]) < result["max_score"]
    for test in result["tests"]:
        assert test["name"] in check.stdout
        if test["status"] == "fail":
            assert test["message"] and all(line in check.stdout for line in test["message"].splitlines())


@needs_bash
def test_a_repository_without_the_notebook_reports_an_error_with_a_message(runner, exported):
    run = runner(None, "missing")
    assert run.completed[-1].returncode == 1
    assert "Commit your notebook under exactly that name" in run.completed[-1].stdout
    (result,) = run.reporter_input(load_workflow(exported))
    assert result["status"] == "error" and sum(test["score"] for test in result["tests"]) == 0
    assert all("Commit your notebook under exactly that name" in test["message"] for test in result["tests"])


def test_the_export_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "keep.txt").write_text("the instructor's notes")
    result = CliRunner().invoke(main, ["export", "student", "--course", str(COURSE), "gradient-descent",
                                       "-o", str(tmp_path)])
    assert result.exit_code == 1 and "is not empty" in result.output
