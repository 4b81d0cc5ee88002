"""Grading batches: ids, outputs, the gradebook, resuming, and files that are not notebooks."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import textwrap
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.grader.assignment import load_assignment
from autograder.grader.batch import discover, grade_batch
from autograder.grader.executors import GRADING_PROCESS_DIED, LocalPool
from autograder.grader.gradebook import Gradebook
from tests.conftest import TEST_COURSE, TOY_CORRECT

BUGGY_DOUBLE = ["import numpy as np", "def double(x):\n    return 3 * np.asarray(x, dtype=float)",
                "def apply_twice(f, x):\n    return f(f(x))"]


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_ids_come_from_relative_paths_and_file_stems(tmp_path, write_notebook):
    folder = tmp_path / "class"
    write_notebook(TOY_CORRECT, "alice.ipynb", folder)
    write_notebook(TOY_CORRECT, "section-b/bob.ipynb", folder)
    write_notebook(TOY_CORRECT, ".ipynb_checkpoints/alice-checkpoint.ipynb", folder)
    direct = write_notebook(TOY_CORRECT, "carol.ipynb", tmp_path / "elsewhere")
    ids = [item.id for item in discover([folder, direct])]
    assert ids == ["alice", "section-b/bob", "carol"]


def test_duplicate_ids_are_kept_apart_and_explained(tmp_path, write_notebook):
    first = write_notebook(TOY_CORRECT, "same.ipynb", tmp_path / "a")
    second = write_notebook(TOY_CORRECT, "same.ipynb", tmp_path / "b")
    items = discover([first, second])
    assert [item.id for item in items] == ["same", "same~2"]
    assert items[0].note is None and "same id 'same'" in items[1].note
    assert items[1].problem is None  # both are graded


def test_batch_writes_gradescope_results_csv_and_gradebook(tmp_path, toy, write_notebook):
    folder = tmp_path / "subs"
    write_notebook(TOY_CORRECT, "good.ipynb", folder)
    write_notebook(BUGGY_DOUBLE, "buggy.ipynb", folder)
    out = tmp_path / "out"
    summary = grade_batch(toy, discover([folder]), out)
    assert summary.graded == 2
    rows = {row["submission"]: row for row in read_csv(out / "grades.csv")}
    assert list(next(iter(rows.values()))) == ["submission", "score", "max_score", "double", "apply_twice"]
    assert rows["good"] == {"submission": "good", "score": "5", "max_score": "5", "double": "3", "apply_twice": "2"}
    assert rows["buggy"]["double"] == "0" and rows["buggy"]["apply_twice"] == "2"
    result = json.loads((out / "results" / "buggy.json").read_text())
    assert {"score", "execution_time", "output", "tests"} <= set(result)
    for test in result["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] in ("passed", "failed")
        assert test["name"].split(":")[0] in ("double", "apply_twice")
    failed = [t for t in result["tests"] if t["status"] == "failed"]
    assert failed and all("expected" in t["output"] for t in failed)
    assert {t["visibility"] for t in result["tests"]} == {"visible", "after_due_date"}
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        assert db.execute("SELECT submission, score FROM results ORDER BY submission").fetchall() == [
            ("buggy", 2.0), ("good", 5.0)]


def test_rerun_skips_unchanged_and_grades_changed_submissions(tmp_path, toy, write_notebook):
    folder = tmp_path / "subs"
    write_notebook(TOY_CORRECT, "a.ipynb", folder)
    write_notebook(TOY_CORRECT, "b.ipynb", folder)
    out = tmp_path / "out"
    grade_batch(toy, discover([folder]), out)
    write_notebook(BUGGY_DOUBLE, "b.ipynb", folder)
    again = grade_batch(toy, discover([folder]), out)
    assert (again.graded, again.reused) == (1, 1)
    assert {row["submission"]: row["score"] for row in read_csv(out / "grades.csv")} == {"a": "5", "b": "2"}
    forced = grade_batch(toy, discover([folder]), out, regrade=True)
    assert (forced.graded, forced.reused) == (2, 0)


def test_grades_csv_lists_this_batch_only_in_id_order(tmp_path, toy, write_notebook):
    folder = tmp_path / "subs"
    for name in ("zed", "amy", "kim"):
        write_notebook(TOY_CORRECT, f"{name}.ipynb", folder)
    out = tmp_path / "out"
    grade_batch(toy, discover([folder]), out)
    assert [row["submission"] for row in read_csv(out / "grades.csv")] == ["amy", "kim", "zed"]
    later = grade_batch(toy, discover([folder / "zed.ipynb", folder / "amy.ipynb"]), out)
    assert [row["submission"] for row in read_csv(out / "grades.csv")] == ["amy", "zed"]  # kim stays stored
    assert [outcome.submission for outcome in later.outcomes] == ["zed", "amy"]
    assert [result.submission for result in later.results()] == ["amy", "zed"]
    assert [result.submission for result in Gradebook(out / "gradebook.sqlite").results(toy.slug)] == [
        "amy", "kim", "zed"]


def test_every_result_is_stored_before_it_is_reported(tmp_path, toy, write_notebook):
    folder = tmp_path / "subs"
    write_notebook(TOY_CORRECT, "a.ipynb", folder)
    out = tmp_path / "out"
    seen_in_gradebook = []

    def progress(item, result, reused):
        gradebook = Gradebook(out / "gradebook.sqlite")
        seen_in_gradebook.append(gradebook.get(toy.slug, item.id) is not None)
        gradebook.close()

    grade_batch(toy, discover([folder]), out, progress=progress)
    assert seen_in_gradebook == [True]


def _nbformat3(path: Path) -> None:
    notebook = nbformat.v3.new_notebook()
    worksheet = nbformat.v3.new_worksheet()
    worksheet.cells = [nbformat.v3.new_code_cell(source) for source in TOY_CORRECT]
    notebook.worksheets.append(worksheet)
    path.write_text(nbformat.v3.writes_json(notebook))


BAD_FILES = {
    "broken-json": (lambda p: p.write_text('{"cells": [oops'), "not valid notebook JSON"),
    "not-a-notebook": (lambda p: p.write_text('{"hello": "world"}'), "not a Jupyter notebook"),
    "empty": (lambda p: p.write_bytes(b""), "empty"),
    "binary": (lambda p: p.write_bytes(bytes(range(256)) * 10), "not UTF-8"),
    "latin1": (lambda p: p.write_bytes('{"cells": "café"}'.encode("latin-1")), "not UTF-8"),
    "zip": (lambda p: zipfile.ZipFile(p, "w").writestr("x.ipynb", "{}"), "zip archive"),
    "no-code": (lambda p: nbformat.write(nbformat.v4.new_notebook(), p), "no code cells"),
    "200MB": (lambda p: _sparse_file(p, 200 * 2**20), "over the 100 MB limit"),
    "outputs-of-hundreds-of-MB": (lambda p: _with_outputs(p, 120 * 2**20), "Clear all outputs"),
}


def _sparse_file(path: Path, size: int) -> None:
    with open(path, "wb") as handle:
        handle.truncate(size)


def _with_outputs(path: Path, output_bytes: int) -> None:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("\n".join(TOY_CORRECT))
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * output_bytes)]
    notebook.cells = [cell]
    nbformat.write(notebook, path)


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_files_get_a_clear_message_and_the_batch_goes_on(tmp_path, toy, write_notebook, kind):
    folder = tmp_path / "subs"
    folder.mkdir()
    make, message = BAD_FILES[kind]
    make(folder / f"{kind}.ipynb")
    write_notebook(TOY_CORRECT, "zz-good.ipynb", folder)
    grade_batch(toy, discover([folder]), tmp_path / "out")
    bad = json.loads((tmp_path / "out" / "results" / f"{kind}.json").read_text())
    assert bad["score"] == 0 and message in bad["output"]
    assert all(message in test["output"] for test in bad["tests"])
    good = json.loads((tmp_path / "out" / "results" / "zz-good.json").read_text())
    assert good["score"] == 5


def test_nbformat3_notebooks_are_converted_and_graded(tmp_path, toy):
    path = tmp_path / "old.ipynb"
    _nbformat3(path)
    summary = grade_batch(toy, discover([path]), tmp_path / "out")
    assert summary.results()[0].score == 5


def test_a_link_to_a_file_outside_the_folder_is_not_read(tmp_path, toy, write_notebook):
    secret = write_notebook(TOY_CORRECT, "outside.ipynb", tmp_path / "private")
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "link.ipynb").symlink_to(secret)
    grade_batch(toy, discover([folder]), tmp_path / "out")
    result = json.loads((tmp_path / "out" / "results" / "link.json").read_text())
    assert result["score"] == 0 and "symbolic link" in result["output"]


def test_a_link_to_another_students_notebook_never_copies_that_grade(tmp_path, toy, write_notebook):
    folder = tmp_path / "subs"
    write_notebook(TOY_CORRECT, "x.ipynb", folder / "alice")
    (folder / "mallory").mkdir()
    (folder / "mallory" / "x.ipynb").symlink_to("../alice/x.ipynb")
    found = {item.id: item for item in discover([folder])}
    assert "alice/x.ipynb" in (found["mallory/x"].note or "")
    summary = grade_batch(toy, list(found.values()), tmp_path / "out")
    results = {result.submission: result for result in summary.results()}
    assert results["alice/x"].score == 5
    assert results["mallory/x"].score == 0
    assert "a symbolic link to another submission, alice/x.ipynb" in results["mallory/x"].problem


def test_large_outputs_under_the_limit_are_ignored_and_the_code_graded(tmp_path, toy):
    path = tmp_path / "chatty.ipynb"
    _with_outputs(path, 40 * 2**20)
    summary = grade_batch(toy, discover([path]), tmp_path / "out")
    assert summary.results()[0].score == 5


def test_every_result_gets_feedback_pages_and_the_batch_a_report(tmp_path, toy, write_notebook):
    folder = tmp_path / "subs"
    write_notebook(TOY_CORRECT, "alice.ipynb", folder)
    bob = write_notebook(BUGGY_DOUBLE, "bob.ipynb", folder)
    out = tmp_path / "out"
    grade_batch(toy, discover([folder]), out, feedback=True)
    pages = {name: (out / "feedback" / f"{name}.html").read_text() for name in ("alice", "bob")}
    assert "5 / 5" in pages["alice"] and "2 / 5" in pages["bob"]
    assert (out / "report.html").exists()

    write_notebook(TOY_CORRECT, "bob.ipynb", folder)  # bob fixes his notebook
    assert bob.exists()
    summary = grade_batch(toy, discover([folder]), out, feedback=True)
    assert (summary.graded, summary.reused) == (1, 1)
    assert "5 / 5" in (out / "feedback" / "bob.html").read_text()  # redrawn, not the stale page
    assert (out / "feedback" / "alice.html").read_text() == pages["alice"]  # reused as it was


def test_a_local_pool_keeps_no_result_it_has_handed_on(tmp_path, toy, write_notebook):
    import gc
    import weakref

    from autograder.grader.executors import GradingTask, LocalPool

    paths = [write_notebook(TOY_CORRECT, f"s{index}.ipynb", tmp_path / "subs") for index in range(12)]
    tasks = [GradingTask(path.stem, str(path), toy.slug, str(toy.course), "digest", None, None)
             for path in paths]
    pool = LocalPool(2)
    handed_on: list[weakref.ref] = []
    still_alive = []
    try:
        for task, result in pool.results(tasks):
            assert result.submission == task.submission and result.score == result.max_score
            handed_on.append(weakref.ref(result))
            del result
            gc.collect()  # while the batch goes on: earlier results must be gone already
            still_alive.append(sum(ref() is not None for ref in handed_on))
    finally:
        pool.close()
    assert len(handed_on) == len(tasks)
    # At most the results of the window in flight (2 per grading process) are still referenced: a
    # batch of 3,000 must not pile up in the grader.
    assert max(still_alive) <= 2 * 2 < len(tasks), still_alive


def test_a_submission_whose_grading_kills_its_process_gets_a_stored_result_and_the_batch_goes_on(tmp_path,
                                                                                                write_notebook):
    """A grading process that dies (here: the suite kills it when one notebook's double returns 999, as the
    kernel would for memory) costs only that submission, which is stored, so a re-run does not die again."""
    course = tmp_path / "course"
    shutil.copytree(TEST_COURSE / "assignments" / "toy", course / "assignments" / "toy")
    suite = course / "assignments" / "toy" / "hidden_tests.py"
    suite.write_text(suite.read_text() + textwrap.dedent('''

        @pytest.mark.graded("double", points=1)
        def test_double_of_a_marker_value(submission):
            """doubles 0.5"""
            if checks.as_float(submission.double(0.5), "double(0.5)") == 999:
                import os, signal
                os.kill(os.getpid(), signal.SIGKILL)
        '''))
    toy = load_assignment("toy", course)
    write_notebook(TOY_CORRECT, "a-good.ipynb", tmp_path / "subs")
    write_notebook(["def double(x):\n    return 999.0 if x == 0.5 else 2 * x", "def apply_twice(f, x):\n"
                    "    return f(f(x))"], "b-poison.ipynb", tmp_path / "subs")
    write_notebook(TOY_CORRECT, "c-good.ipynb", tmp_path / "subs")
    summary = grade_batch(toy, discover([tmp_path / "subs"]), tmp_path / "out", executor=LocalPool(2))
    results = {result.submission: result for result in summary.results()}
    assert sorted(results) == ["a-good", "b-poison", "c-good"]
    assert results["a-good"].score == results["c-good"].score == results["a-good"].max_score == 6
    assert results["b-poison"].score == 0 and results["b-poison"].problem == GRADING_PROCESS_DIED
    again = grade_batch(toy, discover([tmp_path / "subs"]), tmp_path / "out", executor=LocalPool(2))
    assert again.reused == 3 and again.graded == 0
