"""The same end-to-end grading in every environment courses run the grader in (see tests/environments.py).

In each: ``autograder doctor`` states the profile and the real reason for every missing layer, and a
batch of every bundled example solution of every assignment is graded as labelled (correct ones get
full marks, buggy ones lose points exactly on the functions they break). The attack suite runs in the
same environments (tests/test_attacks.py).
"""

from __future__ import annotations

import csv
import json
import shutil
import time
from pathlib import Path

import pytest

from autograder.grader.assignment import available_slugs, load_assignment
from autograder.grader.exports.wheel import build_wheel
from autograder.grader.results import SubmissionResult
from autograder.grader.validate import expectations, judge
from tests import environments
from tests.environments import ENVIRONMENTS, Environment, Installation

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def installation(tmp_path_factory) -> Installation:
    reason = environments.unavailable_reason()
    if reason:
        pytest.skip(reason)
    wheel_folder = tmp_path_factory.mktemp("engine-wheel")
    build_wheel(wheel_folder)
    built = environments.install(wheel_folder)
    yield built
    shutil.rmtree(built.folder, ignore_errors=True)


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


def test_every_example_solution_is_graded_as_labelled(environment, installation):
    """Correct solutions get full marks and buggy ones lose points exactly on what they break, in every
    assignment, graded as a batch with two grading processes."""
    course = load_assignment("gradient-descent", installation.course).course
    total, started = 0, time.monotonic()
    problems = []
    for slug in available_slugs(course):
        assignment = load_assignment(slug, course)
        cases = [case for case in expectations(assignment) if case.kind != "zero"]
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
