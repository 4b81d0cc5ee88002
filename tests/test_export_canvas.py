"""`autograder export canvas`: a gradebook and a roster become a CSV that Canvas's gradebook import reads.

``read_canvas_import`` applies the rules Canvas's import applies to a file: the five student columns
in order, assignment columns named ``Title`` or ``Title (id)``, the ``Points Possible`` row, rows
matched on ID, SIS User ID or SIS Login ID, and grades that are numbers or empty.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograder.grader import results
from autograder.grader.gradebook import Gradebook, now
from click_cli import main
from tests.conftest import TEST_COURSE, TOY_CORRECT
from tests.test_batch import BUGGY_DOUBLE

STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
ROSTER = """submission,student,id,sis_user_id,sis_login_id,section
section-a/alice,"Liddell, Alice",1001,S001,aliddell,Section A
bob,"Builder, Bob",,S002,,Section B
carol,"Danvers, Carol",1003,,,Section A
"""


def read_canvas_import(path: Path) -> dict:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, points_row, students = rows[0], rows[1], rows[2:]
    assert header[:5] == STUDENT_COLUMNS, f"Canvas needs the columns {STUDENT_COLUMNS} first, got {header[:5]}"
    assignments = []
    for index, name in enumerate(header[5:], start=5):
        match = re.fullmatch(r"(.+?)(?: \((\d+)\))?", name)
        assert match and match.group(1).strip(), f"column {index} has no assignment title"
        points = points_row[index]
        float(points)  # Canvas reads the points possible of each assignment column as a number
        assignments.append({"title": match.group(1), "id": match.group(2), "points": float(points)})
    assert points_row[0].strip() == "Points Possible" and not any(points_row[1:5])
    seen: set[tuple[str, str]] = set()
    parsed = []
    for row in students:
        assert len(row) == len(header), row
        record = dict(zip(header, row, strict=True))
        assert record["Student"], "every row names its student"
        keys = {(column, record[column]) for column in ("ID", "SIS User ID", "SIS Login ID") if record[column]}
        assert keys, f"{record['Student']}: Canvas cannot match a row without ID, SIS User ID or SIS Login ID"
        assert not keys & seen, f"{record['Student']} appears twice"
        seen |= keys
        for column in header[5:]:
            if record[column]:
                float(record[column])
        parsed.append(record)
    return {"assignments": assignments, "students": parsed}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """A grading folder of the toy assignment: alice full marks, bob a bug, mallory not on the roster."""
    tmp = tmp_path_factory.mktemp("canvas")
    for name, cells in (("section-a/alice", TOY_CORRECT), ("bob", BUGGY_DOUBLE), ("mallory", TOY_CORRECT)):
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        (tmp / "subs" / name).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, tmp / "subs" / f"{name}.ipynb")
    result = CliRunner().invoke(main, ["grade", "--assignment", "toy", "--course", str(TEST_COURSE),
                                       "--out", str(tmp / "out"), "--quiet", str(tmp / "subs")])
    assert result.exit_code == 0, result.output
    return tmp / "out"


def export(out: Path, roster: Path, *args: str):
    try:
        runner = CliRunner(mix_stderr=False)  # click 8.1 mixes stderr into output unless told not to
    except TypeError:
        runner = CliRunner()  # click 8.2 and later keep stderr apart by default
    return runner.invoke(main, ["export", "canvas", "--out", str(out), "--roster", str(roster),
                                "--course", str(TEST_COURSE), *args])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_round_trip_through_canvas_import_rules(graded, tmp_path):
    roster = write(tmp_path / "roster.csv", ROSTER)
    result = export(graded, roster, "--canvas-id", "12345", "-o", str(tmp_path / "canvas.csv"))
    assert result.exit_code == 0, result.output + result.stderr

    imported = read_canvas_import(tmp_path / "canvas.csv")
    title = "Toy assignment for the engine's own tests"
    assert imported["assignments"] == [{"title": title, "id": "12345", "points": 5.0}]
    rows = {row["Student"]: row for row in imported["students"]}
    assert list(rows) == ["Liddell, Alice", "Builder, Bob", "Danvers, Carol"], "roster order, every student"
    column = f"{title} (12345)"
    assert rows["Liddell, Alice"][column] == "5" and rows["Liddell, Alice"]["SIS Login ID"] == "aliddell"
    assert rows["Builder, Bob"][column] == "2" and rows["Builder, Bob"]["SIS User ID"] == "S002"
    assert rows["Danvers, Carol"][column] == "", "a missing submission is an empty grade, not a zero"
    assert rows["Danvers, Carol"]["Section"] == "Section A"
    assert "mallory" not in (tmp_path / "canvas.csv").read_text()

    # Neither the unknown submission nor the missing student is dropped silently.
    report = (tmp_path / "canvas-report.txt").read_text()
    for text in (result.stderr, report):
        assert "Danvers, Carol (submission 'carol', ID 1003)" in text
        assert "mallory: 5 / 5" in text
        assert "2 graded, 1 without a submission, 1 submission(s) not in the roster" in text


def test_without_a_canvas_id_the_column_is_the_title_and_the_csv_goes_into_out(graded, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(graded, out)
    result = export(out, write(tmp_path / "roster.csv", ROSTER), "--title", "Homework 3")
    assert result.exit_code == 0, result.output + result.stderr
    imported = read_canvas_import(out / "canvas.csv")
    assert imported["assignments"] == [{"title": "Homework 3", "id": None, "points": 5.0}]
    assert (out / "canvas-report.txt").is_file()


@pytest.mark.parametrize(("roster", "message"), [
    ("submission,name,id\nalice,Alice,1\n", "has no column student and has unknown column(s) name"),
    ("submission,student,section\nalice,Alice,A\n", "Line 2 of the roster"),
    ("submission,student,id\nalice,Alice,1\nalice,Alicia,2\n", "Lines 2 and 3 of the roster"),
    ("submission,student,id\nalice,Alice,1\nbob,Bob,1\n", "have the same id '1'"),
    ("submission,student,id\nalice,Liddell, Alice,1\n", "quote names that contain commas"),
])
def test_a_roster_that_canvas_could_not_match_is_refused_with_the_line(graded, tmp_path, roster, message):
    result = export(graded, write(tmp_path / "roster.csv", roster), "-o", str(tmp_path / "canvas.csv"))
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "canvas.csv").exists()


def test_usage_errors_say_what_to_do(graded, tmp_path):
    roster = write(tmp_path / "roster.csv", ROSTER)
    (tmp_path / "empty").mkdir()
    nothing = export(tmp_path / "empty", roster)
    assert nothing.exit_code == 2 and "There is no gradebook" in nothing.stderr and "autograder grade" in nothing.stderr

    out = tmp_path / "out"
    shutil.copytree(graded, out)
    gradebook = Gradebook(out / "gradebook.sqlite")
    other = results.SubmissionResult("alice", "other-homework", [results.TestResult("f: works", "f", 1, 1, True, "")])
    gradebook.store(other, "hash", "suite", now())
    gradebook.close()
    ambiguous = export(out, roster)
    assert ambiguous.exit_code == 2 and "holds other-homework, toy; choose one with --assignment" in ambiguous.stderr
    untitled = export(out, roster, "--assignment", "other-homework")
    assert untitled.exit_code == 2 and "--title" in untitled.stderr
    titled = export(out, roster, "--assignment", "other-homework", "--title", "Other")
    assert titled.exit_code == 0, titled.stderr
    rows = {row["Student"]: row["Other"] for row in read_canvas_import(out / "canvas.csv")["students"]}
    assert rows == {"Liddell, Alice": "", "Builder, Bob": "", "Danvers, Carol": ""}, "ids are per assignment"
