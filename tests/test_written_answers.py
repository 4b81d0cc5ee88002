"""Written questions: declaring them, reading answers from notebooks, scoring by rubric, storing grades,
and their flow into grades.csv, results, feedback pages, the Canvas CSV and Gradescope's PDFs."""

from __future__ import annotations

import csv
import http.client
import json
import shutil
import threading
from pathlib import Path

import nbformat
import pytest

from autograder.grader.assignment import AssignmentError, load_assignment
from autograder.grader.batch import discover, grade_batch
from autograder.grader.escaping import printable
from autograder.grader.exports.canvas import match, write_canvas_csv
from autograder.grader.exports.roster import Student
from autograder.grader.gradebook import Gradebook, now
from autograder.grader.results import SubmissionResult
from autograder.grader.results import TestResult as Check
from autograder.grader.traceability import statements
from autograder.grader.written_answers.questions import (
    ANSWER_MARK,
    MAX_ANSWER_CHARS,
    PLACEHOLDER,
    QUESTION_MARK,
    Answer,
    WrittenError,
    answers_in_document,
    extract_answers,
    grade_from_form,
    load_questions,
    notebook_cells,
)
from autograder.grader.written_answers.review import Review, make_server
from tests.conftest import COURSE, TEST_COURSE, TOY_CORRECT

BUNDLED = ["gradient-descent", "learning-rate", "logistic-loss", "random-restarts", "relu-fit"]
HOSTILE = "<script>alert('x')</script> =HYPERLINK(\"http://x\") \x1b[31mred\x1b[0m `` ** [a](javascript:1) &amp;"

WRITTEN_TOML = """
[[question]]
id = "why"
title = "Why it works"
points = 2
[[question.rubric]]
points = 1
text = "Names the gradient."
[[question.rubric]]
points = 1
text = "Says the steps shrink."
[[question.rubric]]
id = "wrong"
points = -0.5
text = "Claims it always finds the global minimum."

[[question]]
id = "what-next"
title = "What next"
points = 1
[[question.rubric]]
points = 1
text = "Keeps the best on held-out data."
"""


@pytest.fixture
def written_toy(tmp_path):
    """The toy assignment with two written questions, in a copy of the test course."""
    course = tmp_path / "course"
    shutil.copytree(TEST_COURSE, course)
    (course / "assignments" / "toy" / "written.toml").write_text(WRITTEN_TOML, encoding="utf-8")
    return load_assignment("toy", course)


def written_cells(answers: dict[str, str], questions) -> list:
    cells = []
    for question in questions:
        cells.append(nbformat.v4.new_markdown_cell(
            f"## Written question {question.number}: {question.title}\n\nExplain.",
            metadata={"autograder": {QUESTION_MARK: question.id}}))
        if question.id in answers:
            cells.append(nbformat.v4.new_markdown_cell(answers[question.id],
                                                       metadata={"autograder": {ANSWER_MARK: question.id}}))
    return cells


def notebook_with_answers(path: Path, answers: dict[str, str], questions, code=TOY_CORRECT) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in code]
    notebook.cells += written_cells(answers, questions)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


# --- declaring questions -------------------------------------------------------------------------------------

@pytest.mark.parametrize("slug", BUNDLED)
def test_every_bundled_assignment_has_questions_with_marked_cells(slug):
    assignment = load_assignment(slug, COURSE)
    assert assignment.written, f"{slug} declares no written question in written.toml"
    assert len({question.id for question in assignment.written}) == len(assignment.written), "question ids repeat"
    for notebook in (assignment.student_notebook, assignment.source_notebook):
        cells = notebook_cells(notebook, assignment.written)
        assert {key: found.issues for key, found in cells.items()} == {q.id: [] for q in assignment.written}
    document = json.loads(assignment.student_notebook.read_text(encoding="utf-8"))
    last = [cell for cell in document["cells"][-2 * len(assignment.written):]]
    assert all("autograder" in cell["metadata"] for cell in last), "the written cells end the notebook"
    for question in assignment.written:
        assert sum(item.points for item in question.rubric if item.points > 0) >= question.points
    # The bundled notebook answers nothing yet: every answer is the placeholder.
    answers = answers_in_document(document, assignment.written)
    assert all(answer.found and answer.blank for answer in answers.values())


def test_a_normative_sentence_in_a_written_cell_needs_no_test(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("The function must return a float."),
        nbformat.v4.new_markdown_cell("## Written question 1: Why\n\nYou should explain why it must converge.",
                                      metadata={"autograder": {QUESTION_MARK: "why"}}),
        nbformat.v4.new_markdown_cell("It must, since I should say so.", metadata={"autograder": {ANSWER_MARK: "why"}}),
    ]
    path = tmp_path / "n.ipynb"
    nbformat.write(notebook, path)
    assert [s.text for s in statements(path)] == ["The function must return a float."]


@pytest.mark.parametrize("broken, message", [
    ('[[question]]\nid = "bad id!"\npoints = 1\n[[question.rubric]]\npoints = 1\ntext = "x"', "id must be"),
    ('[[question]]\nid = "q"\npoints = 0\n[[question.rubric]]\npoints = 1\ntext = "x"', "points must be"),
    ('[[question]]\nid = "q"\npoints = 1', "at least one"),
    ('[[question]]\nid = "q"\npoints = 1\n[[question.rubric]]\ntext = "x"', "needs points"),
    ("[[question]\n", "not valid TOML"),
])
def test_a_broken_written_toml_says_what_to_fix(tmp_path, broken, message):
    (tmp_path / "written.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(WrittenError, match=message):
        load_questions(tmp_path)


def test_loading_the_assignment_reports_a_broken_written_toml(written_toy):
    (written_toy.folder / "written.toml").write_text('[[question]]\nid = "x"\npoints = -1\n', encoding="utf-8")
    with pytest.raises(AssignmentError, match="points must be a positive number"):
        load_assignment("toy", written_toy.course)


# --- extraction ----------------------------------------------------------------------------------------------

def test_answers_are_read_from_marked_cells_whatever_students_wrote(tmp_path, written_toy):
    questions = written_toy.written
    path = notebook_with_answers(tmp_path / "a.ipynb", {"why": "# My heading\n\nBecause " + HOSTILE}, questions)
    answers = extract_answers(path, questions)
    assert answers["why"].found and answers["why"].text == "# My heading\n\nBecause " + HOSTILE
    assert not answers["what-next"].found and answers["what-next"].text == ""


def test_an_answer_cell_without_its_metadata_is_found_after_the_prompt(written_toy):
    questions = written_toy.written
    document = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["## Written question 1: Why it works\n", "Explain."]},
        {"cell_type": "markdown", "metadata": {}, "source": ["first part"]},
        {"cell_type": "markdown", "metadata": {}, "source": "second part"},
        {"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": []},
        {"cell_type": "markdown", "metadata": {}, "source": "not an answer"},
    ]}
    answers = answers_in_document(document, questions)
    assert answers["why"].text == "first part\n\nsecond part"
    assert not answers["what-next"].found


def test_split_answer_cells_are_joined_and_long_answers_cut(written_toy):
    questions = written_toy.written
    long = "x" * (MAX_ANSWER_CHARS + 500)
    document = {"cells": [
        {"cell_type": "markdown", "metadata": {"autograder": {ANSWER_MARK: "why"}}, "source": "one"},
        {"cell_type": "markdown", "metadata": {"autograder": {ANSWER_MARK: "why"}}, "source": "two"},
        {"cell_type": "raw", "metadata": {"autograder": {ANSWER_MARK: "what-next"}}, "source": long},
    ]}
    answers = answers_in_document(document, questions)
    assert answers["why"].text == "one\n\ntwo"
    assert len(answers["what-next"].text) == MAX_ANSWER_CHARS and answers["what-next"].truncated == 500


def test_odd_json_never_breaks_extraction(tmp_path, written_toy):
    questions = written_toy.written
    odd = {"cells": [{"cell_type": "markdown", "metadata": {"autograder": {ANSWER_MARK: "why"}}, "source": [1, None]},
                     "not a cell", {"metadata": "no", "source": {"a": 1}},
                     {"cell_type": "markdown", "metadata": {"autograder": "x"}, "source": "y"}]}
    assert answers_in_document(odd, questions)["why"].text == ""
    assert answers_in_document({"cells": "nope"}, questions)["why"].found is False
    for name, content in (("zip.ipynb", b"PK\x03\x04..."), ("empty.ipynb", b""), ("bad.ipynb", b"{not json")):
        (tmp_path / name).write_bytes(content)
        assert not any(answer.found for answer in extract_answers(tmp_path / name, questions).values())


def test_the_placeholder_counts_as_blank():
    assert Answer("q", PLACEHOLDER).blank and Answer("q", "  \n").blank and not Answer("q", "Because.").blank


# --- scoring -------------------------------------------------------------------------------------------------

def test_a_score_is_the_chosen_items_plus_the_adjustment_kept_within_the_points(written_toy):
    why = written_toy.written[0]
    assert [item.id for item in why.rubric] == ["1", "2", "wrong"]
    assert why.score(["1"], 0) == 1
    assert why.score(["1", "2"], 0.5) == 2  # never above the question's points
    assert why.score(["1", "wrong"], 0) == 0.5
    assert why.score(["wrong"], 0) == 0  # never below zero
    grade = grade_from_form(why, {"items": ["2", "1", "1"], "adjustment": -0.25, "comment": "ok"},
                            Answer("why", "text"), now())
    assert grade.items == ("1", "2") and grade.score == 1.75


@pytest.mark.parametrize("form, message", [
    ({"items": ["9"]}, "no rubric item 9"),
    ({"items": "1"}, "list of rubric item ids"),
    ({"adjustment": "1"}, "adjustment must be a number"),
    ({"adjustment": float("nan")}, "adjustment must be a number"),
    ({"adjustment": 1e9}, "adjustment must be a number"),
    ({"comment": "x" * 5000}, "at most"),
])
def test_a_bad_grade_is_refused_with_a_reason(written_toy, form, message):
    with pytest.raises(ValueError, match=message):
        grade_from_form(written_toy.written[0], form, None, now())


# --- storage -------------------------------------------------------------------------------------------------

def test_grades_are_committed_with_their_time_and_history_and_survive_a_new_connection(tmp_path, written_toy):
    why = written_toy.written[0]
    path = tmp_path / "gradebook.sqlite"
    gradebook = Gradebook(path)
    answer = Answer("why", "Because the gradient shrinks.")
    gradebook.store_answers("toy", "amy", {"why": answer}, tmp_path / "amy.ipynb")
    gradebook.store_written_grade("toy", "amy", grade_from_form(why, {"items": ["1"]}, answer, now()))
    gradebook.store_written_grade("toy", "amy", grade_from_form(why, {"items": ["1", "2"], "comment": "good"},
                                                                answer, now()))
    # No close: a crash right after the call must keep the grade (each call committed its transaction).
    reopened = Gradebook(path)
    stored = reopened.written_grades("toy")[("amy", "why")]
    assert stored.score == 2 and stored.comment == "good" and stored.graded_at.startswith(now()[:10])
    history = reopened.connection.execute("SELECT score FROM written_grade_history ORDER BY rowid").fetchall()
    assert history == [(1.0,), (2.0,)]
    statuses = reopened.written_statuses("toy", "amy", written_toy.written)
    assert [status.pending for status in statuses] == [False, True]
    # A resubmitted, changed answer must be graded again: pending, however it was graded before.
    reopened.store_answers("toy", "amy", {"why": Answer("why", "Something else.")}, tmp_path / "amy.ipynb")
    assert reopened.written_statuses("toy", "amy", written_toy.written)[0].pending
    gradebook.close()
    reopened.close()


def test_a_summary_says_how_many_points_are_pending():
    result = SubmissionResult("amy", "toy", tests=[
        Check("written:why: W", "written:why", 0, 2, False, "Pending", pending=True),
        Check("double: ok", "double", 3, 3, True, "")])
    assert result.pending_points == 2 and result.summary().splitlines()[0] == (
        "Score: 3 / 5 (2 points pending: written answers not graded yet)")


# --- flow into the outputs -----------------------------------------------------------------------------------

def read_rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["submission"]: row for row in csv.DictReader(handle)}


class FullMarks:
    """An executor that gives every submission the toy's full marks at once: the written answers' flow is
    under test here, not grading (which a loaded machine could slow past the toy's budgets)."""

    def results(self, tasks):
        for task in tasks:
            yield task, SubmissionResult(task.submission, "toy", tests=[
                Check("double: doubles an array", "double", 3, 3, True, ""),
                Check("apply_twice: applies twice", "apply_twice", 2, 2, True, "")])

    def close(self) -> None:
        pass


def test_written_grades_flow_into_grades_csv_results_feedback_and_canvas(tmp_path, written_toy):
    questions = written_toy.written
    folder = tmp_path / "subs"
    notebook_with_answers(folder / "amy.ipynb", {"why": "Because " + HOSTILE, "what-next": "Validation."}, questions)
    notebook_with_answers(folder / "kim.ipynb", {"why": "No idea."}, questions)
    out = tmp_path / "out"
    grade_batch(written_toy, discover([folder]), out, feedback=True, executor=FullMarks())

    rows = read_rows(out / "grades.csv")
    assert list(rows["amy"]) == ["submission", "score", "max_score", "double", "apply_twice", "written:why",
                                 "written:what-next", "pending"]
    assert rows["amy"]["written:why"] == "pending" and rows["amy"]["pending"] == "3"
    assert rows["amy"]["score"] == "5" and rows["amy"]["max_score"] == "8"
    page = (out / "feedback" / "amy.html").read_text(encoding="utf-8")
    assert "Score: 5 / 8 (3 points pending: written answers not graded yet)" in page and "not counted yet" in page

    gradebook = Gradebook(out / "gradebook.sqlite")
    assert gradebook.answers("toy", "why")["amy"].text == "Because " + HOSTILE
    assert not gradebook.answers("toy", "what-next")["kim"].found  # kim's notebook has no answer cell
    roster = [Student("amy", "Amy", id="1"), Student("kim", "Kim", id="2")]
    canvas = match([gradebook.with_written(r, questions) for r in gradebook.results("toy")], roster, "Toy")
    assert [s.submission for s, _ in canvas.pending] == ["amy", "kim"] and "still to grade" in canvas.report()

    for submission, items, comment in (("amy", ["1", "2"], "<b>Good</b> " + HOSTILE), ("kim", [], "")):
        answer = gradebook.answers("toy", "why")[submission]
        gradebook.store_written_grade("toy", submission, grade_from_form(
            questions[0], {"items": items, "comment": comment}, answer, now()))
    answer = gradebook.answers("toy", "what-next")["amy"]
    gradebook.store_written_grade("toy", "amy", grade_from_form(questions[1], {"items": ["1"]}, answer, now()))
    gradebook.store_written_grade("toy", "kim", grade_from_form(questions[1], {"items": []}, None, now()))
    canvas = match([gradebook.with_written(r, questions) for r in gradebook.results("toy")], roster, "Toy")
    write_canvas_csv(tmp_path / "canvas.csv", roster, canvas)
    gradebook.close()
    assert not canvas.pending
    assert [line.split(",")[-1] for line in (tmp_path / "canvas.csv").read_text().splitlines()[2:]] == ["8", "5"]

    shutil.rmtree(out / "feedback")  # a re-run draws the pages again, with the grades
    grade_batch(written_toy, discover([folder]), out, feedback=True, executor=FullMarks())
    rows = read_rows(out / "grades.csv")
    assert (rows["amy"]["score"], rows["amy"]["written:why"], rows["amy"]["pending"]) == ("8", "2", "0")
    assert (rows["kim"]["score"], rows["kim"]["written:why"], rows["kim"]["written:what-next"]) == ("5", "0", "0")
    # results.json stays what the autograder gave (on Gradescope, written answers are graded from the PDFs).
    result = json.loads((out / "results" / "amy.json").read_text())
    assert result["score"] == 5 and not [test for test in result["tests"] if "written" in test["name"]]
    page = (out / "feedback" / "amy.html").read_text(encoding="utf-8")
    assert "Names the gradient." in page and "Says the steps shrink." in page
    page = (out / "feedback" / "amy.html").read_text(encoding="utf-8")
    assert "&lt;b&gt;Good&lt;/b&gt;" in page and "<b>Good" not in page and "<script>alert" not in page
    assert "\x1b" not in page
    markdown = (out / "feedback" / "amy.md").read_text(encoding="utf-8")
    assert "graded by hand (2 / 2)" in markdown and "\x1b" not in markdown


# --- the Gradescope PDFs -------------------------------------------------------------------------------------

def test_one_pdf_per_submission_holds_the_answers_in_order(tmp_path, written_toy):
    pypdf = pytest.importorskip("pypdf", reason="pypdf is missing: pip install pypdf (a dev dependency)")
    from autograder.grader.exports.written_pdf import write_answer_pdfs

    gradebook = Gradebook(tmp_path / "gradebook.sqlite")
    answers = {
        "amy": {"why": Answer("why", "Because the slope shrinks.\nSo do the steps. Ünïcødé ok"),
                "what-next": Answer("what-next", "Keep the best run " + HOSTILE)},
        "kim": {"why": Answer("why", PLACEHOLDER)},
        "long": {"why": Answer("why", "word " * 2500), "what-next": Answer("what-next", "Short.")},
    }
    for submission, found in answers.items():
        gradebook.store_answers("toy", submission, found, tmp_path / f"{submission}.ipynb")
    written = write_answer_pdfs(gradebook, written_toy, tmp_path / "pdf")
    gradebook.close()
    assert [item.submission for item in written] == ["amy", "kim", "long"]

    def pages(path: Path) -> list[str]:
        return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(path).pages]

    amy = pages(tmp_path / "pdf" / "amy.pdf")
    assert len(amy) == 2
    assert "Written question 1: Why it works" in amy[0] and "Because the slope shrinks. So do the steps." in amy[0]
    assert "Ünïcødé" in amy[0]
    printable_hostile = " ".join(HOSTILE.replace("\x1b[31m", "").replace("\x1b[0m", "").split())
    assert "Written question 2: What next" in amy[1] and printable_hostile in amy[1]
    kim = pages(tmp_path / "pdf" / "kim.pdf")
    assert "(left blank)" in kim[0] and "no answer" in kim[1]
    long = pages(tmp_path / "pdf" / "long.pdf")
    assert len(long) > 2 and "Written question 2: What next" in long[-1]
    index = read_rows(tmp_path / "pdf" / "index.csv")
    assert index["long"]["longer_than_a_page"] == "why" and index["amy"]["pages"] == "2"
    assert len(pages(tmp_path / "pdf" / "template.pdf")) == 2


# --- the grading view's protections (in-process; the browser test drives the page) -------------------------

@pytest.fixture
def review_server(tmp_path, written_toy):
    gradebook = Gradebook(tmp_path / "out" / "gradebook.sqlite")
    gradebook.store_answers("toy", "amy", {"why": Answer("why", HOSTILE)}, tmp_path / "amy.ipynb")
    gradebook.close()
    review = Review(tmp_path / "out", written_toy, written_toy.written[0])
    server = make_server(review, None, token="t0ken")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, review
    server.shutdown()
    server.server_close()


def request(server, method: str, path: str, body: bytes | None = None, **headers: str) -> tuple[int, dict]:
    port = server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.putrequest(method, path, skip_host=True)
    connection.putheader("Host", headers.pop("Host", f"127.0.0.1:{port}"))
    for name, value in headers.items():
        connection.putheader(name.replace("_", "-"), value)
    if body is not None:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders(body)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, json.loads(data) if response.getheader("Content-Type", "").startswith(
        "application/json") else {"html": data.decode()}


def test_the_view_listens_on_localhost_and_needs_its_token(review_server):
    server, _ = review_server
    assert server.server_address[0] == "127.0.0.1"
    assert request(server, "GET", "/")[0] == 403
    assert request(server, "GET", "/?token=wrong")[0] == 403
    status, page = request(server, "GET", "/?token=t0ken")
    assert status == 200 and "<script nonce=" in page["html"]
    assert request(server, "GET", "/?token=t0ken", Host="evil.example:80")[0] == 403  # DNS rebinding
    assert request(server, "GET", "/api/state")[0] == 403
    status, state = request(server, "GET", "/api/state", X_Review_Token="t0ken")
    # As data, less terminal control sequences; the page shows it as text (the browser test checks that).
    assert status == 200 and state["answers"][0]["answer"] == printable(HOSTILE) != HOSTILE


def test_grades_are_posted_only_as_json_with_the_token_from_the_view(review_server):
    server, review = review_server
    body = json.dumps({"submission": "amy", "items": ["1"], "comment": "ok"}).encode()
    assert request(server, "POST", "/api/grade", body, Content_Type="application/json")[0] == 403
    assert request(server, "POST", "/api/grade", body, Content_Type="text/plain", X_Review_Token="t0ken")[0] == 415
    assert request(server, "POST", "/api/grade", body, Content_Type="application/json", X_Review_Token="t0ken",
                   Origin="http://evil.example")[0] == 403
    assert request(server, "POST", "/api/grade", b"x" * 70_000, Content_Type="application/json",
                   X_Review_Token="t0ken")[0] == 413
    bad = json.dumps({"submission": "amy", "items": ["nope"]}).encode()
    status, reply = request(server, "POST", "/api/grade", bad, Content_Type="application/json", X_Review_Token="t0ken")
    assert status == 400 and "no rubric item nope" in reply["error"]
    unknown = json.dumps({"submission": "nobody", "items": []}).encode()
    assert request(server, "POST", "/api/grade", unknown, Content_Type="application/json",
                   X_Review_Token="t0ken")[0] == 400
    stored = Gradebook(review.gradebook_path)
    assert stored.written_grades("toy") == {}
    status, reply = request(server, "POST", "/api/grade", body, Content_Type="application/json",
                            X_Review_Token="t0ken", Origin=f"http://127.0.0.1:{server.server_address[1]}")
    assert status == 200 and reply["score"] == 1
    assert stored.written_grades("toy")[("amy", "why")].comment == "ok"
    stored.close()


def test_outputs_a_crash_left_stale_are_redrawn_when_the_view_starts(tmp_path, written_toy):
    from autograder.grader.batch import write_grades_csv
    from autograder.grader.written_answers.review import OutputRefresher

    out = tmp_path / "out"
    (out / "feedback").mkdir(parents=True)
    gradebook = Gradebook(out / "gradebook.sqlite")
    result = SubmissionResult("amy", "toy")
    gradebook.store(result, "digest", written_toy.suite_version, now())
    answer = Answer("why", "Because.")
    gradebook.store_answers("toy", "amy", {"why": answer}, tmp_path / "gone.ipynb")
    write_grades_csv(out / "grades.csv", written_toy, [gradebook.with_written(result, written_toy.written)])
    # Graded in a session that died before it rewrote anything:
    gradebook.store_written_grade("toy", "amy", grade_from_form(written_toy.written[0], {"items": ["1"]}, answer,
                                                                now()))
    gradebook.close()
    assert read_rows(out / "grades.csv")["amy"]["written:why"] == "pending"
    messages: list[str] = []
    refresher = OutputRefresher(out, written_toy, messages.append)
    refresher.catch_up()
    refresher.stop()
    assert messages == []
    assert read_rows(out / "grades.csv")["amy"]["written:why"] == "1"
    assert "Names the gradient." in (out / "feedback" / "amy.html").read_text(encoding="utf-8")


def test_thousands_of_marked_cells_are_cut_to_the_budget(written_toy):
    cells = [{"cell_type": "markdown", "metadata": {"autograder": {ANSWER_MARK: "why"}}, "source": "y" * 1000}
             for _ in range(5000)]
    answer = answers_in_document({"cells": cells}, written_toy.written)["why"]
    assert len(answer.text) == MAX_ANSWER_CHARS and answer.text.startswith("y" * 1000 + "\n\n")
    assert answer.truncated == 5000 * 1000 + 4999 * 2 - MAX_ANSWER_CHARS


# --- the commands ---------------------------------------------------------------------------------------------

def test_the_commands_say_what_is_missing_and_export_the_pdfs(tmp_path, written_toy):
    from click.testing import CliRunner

    from click_cli import main

    runner = CliRunner()
    course = str(written_toy.course)
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = runner.invoke(main, ["review", "--out", str(empty), "--course", course, "--no-browser"])
    assert missing.exit_code == 2 and "grade the submissions first" in missing.output
    out = tmp_path / "out"
    gradebook = Gradebook(out / "gradebook.sqlite")
    gradebook.store(SubmissionResult("amy", "toy"), "digest", written_toy.suite_version, now())
    gradebook.store_answers("toy", "amy", {"why": Answer("why", "Because.")}, tmp_path / "amy.ipynb")
    gradebook.close()
    several = runner.invoke(main, ["review", "--out", str(out), "--course", course, "--no-browser"])
    assert several.exit_code == 2 and "several written questions (why, what-next)" in several.output
    unknown = runner.invoke(main, ["review", "--out", str(out), "--course", course, "--question", "nope"])
    assert unknown.exit_code == 2 and "no written question 'nope'" in unknown.output
    exported = runner.invoke(main, ["export", "written-pdf", "--out", str(out), "--course", course])
    assert exported.exit_code == 0, exported.output
    assert "Wrote 1 PDF of answers" in exported.output and (out / "written-pdf" / "amy.pdf").stat().st_size > 1000
