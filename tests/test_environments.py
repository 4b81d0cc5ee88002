"""The same end-to-end grading in every environment courses run the grader in (see tests/environments.py).

In each: ``autograder doctor`` states the profile and the real reason for every missing layer, and a
batch of every bundled example solution of every assignment is graded as labelled (correct ones get
full marks, buggy ones lose points exactly on the functions they break). The attack suite runs in the
same environments (tests/test_attacks.py).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.grader.assignment import available_slugs, load_assignment
from autograder.grader.exports.gradescope import ROOT_ENV
from autograder.grader.results import SubmissionResult
from autograder.grader.validate import expectations, judge
from click_cli import main
from tests import environments
from tests.conftest import COURSE
from tests.environments import ENVIRONMENTS, Environment
from tests.test_export_gradescope import SOLUTIONS, submit, unpack
from tests.test_results_schema import assert_gradescope_results

pytestmark = pytest.mark.slow


@pytest.fixture(params=ENVIRONMENTS, ids=[environment.name for environment in ENVIRONMENTS])
def environment(request, installation) -> Environment:
    reason = environments.bubblewrap_reason(request.param)
    if reason:
        pytest.skip(f"{request.param.name} cannot be built here: {reason}")
    return request.param


def test_doctor_states_the_profile_and_the_real_reason_for_each_missing_layer(environment, installation):
    work = installation.workspace("doctor", environment)
    done = environments.run(environment, [str(installation.autograder), "doctor"], cwd=work, home=work)
    assert done.returncode == (0 if environment.profile == "full" else 1), done.stdout + done.stderr
    assert f"profile: {environment.profile}" in done.stdout
    missing = {line.split()[1] + (" uid" if line.split()[1] == "dedicated" else "")
               for line in done.stdout.splitlines() if line.startswith("MISSING")}
    assert missing == environment.missing, done.stdout
    assert "turned off by" not in done.stdout
    reasons = {
        "absent": "bubblewrap is not installed",
        "no-namespaces": "cannot create namespaces here",
    }
    if environment.bubblewrap in reasons:
        assert reasons[environment.bubblewrap] in done.stdout
    if environment.unprivileged:
        assert "not running as root" in done.stdout
    assert "every worker still drops all capabilities" in done.stdout or not environment.missing & {"dedicated uid"}


SAMPLE_PER_ASSIGNMENT = 14  # every solution is validated once in the development environment (test_assignments)


def sample(cases: list, environment: Environment) -> list:
    """All cases in the field's environment (Gradescope's container); elsewhere correct and buggy ones
    evenly spread over the whole corpus, bundled and blind."""
    if environment.name == "gradescope-container" or len(cases) <= SAMPLE_PER_ASSIGNMENT:
        return cases
    stride = len(cases) / SAMPLE_PER_ASSIGNMENT
    return [cases[int(k * stride)] for k in range(SAMPLE_PER_ASSIGNMENT)]


def test_every_example_solution_is_graded_as_labelled(environment, installation):
    """Correct solutions get full marks and buggy ones lose points exactly on what they break, in every
    assignment, graded as a batch with two grading processes."""
    course = load_assignment("gradient-descent", installation.course).course
    total, started = 0, time.monotonic()
    problems = []
    for slug in available_slugs(course):
        assignment = load_assignment(slug, course)
        cases = sample([case for case in expectations(assignment) if case.kind != "zero"], environment)
        work = installation.workspace(f"grade-{slug}", environment)
        submissions = work / "submissions"
        for case in cases:  # copies the environment's user can read, named after what they should score
            target = submissions / f"{case.label}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(case.path, target)
        _chown_tree(work, environment)
        out = work / "out"
        done = environments.run(environment, [str(installation.autograder), "grade", "--quiet", "--jobs", "2",
                                              "--course", str(course), "--assignment", slug, "--out", str(out),
                                              str(submissions)], cwd=work, home=work)
        assert done.returncode == 0, done.stdout + done.stderr
        with open(out / "grades.csv", newline="") as handle:
            graded = {row["submission"] for row in csv.DictReader(handle)}
        assert graded == {case.label for case in cases}
        for case in cases:
            result = SubmissionResult.from_gradescope(_json(out / "results" / f"{case.label}.json"))
            problem = judge(case, result)
            if problem:
                problems.append(f"{slug} {case.label}: {problem}")
        total += len(cases)
    seconds = time.monotonic() - started
    print(f"\n{environment.name}: {total} notebooks in {seconds:.1f} s ({seconds / total:.3f} s per notebook)")
    assert problems == []


USES_EVERY_PACKAGE = [
    "import numpy as np\nimport pandas as pd\nimport matplotlib.pyplot as plt\n"
    "from scipy.special import expit\nfrom scipy.optimize import minimize_scalar",
    "def gradient_step(w, grad, lr):\n    return w - lr * grad",
    "def gradient_descent(loss_fn, grad_fn, w0, lr, max_iters=1000, tol=1e-10):\n"
    "    w = w0\n    losses = [float(loss_fn(w))]\n    for _ in range(max_iters):\n"
    "        w = gradient_step(w, grad_fn(w), lr)\n        losses.append(float(loss_fn(w)))\n"
    "        if abs(losses[-2] - losses[-1]) < tol:\n            break\n    return w, losses",
    "w, losses = gradient_descent(lambda w: (w - 3) ** 2 / 2, lambda w: w - 3, 0.0, 0.5)\n"
    "table = pd.DataFrame({'loss': losses})\nplt.plot(table['loss'])\n"
    "print(expit(0.0), minimize_scalar(lambda w: (w - 3) ** 2).x.round(3), len(table))",
]


def test_the_packages_students_may_use_work_in_the_sandbox(environment, installation, write_notebook):
    """numpy, scipy, pandas and matplotlib (every assignment's packages) import and run in the worker."""
    work = installation.workspace("packages", environment)
    notebook = write_notebook(USES_EVERY_PACKAGE, folder=work)
    _chown_tree(work, environment)
    done = environments.run(environment, [str(installation.autograder), "check", "--course",
                                          str(installation.course), "--assignment", "gradient-descent",
                                          str(notebook)], cwd=work, home=work)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0.5 3.0 " in done.stdout and "error" not in done.stdout.lower(), done.stdout


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _owner(environment: Environment) -> tuple[int, int]:
    user = environments.test_user()
    return user.pw_uid, user.pw_gid


def _chown_tree(folder: Path, environment: Environment) -> None:
    if not environment.unprivileged:
        return
    uid, gid = _owner(environment)
    for path in [folder, *folder.rglob("*")]:
        shutil.chown(path, uid, gid)


def test_the_gradescope_bundle_from_setup_to_results(installation, tmp_path):
    """setup.sh on a fresh system Python in a folder standing in for /autograder, then run_autograder on a
    correct and a buggy notebook, in the environment Gradescope really gives (root, Docker's capabilities)."""
    environment = environments.BY_NAME["gradescope-container"]
    root = installation.workspace("gradescope-bundle", environment)
    bundle = tmp_path / "autograder.zip"
    exported = CliRunner().invoke(main, ["export", "gradescope", "--course", str(COURSE), "gradient-descent",
                                         "-o", str(bundle)])
    assert exported.exit_code == 0, exported.output
    unpack(bundle, root)
    pip_settings = {name: value for name, value in os.environ.items() if name.startswith("PIP_")}
    setting_up = environments.run(environment, ["bash", str(root / "source" / "setup.sh")], cwd=root / "source",
                                  home=root, extra_env={ROOT_ENV: str(root), **pip_settings}, timeout=900)
    assert setting_up.returncode == 0, setting_up.stdout + setting_up.stderr
    assert "gd-autograder is installed." in setting_up.stdout
    installed_python = (root / "venv" / "bin" / "python").resolve()
    assert installed_python.is_relative_to("/usr"), f"setup.sh must use the system Python, not {installed_python}"

    scores = {}
    for kind, name in (("correct", "helper-defined-later"), ("buggy", "forgot-learning-rate")):
        submit(root, SOLUTIONS / kind / f"{name}.ipynb")
        for old in (root / "results").iterdir():
            old.unlink()
        graded = environments.run(environment, [str(root / "run_autograder")], cwd=root, home=root,
                                  extra_env={ROOT_ENV: str(root)})
        assert graded.returncode == 0, graded.stdout + graded.stderr
        # The profile goes to the autograder output, which Gradescope shows instructors only.
        assert "Sandbox profile: reduced" in graded.stdout and "MISSING bubblewrap" in graded.stdout
        assert "cannot create namespaces here" in graded.stdout
        data = json.loads((root / "results" / "results.json").read_text())
        assert_gradescope_results(data)
        assert data["stdout_visibility"] == "hidden" and "Sandbox profile" not in json.dumps(data)
        scores[kind] = (data["score"], sum(test["max_score"] for test in data["tests"]))
    assert scores["correct"][0] == scores["correct"][1] > 0
    assert 0 < scores["buggy"][0] < scores["buggy"][1]
