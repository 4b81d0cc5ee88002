"""Submissions straight from a learning platform: zips and folders downloaded from Canvas, Gradescope, Moodle
and Blackboard become one submission per student, their latest attempt; unsafe zip entries are refused in
that submission's result; `export canvas` needs no roster and `export canvas-feedback` names files for
Canvas's re-upload.

The zips are built here the way each platform's documentation and its own code describe its downloads.
Layout parsing, attempt selection and refusals are checked in-process without grading; one test grades a
Canvas download end to end (three small notebooks of the toy assignment).
"""

from __future__ import annotations

import csv
import json
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograder.grader import results
from autograder.grader.batch import discover
from autograder.grader.exports.canvas_feedback import write_feedback_zip
from autograder.grader.gradebook import Gradebook, now
from autograder.grader.intake.gather import gather
from autograder.grader.intake.manifest import read_manifest, write_manifest
from autograder.grader.intake.safe_zip import Budget
from click_cli import main
from tests.conftest import TEST_COURSE, TOY_CORRECT
from tests.test_batch import BUGGY_DOUBLE
from tests.test_export_canvas import read_canvas_import


def notebook_text(cells: list[str]) -> str:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    return nbformat.writes(notebook)


CORRECT, BUGGY = notebook_text(TOY_CORRECT), notebook_text(BUGGY_DOUBLE)


class UnflaggedName(zipfile.ZipInfo):
    """An entry whose name is UTF-8 without the flag saying so, as many tools write them."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("utf-8"), self.flag_bits & ~0x800


def build_zip(path: Path, files: dict[str, str | bytes], *, utf8_names: bool = True) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = (zipfile.ZipInfo if utf8_names else UnflaggedName)(name, date_time=(2026, 11, 30, 12, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return path


def runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click 8.1 mixes stderr into output unless told not to
    except TypeError:
        return CliRunner()  # click 8.2 and later keep stderr apart by default


def by_id(intake) -> dict:
    return {item.id: item for item in intake.submissions}


# Canvas: name[_LATE]_userid_attachmentid_file[-N].ext (attachment ids grow with every upload).
CANVAS = {
    "smithjohn_12345_67890_hw1.ipynb": BUGGY,  # first attempt
    "smithjohn_LATE_12345_67990_hw1-1.ipynb": CORRECT,  # re-uploaded after the due date: Canvas adds -1
    "núñezjosé_222_500_hw1.ipynb": CORRECT,
    "doe_jane_333_501_hw1.pdf": b"%PDF-1.4",  # handed in something else only
    "lee_444_502_hw1.ipynb": CORRECT,
    "lee_444_502_hw1.pdf": b"%PDF-1.4",  # the notebook and its export, in one attempt
}


def test_canvas_download_gives_one_submission_per_user_id_graded_on_the_latest_attempt(tmp_path):
    archive = build_zip(tmp_path / "submissions.zip", CANVAS, utf8_names=False)
    with gather([archive]) as intake:
        assert sorted(by_id(intake)) == ["canvas-12345", "canvas-222", "canvas-333", "canvas-444"]
        smith = intake.chosen["canvas-12345"]
        assert smith.attempt.file_name == "smithjohn_LATE_12345_67990_hw1-1.ipynb"
        assert smith.attempt.late is True and intake.chosen["canvas-222"].attempt.late is False
        assert [s.file_name for s in smith.superseded] == ["smithjohn_12345_67890_hw1.ipynb"]
        assert by_id(intake)["canvas-12345"].path.read_text(encoding="utf-8") == CORRECT
        assert intake.chosen["canvas-222"].attempt.student_name == "núñezjosé", "accents survive the zip"
        assert intake.chosen["canvas-444"].attempt.file_name == "lee_444_502_hw1.ipynb", "the notebook, not the pdf"
        assert "is not a notebook. Submit the .ipynb file itself" in by_id(intake)["canvas-333"].problem
        assert intake.chosen["canvas-12345"].attempt.platform_ids == {
            "user_id": "12345", "attachment_id": "67990", "file_name": "smithjohn_LATE_12345_67990_hw1-1.ipynb"}
        workspace = intake.workspace
    assert workspace is not None and not workspace.exists(), "the unpacked files are removed when done"


def test_a_newer_download_keeps_ids_and_the_manifest_keeps_earlier_students(tmp_path):
    first = build_zip(tmp_path / "first.zip", {"smithjohn_12345_67890_hw1.ipynb": BUGGY,
                                               "núñezjosé_222_500_hw1.ipynb": CORRECT})
    second = build_zip(tmp_path / "second.zip", {"smithjohn_12345_68000_hw1.ipynb": CORRECT})
    out = tmp_path / "out"
    with gather([first]) as intake:
        write_manifest(out, intake.chosen.values())
    with gather([second]) as intake:
        assert list(by_id(intake)) == ["canvas-12345"]
        write_manifest(out, intake.chosen.values())
    records = read_manifest(out)
    assert sorted(records) == ["canvas-12345", "canvas-222"]
    assert records["canvas-12345"]["file"] == "smithjohn_12345_68000_hw1.ipynb"
    # Both downloads at once: one row per student, the later upload graded, the earlier superseded.
    with gather([first, second]) as intake:
        assert sorted(by_id(intake)) == ["canvas-12345", "canvas-222"]
        assert [s.file_name for s in intake.chosen["canvas-12345"].superseded] == ["smithjohn_12345_67890_hw1.ipynb"]
    with open(out / "intake.csv", newline="", encoding="utf-8") as handle:
        rows = {row["submission"]: row for row in csv.DictReader(handle)}
    assert rows["canvas-222"]["student"] == "núñezjosé" and rows["canvas-12345"]["late"] == ""


GRADESCOPE_METADATA = """\
submission_1001:
  :submitters:
  - :name: Ada Lovelace
    :sid: '9001'
    :email: ada@example.edu
  :created_at: 2026-11-29 21:14:03.123456000 -08:00
  :score: 5.0
  :history:
  - :id: 990
    :created_at: 2026-11-28 10:00:00.000000000 -08:00
    :score: 2.0
  - :id: 995
    :created_at: 2026-11-29 09:30:00.000000000 -08:00
    :score: 3.0
submission_1002:
  :submitters:
  - :name: Émile Zola
    :sid: '9002'
    :email: emile@example.edu
  - :name: Grace Hopper
    :sid: ''
    :email: grace@example.edu
  :created_at: 2026-11-29 22:00:00.000000000 -08:00
  :history: []
"""


def test_gradescope_export_maps_folders_to_submitters_and_lists_earlier_submissions(tmp_path):
    pytest.importorskip("yaml", reason="reading submission_metadata.yml needs PyYAML (the instructor extra)")
    archive = build_zip(tmp_path / "export.zip", {
        "assignment_77_export/submission_metadata.yml": GRADESCOPE_METADATA,
        "assignment_77_export/submission_1001/hw1.ipynb": CORRECT,
        "assignment_77_export/submission_1002/hw1.ipynb": CORRECT,
        "assignment_77_export/submission_1002/notes.txt": "scratch",
        "assignment_77_export/submission_1002/.ipynb_checkpoints/hw1-checkpoint.ipynb": BUGGY,
        "../outside.ipynb": CORRECT,
    })
    with gather([archive]) as intake:
        assert sorted(by_id(intake)) == ["gradescope-9001", "gradescope-9002", "gradescope-grace@example.edu",
                                         "outside"]
        assert "climbs out of the zip" in by_id(intake)["outside"].problem
        assert by_id(intake)["gradescope-9002"].problem is None, "Jupyter's checkpoint is not a second notebook"
        ada = intake.chosen["gradescope-9001"]
        assert ada.attempt.student_name == "Ada Lovelace" and ada.attempt.submitted_at.startswith("2026-11-29 21:14")
        assert [s.submitted_at[:10] for s in ada.superseded] == ["2026-11-29", "2026-11-28"], "latest first"
        assert intake.chosen["gradescope-9002"].attempt.student_name == "Émile Zola"
        assert by_id(intake)["gradescope-grace@example.edu"].path == by_id(intake)["gradescope-9002"].path, \
            "each member of a group gets the group's notebook"


def test_moodle_download_in_folders_or_flat_is_keyed_by_participant_id(tmp_path):
    archive = build_zip(tmp_path / "moodle.zip", {
        "José Núñez_4411_assignsubmission_file_/hw1.ipynb": CORRECT,
        "José Núñez_4411_assignsubmission_onlinetext_/onlinetext.html": "<p>see notebook</p>",
        "Ada Lovelace_4412_assignsubmission_file_hw1.ipynb": BUGGY,
    })
    with gather([archive]) as intake:
        assert sorted(by_id(intake)) == ["moodle-4411", "moodle-4412"]
        assert intake.chosen["moodle-4411"].attempt.student_name == "José Núñez"
        assert intake.chosen["moodle-4411"].attempt.late is None, "Moodle does not mark lateness in downloads"
        assert by_id(intake)["moodle-4412"].path.read_text(encoding="utf-8") == BUGGY


def blackboard_receipt(name: str, username: str, date: str, file: str) -> str:
    return (f"Name: {name} ({username})\nAssignment: Homework 1\nDate Submitted: {date}\nCurrent Grade: Needs "
            f"Grading\n\nSubmission Field:\nThere is no student submission text data for this assignment.\n\n"
            f"Files:\n\tOriginal filename: {file}\n")


def test_blackboard_download_names_the_student_from_the_receipt_and_grades_the_latest_attempt(tmp_path):
    early, late = "2026-11-28-09-00-00", "2026-11-29-18-30-00"
    archive = build_zip(tmp_path / "gradebook.zip", {
        f"Homework_1_bo_li_attempt_{early}.txt": blackboard_receipt("Bo Li", "bo_li", "Saturday, 28 Nov", "hw1.ipynb"),
        f"Homework_1_bo_li_attempt_{early}_hw1.ipynb": BUGGY,
        f"Homework_1_bo_li_attempt_{late}.txt": blackboard_receipt("Bo Li", "bo_li", "Sunday, 29 Nov", "hw1.ipynb"),
        f"Homework_1_bo_li_attempt_{late}_hw1.ipynb": CORRECT,
        f"Homework_1_zoe_attempt_{early}.txt": blackboard_receipt("Zoë Ångström", "zoe", "Saturday", "hw.ipynb"),
        f"Homework_1_zoe_attempt_{early}_hw.ipynb": CORRECT,
    })
    with gather([archive]) as intake:
        assert sorted(by_id(intake)) == ["blackboard-bo_li", "blackboard-zoe"], "the username comes from the receipt"
        bo = intake.chosen["blackboard-bo_li"]
        assert bo.attempt.submitted_at == "Sunday, 29 Nov" and by_id(intake)["blackboard-bo_li"].path.read_text(
            encoding="utf-8") == CORRECT
        assert [s.file_name for s in bo.superseded] == [f"Homework_1_bo_li_attempt_{early}_hw1.ipynb"]
        assert intake.chosen["blackboard-zoe"].attempt.student_name == "Zoë Ångström"


def test_plain_folders_keep_their_ids_and_zips_read_like_folders(tmp_path):
    folder = tmp_path / "subs"
    for name in ("section-a/alice.ipynb", "bob.ipynb"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(CORRECT, encoding="utf-8")
    (folder / "alice_2024_01_hw.ipynb").write_text(CORRECT, encoding="utf-8")  # named like Canvas by chance
    before = [(item.id, item.path) for item in discover([folder])]
    with gather([folder]) as intake:
        assert [(item.id, item.path) for item in intake.submissions] == before and not intake.chosen
    build_zip(folder / "late-ones.zip", {"carol.ipynb": CORRECT, "smithjohn_12345_67890_hw1.ipynb": CORRECT,
                                         "leeann_12346_67891_hw1.ipynb": CORRECT})
    direct = build_zip(tmp_path / "direct.zip", {"dave/hw.ipynb": CORRECT})
    with gather([folder, direct]) as intake:
        assert sorted(by_id(intake)) == ["alice_2024_01_hw", "bob", "canvas-12345", "canvas-12346", "dave/hw",
                                         "late-ones/carol", "section-a/alice"]
    plain = build_zip(tmp_path / "plain.zip", {"carol.ipynb": CORRECT})
    with gather([folder, plain]) as intake:
        assert sorted(by_id(intake)) == ["alice_2024_01_hw", "bob", "canvas-12345", "canvas-12346", "carol",
                                         "late-ones/carol", "section-a/alice"], \
            "a zip inside a folder is read as a folder of that name"


def test_unsafe_entries_are_refused_in_their_submission_and_nothing_leaves_the_private_folder(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        handle.writestr("../escape.ipynb", CORRECT)
        handle.writestr("/etc/absolute.ipynb", CORRECT)
        link = zipfile.ZipInfo("mallory_555_900_hw1.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        handle.writestr(link, "../../other-student.ipynb")
        handle.writestr("bomb_556_901_hw1.ipynb", b"\0" * (8 * 2**20))  # 8 MB of zeros: a few kB compressed
        handle.writestr("big_557_902_hw1.ipynb", CORRECT + " " * 5000)
        handle.writestr("../../outside.txt", "not a submission")
        handle.writestr("fine_558_903_hw1.ipynb", CORRECT)
        handle.writestr("./fine_558_903_hw1.ipynb", BUGGY)  # the same name again: refused, the first kept
    with gather([archive], Budget(entry_bytes=4096)) as intake:
        found = by_id(intake)
        assert "climbs out of the zip with '..'" in found["escape"].problem
        assert "its path is absolute" in found["etc/absolute"].problem
        assert "is a symbolic link" in found["canvas-555"].problem
        assert "a zip bomb" in found["canvas-556"].problem
        assert "it is 6 kB, over the 4 kB limit per file" in found["canvas-557"].problem
        assert found["canvas-558"].problem is None and found["canvas-558"].path.read_text(encoding="utf-8") == CORRECT
        assert any("outside.txt" in message and "climbs out" in message for message in intake.messages)
        for item in intake.submissions:  # refused ones point at a stand-in holding the reason, never at a file outside
            assert item.path.resolve().is_relative_to(intake.workspace.resolve())
            if item.problem:
                assert item.path.read_text(encoding="utf-8") == item.problem
    assert not (tmp_path / "escape.ipynb").exists() and not (tmp_path.parent / "outside.txt").exists()
    assert not Path("/etc/absolute.ipynb").exists()
    twice = build_zip(tmp_path / "twice.zip", {"dup/hw.ipynb": CORRECT, "./dup/hw.ipynb": BUGGY})
    with gather([twice]) as intake:
        assert by_id(intake)["dup/hw"].path.read_text(encoding="utf-8") == CORRECT, "the first copy is kept"
        assert "holds another file of the same name" in by_id(intake)["dup/hw~2"].problem


def test_budgets_and_unreadable_zips_are_batch_messages_and_the_batch_goes_on(tmp_path):
    good = build_zip(tmp_path / "good.zip", {"smithjohn_12345_67890_hw1.ipynb": CORRECT})
    many = build_zip(tmp_path / "many.zip", {f"s{n}.ipynb": CORRECT for n in range(30)})
    (tmp_path / "broken.zip").write_bytes(b"this is not a zip")
    with gather([tmp_path / "broken.zip", many, good], Budget(entries=20)) as intake:
        assert list(by_id(intake)) == ["canvas-12345"]
        assert any("broken.zip cannot be read as a zip" in message for message in intake.messages)
        assert any("holds 30 entries, over the limit of 20" in message for message in intake.messages)
    with gather([many], Budget(total_bytes=len(CORRECT) * 3)) as intake:
        refused = [item for item in intake.submissions if item.problem]
        assert len(intake.submissions) == 30 and len(refused) == 27
        assert "would unpack to more than" in refused[0].problem


def test_grade_explains_a_zip_it_cannot_use_and_exits_with_a_usage_error(tmp_path):
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "submissions.zip").write_bytes(b"<html>Session expired</html>")
    result = runner().invoke(main, ["grade", "--assignment", "toy", "--course", str(TEST_COURSE), "--out",
                                    str(tmp_path / "out"), str(tmp_path / "downloads")])
    assert result.exit_code == 2
    assert "No *.ipynb files found" in result.stderr and "submissions.zip cannot be read as a zip" in result.stderr
    assert "download it again" in result.stderr


def store(out: Path, submission: str, score: float) -> None:
    gradebook = Gradebook(out / "gradebook.sqlite")
    result = results.SubmissionResult(submission, "toy", [results.TestResult("double: works", "double", score, 5,
                                                                             score == 5, "")])
    gradebook.store(result, "hash", "suite", now())
    gradebook.close()


def test_export_canvas_rows_come_from_the_download_and_a_roster_only_adds_names(tmp_path):
    out = tmp_path / "out"
    archive = build_zip(tmp_path / "submissions.zip", {"smithjohn_12345_67890_hw1.ipynb": CORRECT,
                                                       "núñezjosé_222_500_hw1.ipynb": CORRECT})
    with gather([archive]) as intake:
        write_manifest(out, intake.chosen.values())
    store(out, "canvas-12345", 5)
    store(out, "canvas-222", 3)
    cli = runner()
    exported = cli.invoke(main, ["export", "canvas", "--out", str(out), "--title", "HW1", "--canvas-id", "9"])
    assert exported.exit_code == 0, exported.stderr
    rows = {row["ID"]: row for row in read_canvas_import(out / "canvas.csv")["students"]}
    assert {key: row["HW1 (9)"] for key, row in rows.items()} == {"12345": "5", "222": "3"}
    assert rows["222"]["Student"] == "núñezjosé"

    roster = tmp_path / "roster.csv"
    roster.write_text("student,id,sis_login_id,section\n\"Núñez, José\",222,jnunez,Section B\n"
                      "\"Absent, Amy\",777,aabsent,Section A\n", encoding="utf-8")
    named = cli.invoke(main, ["export", "canvas", "--out", str(out), "--title", "HW1", "--roster", str(roster)])
    assert named.exit_code == 0, named.stderr
    rows = {row["ID"]: row for row in read_canvas_import(out / "canvas.csv")["students"]}
    assert rows["222"]["Student"] == "Núñez, José" and rows["222"]["Section"] == "Section B"
    assert rows["777"]["HW1"] == "" and rows["12345"]["HW1"] == "5", "the roster adds students, never drops one"

    (tmp_path / "plain").mkdir()
    store(tmp_path / "plain", "alice", 5)
    refused = cli.invoke(main, ["export", "canvas", "--out", str(tmp_path / "plain"), "--title", "HW1"])
    assert refused.exit_code == 2 and "pass --roster" in refused.stderr


def test_canvas_feedback_zip_names_each_file_like_the_download(tmp_path):
    out = tmp_path / "out"
    archive = build_zip(tmp_path / "submissions.zip", {"smithjohn_LATE_12345_67890_hw1-1.ipynb": CORRECT,
                                                       "doe_jane_333_501_hw1.pdf": b"%PDF"})
    with gather([archive]) as intake:
        records = write_manifest(out, intake.chosen.values())
    (out / "feedback").mkdir()
    (out / "feedback" / "canvas-12345.ipynb").write_text(CORRECT, encoding="utf-8")
    written = write_feedback_zip(out, records, tmp_path / "feedback.zip")
    assert written.written == ["smithjohn_LATE_12345_67890_hw1-1.ipynb"] and written.without_notebook == ["canvas-333"]
    with zipfile.ZipFile(tmp_path / "feedback.zip") as handle:
        names = handle.namelist()
        # What Canvas's re-upload reads: the first two all-digit parts are the user and the file it attaches to.
        assert [[part for part in name.split("_") if part.isdigit()][:2] for name in names] == [["12345", "67890"]]
        assert handle.read(names[0]).decode("utf-8") == CORRECT


def test_grading_a_canvas_zip_end_to_end(tmp_path):
    """Three notebooks graded: one row per student, the latest attempt's grade, a re-run reuses them all."""
    archive = build_zip(tmp_path / "submissions.zip", {
        "smithjohn_12345_67890_hw1.ipynb": CORRECT,
        "smithjohn_LATE_12345_67990_hw1-1.ipynb": BUGGY,  # the latest is the buggy one: its grade counts
        "núñezjosé_222_500_hw1.ipynb": CORRECT,
        "../escape.ipynb": CORRECT,
    })
    out = tmp_path / "out"
    command = ["grade", "--assignment", "toy", "--course", str(TEST_COURSE), "--out", str(out), str(archive)]
    first = runner().invoke(main, command)
    assert first.exit_code == 0, first.output + first.stderr
    assert "2 students from canvas downloads" in first.stderr and "1 with earlier attempts" in first.stderr
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        grades = {row["submission"]: row for row in csv.DictReader(handle)}
    assert sorted(grades) == ["canvas-12345", "canvas-222", "escape"]
    assert float(grades["canvas-12345"]["double"]) == 0 and float(grades["canvas-222"]["double"]) > 0
    assert float(grades["canvas-12345"]["score"]) < float(grades["canvas-222"]["score"])
    smith = json.loads((out / "results" / "canvas-12345.json").read_text(encoding="utf-8"))["extra_data"]["intake"]
    assert smith["late"] is True and smith["student_id"] == "12345"
    assert smith["superseded"] == [{"file_name": "smithjohn_12345_67890_hw1.ipynb", "submitted_at": "", "late": False}]
    escaped = json.loads((out / "results" / "escape.json").read_text(encoding="utf-8"))
    assert "climbs out of the zip" in escaped["extra_data"]["problem"]
    with open(out / "intake.csv", newline="", encoding="utf-8") as handle:
        intake = {row["submission"]: row for row in csv.DictReader(handle)}
    assert intake["canvas-12345"]["late"] == "late"
    assert intake["canvas-12345"]["superseded"] == "smithjohn_12345_67890_hw1.ipynb"

    again = runner().invoke(main, command)
    assert again.exit_code == 0 and "Graded 0, reused 3" in again.output, again.output + again.stderr
    feedback = runner().invoke(main, ["export", "canvas-feedback", "--out", str(out)])
    assert feedback.exit_code == 0, feedback.stderr
    with zipfile.ZipFile(out / "canvas-feedback.zip") as handle:
        assert sorted(handle.namelist()) == ["núñezjosé_222_500_hw1.ipynb", "smithjohn_LATE_12345_67990_hw1-1.ipynb"]
        assert "Feedback" in handle.read("núñezjosé_222_500_hw1.ipynb").decode("utf-8")


def test_a_zip_that_is_one_notebook_renamed_still_says_what_to_submit(tmp_path):
    """A student's zip given directly holds their notebook: it is graded like a folder, not as a notebook."""
    archive = build_zip(tmp_path / "alice.zip", {"alice/homework.ipynb": CORRECT})
    with gather([archive]) as intake:
        assert list(by_id(intake)) == ["alice/homework"] and by_id(intake)["alice/homework"].problem is None


def test_an_unpacked_download_is_read_like_its_zip_and_links_in_it_are_not_followed(tmp_path):
    folder = tmp_path / "unpacked"
    folder.mkdir()
    for name, content in CANVAS.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    (tmp_path / "someone-else.ipynb").write_text(CORRECT, encoding="utf-8")
    (folder / "mallory_555_900_hw1.ipynb").symlink_to(tmp_path / "someone-else.ipynb")
    with gather([folder]) as intake:
        found = by_id(intake)
        assert sorted(found) == ["canvas-12345", "canvas-222", "canvas-333", "canvas-444", "canvas-555"]
        assert found["canvas-12345"].path == folder / "smithjohn_LATE_12345_67990_hw1-1.ipynb"
        assert "is a symbolic link; links are never followed" in found["canvas-555"].problem
        assert found["canvas-555"].path.read_text(encoding="utf-8") == found["canvas-555"].problem
    build_zip(tmp_path / "submissions.zip", CANVAS)
    with gather([folder, tmp_path / "submissions.zip"]) as intake:  # the download given unpacked and zipped
        assert len(intake.submissions) == 5
        assert [s.file_name for s in intake.chosen["canvas-12345"].superseded] == ["smithjohn_12345_67890_hw1.ipynb"]
