"""The student notebook in a real Jupyter kernel: its grader.check cells work whatever the file is
called, and say what ``autograder check`` says.

The folder is what ``autograder export student`` hands out, with the notebook saved under the name a
browser gives a second download; the kernel starts in that folder, as Jupyter does.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograder.grader.exports.classroom import OUTPUT_NAME
from click_cli import main
from tests.conftest import COURSE
from tests.kernel import filled_in, run_in_kernel

SLUG = "gradient-descent"
SOLUTIONS = COURSE / "assignments" / SLUG / "solutions"
RENAMED = f"{SLUG} (1).ipynb"


@pytest.fixture(scope="module")
def handed_out(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("handed-out") / "homework"
    result = CliRunner().invoke(main, ["export", "student", "--course", str(COURSE), SLUG, "-o", str(folder)])
    assert result.exit_code == 0, result.output
    (folder / f"{SLUG}.ipynb").rename(folder / RENAMED)
    return folder


@pytest.fixture(scope="module")
def kernel_runs(handed_out, tmp_path_factory):
    """A correct and a buggy solution, each saved under the renamed file and run from it in a kernel."""
    mp = pytest.MonkeyPatch()
    mp.delenv("AUTOGRADER_COURSE", raising=False)  # the checks must be found from the folder alone
    saved = {}
    for label, solution in {"correct": SOLUTIONS / "correct" / "vectorised.ipynb",
                            "buggy": SOLUTIONS / "buggy" / "sign-error-in-step.ipynb"}.items():
        copy = tmp_path_factory.mktemp(label) / RENAMED
        nbformat.write(filled_in(handed_out / RENAMED, solution), copy)
        saved[label] = copy
    try:
        runs = run_in_kernel({label: nbformat.read(path, as_version=4) for label, path in saved.items()}, handed_out)
    finally:
        mp.undo()
    return saved, runs


def check_with_cli(notebook: Path, folder: Path, tmp_path: Path) -> list[tuple[str, bool, str]]:
    """What ``autograder check`` (as the student's CI runs it) reports: (name, passed, message) per check."""
    import base64

    output = tmp_path / "github-output"
    result = CliRunner().invoke(main, ["check", "--course", str(folder / ".autograder" / "course"), "--assignment",
                                       SLUG, "--classroom-output", str(output), str(notebook)])
    encoded = output.read_text().strip().removeprefix(f"{OUTPUT_NAME}=")
    tests = json.loads(base64.b64decode(encoded))["tests"]
    assert all(test["name"] in result.output for test in tests)
    return [(test["name"], test["status"] == "pass", test["message"]) for test in tests]


def flatten(results: dict[str, list[tuple[str, bool, str]]]) -> list[tuple[str, bool, str]]:
    return sorted(test for tests in results.values() for test in tests)


def test_a_correct_notebook_passes_every_check_in_the_kernel(kernel_runs):
    _, runs = kernel_runs
    run = runs["correct"]
    assert run.results is not None, "grader was never set up in the kernel: " + run.printed
    assert set(run.results) == {"gradient_step", "gradient_descent"}
    assert all(passed for _, passed, _ in flatten(run.results))
    assert "PASS" in run.printed and "FAIL" not in run.printed


def test_a_buggy_notebook_fails_its_checks_with_the_message_autograder_check_gives(kernel_runs, handed_out,
                                                                                      tmp_path):
    saved, runs = kernel_runs
    run = runs["buggy"]
    assert run.results is not None, "grader was never set up in the kernel: " + run.printed
    failed = [test for test in run.results["gradient_step"] if not test[1]]
    assert failed, "the sign error in gradient_step passed its checks in the kernel"
    for _, _, message in failed:
        assert message and all(line in run.printed for line in message.splitlines()), run.printed
    assert flatten(run.results) == sorted(check_with_cli(saved["buggy"], handed_out, tmp_path))


def test_without_the_handed_out_folder_the_check_says_where_to_look(tmp_path, monkeypatch):
    from autograder.student import ChecksNotFound, find_course

    monkeypatch.delenv("AUTOGRADER_COURSE", raising=False)
    with pytest.raises(ChecksNotFound, match="keep this notebook in the folder it came in"):
        find_course(SLUG, start=tmp_path)
