"""Where each submission's outputs go: distinct for distinct ids, inside their folder, within name limits."""

from __future__ import annotations

import os
from pathlib import Path

from autograder.grader.batch import discover, grade_batch
from autograder.grader.output_paths import MAX_PART_BYTES, id_parts, submission_path
from tests.conftest import TOY_CORRECT

SUFFIXES = (".html", ".md", ".ipynb", ".files", ".json", ".html.tmp")


def test_ids_that_differ_get_paths_that_differ_and_never_those_of_anothers_files():
    ids = ["bob", "bob.files/plot", "bob.html", "Bob", "a/b", "a%2Eb", "a.b", "x" * 300, "x" * 299 + "y"]
    paths = {(submission, suffix): submission_path(Path("/out"), submission, suffix) for submission in ids
             for suffix in SUFFIXES}
    assert len(set(paths.values())) == len(paths)
    folders = {parent for path in paths.values() for parent in path.parents}
    assert not folders & set(paths.values()), "a submission's folder must never be another's file"


def test_nothing_leaves_its_folder_and_names_stay_under_the_limit():
    for submission in ["../../etc/passwd", "/abs/olute", "a/../../b", "", ".", "é" * 200, "\x1b[31mred\n"]:
        for suffix in SUFFIXES:
            path = submission_path(Path("/out/feedback"), submission, suffix)
            assert path.is_relative_to("/out/feedback") and ".." not in path.parts
            assert all(len(part.encode()) <= 255 for part in path.parts)
            assert not any(ord(char) < 32 for char in str(path))
    assert all(len(part.encode()) <= MAX_PART_BYTES for part in id_parts("é" * 500))


def test_a_batch_with_colliding_and_overlong_names_keeps_every_result(tmp_path, toy, write_notebook):
    submissions = tmp_path / "subs"
    write_notebook(TOY_CORRECT, "bob.ipynb", submissions)
    write_notebook(TOY_CORRECT[:1], "plot.ipynb", submissions / "bob.files")
    longest = "n" * (255 - len(".ipynb"))
    write_notebook(TOY_CORRECT, f"{longest}.ipynb", submissions)
    out = tmp_path / "out"
    summary = grade_batch(toy, discover([submissions]), out, feedback=True)
    assert summary.submission_ids() == {"bob", "bob.files/plot", longest}
    for submission in summary.submission_ids():
        assert submission_path(out / "results", submission, ".json").is_file()
        assert submission_path(out / "feedback", submission, ".html").is_file()
    # Grading bob again (its plots folder is rewritten) leaves bob.files/plot's pages alone.
    os.utime(submissions / "bob.ipynb")
    grade_batch(toy, discover([submissions]), out, feedback=True, regrade=True)
    assert submission_path(out / "feedback", "bob.files/plot", ".html").is_file()
