"""The grading view of written answers in a real browser (Debian's headless Chromium, driven by Playwright).

`autograder review` runs as its own process, as an instructor starts it; the gradebook holds results built
in-process (nothing is graded). The keyboard grades an answer and moves to the next; the server is killed
mid-session (SIGKILL, a crash) and started again, and after a reload every grade is there. Every bundled
assignment's written questions are graded once through the page, with an answer that tries to run script.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.grader.assignment import load_assignment
from autograder.grader.batch import write_grades_csv
from autograder.grader.gradebook import Gradebook, now
from autograder.grader.results import SubmissionResult
from autograder.grader.written_answers.questions import PLACEHOLDER, Answer
from tests.conftest import COURSE
from tests.test_report_browser import browser  # noqa: F401 - the shared Chromium fixture

BUNDLED = ["gradient-descent", "learning-rate", "logistic-loss", "random-restarts", "relu-fit"]
HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script> & =1+1"
STUDENTS = ("alice", "bob", "carol")


def answers_for(question_id: str) -> dict[str, Answer]:
    return {"alice": Answer(question_id, f"Alice on {question_id}: the slope shrinks near a minimum."),
            "bob": Answer(question_id, f"Bob on {question_id}: {HOSTILE}"),
            "carol": Answer(question_id, PLACEHOLDER)}


def build_out(out: Path, slug: str):
    """An --out folder for ``slug``: a gradebook with three results and their written answers, and grades.csv."""
    assignment = load_assignment(slug, COURSE)
    gradebook = Gradebook(out / "gradebook.sqlite")
    results = []
    for student in STUDENTS:
        result = SubmissionResult(student, slug)
        gradebook.store(result, "digest", assignment.suite_version, now())
        gradebook.store_answers(slug, student, {q.id: answers_for(q.id)[student] for q in assignment.written},
                                out / f"{student}.ipynb")
        results.append(gradebook.with_written(result, assignment.written))
    write_grades_csv(out / "grades.csv", assignment, results)
    gradebook.close()
    return assignment, out


@pytest.fixture(scope="module")
def grading_outputs(tmp_path_factory):
    return {slug: build_out(tmp_path_factory.mktemp(slug), slug) for slug in BUNDLED}


class ReviewProcess:
    """`autograder review --no-browser` in a process of its own; its address is read from what it prints."""

    def __init__(self, out: Path, slug: str, question: str) -> None:
        command = [sys.executable, "-u", "-c", "import click_cli; click_cli.main()", "review", "--out", str(out),
                   "--assignment", slug, "--question", question, "--no-browser", "--course", str(COURSE)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # the first line names the address
        found = re.search(r"http://127\.0\.0\.1:\d+/\?token=[\w-]+", line)
        if not found:
            self.process.kill()
            raise AssertionError(f"autograder review printed no address: {line!r} {self.process.stderr.read()}")
        self.url = found.group(0)

    def crash(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def open_view(browser, url: str, problems: list[str]):  # noqa: F811 - browser is the fixture
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: (problems.append(f"a dialog opened: {dialog.message}"), dialog.dismiss()))
    page.goto(url, wait_until="load")
    page.wait_for_selector("#answer-2")
    return page


def press(page, key: str) -> None:
    """Press a key and wait until the change it made is saved (the status line says so)."""
    page.evaluate("document.getElementById('saved').textContent = ''")
    page.keyboard.press(key)
    saved(page)


def saved(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#saved")).to_have_text(re.compile(r"^saved "), timeout=5_000)


def stored(out: Path, slug: str) -> dict:
    gradebook = Gradebook(out / "gradebook.sqlite")
    try:
        return gradebook.written_grades(slug)
    finally:
        gradebook.close()


def test_keyboard_grading_survives_a_crash_of_the_server(browser, tmp_path):  # noqa: F811
    (tmp_path / "out").mkdir()
    assignment, out = build_out(tmp_path / "out", "random-restarts")
    question = assignment.written[0]
    problems: list[str] = []
    server = ReviewProcess(out, assignment.slug, question.id)
    try:
        page = open_view(browser, server.url, problems)
        assert page.locator("#answer-0").get_attribute("class") == "answer current"  # the first pending one
        press(page, "1")
        press(page, "2")
        page.keyboard.press("j")  # to bob's answer
        assert "current" in page.locator("#answer-1").get_attribute("class")
        assert HOSTILE in page.locator("#answer-1 .text").inner_text()  # shown as text, never run
        press(page, "1")
        page.keyboard.press("c")
        page.keyboard.type("Half right.")
        page.keyboard.press("Escape")  # leaving the field saves the comment
        saved(page)
        page.keyboard.press("ArrowDown")
        assert "current" in page.locator("#answer-2").get_attribute("class")
        page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
        server.crash()
    finally:
        server.stop()

    grades = stored(out, assignment.slug)
    assert grades[("alice", question.id)].items == ("1", "2") and grades[("alice", question.id)].score == 2
    assert grades[("bob", question.id)].score == 1

    restarted = ReviewProcess(out, assignment.slug, question.id)
    try:
        page.goto(restarted.url, wait_until="load")  # the reload: a new process, a new token
        page.wait_for_selector("#answer-2")
        statuses = [page.locator(f"#answer-{i} .status").inner_text() for i in range(3)]
        assert statuses == ["2 / 2", "1 / 2", "pending"]
        assert page.locator("#answer-2").get_attribute("class") == "answer current"  # the next pending one
        page.keyboard.press("k")
        assert page.locator("#comment").input_value() == "Half right."
        assert page.locator("#item-0").get_attribute("class") == "item on"
        assert page.locator("#item-1").get_attribute("class") == "item"
        page.close()
    finally:
        restarted.stop()  # a polite stop finishes rewriting the outputs
    rows = (out / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert rows[1].startswith("alice,2,") and ",2,pending," in rows[1]
    assert rows[3].startswith("carol,0,") and ",pending,pending," in rows[3]
    assert problems == []
    print(f"screenshot of the grading view: {tmp_path / 'review.png'}")


@pytest.mark.parametrize("slug, number", [(slug, number) for slug in BUNDLED for number in (1, 2)
                                          if number <= len(load_assignment(slug, COURSE).written)])
def test_every_bundled_question_is_graded_through_the_view(browser, grading_outputs, slug, number):  # noqa: F811
    assignment, out = grading_outputs[slug]
    question = assignment.written[number - 1]
    problems: list[str] = []
    server = ReviewProcess(out, slug, question.id)
    try:
        page = open_view(browser, server.url, problems)
        assert page.locator("#title").inner_text().endswith(f"({question.points:g} points)")
        assert page.locator("#rubric .item").count() == len(question.rubric)
        texts = [page.locator(f"#answer-{i} .text").inner_text() for i in range(3)]
        assert texts[0].startswith(f"Alice on {question.id}") and HOSTILE in texts[1] and "(left blank)" in texts[2]
        page.keyboard.press("n")  # the next pending answer: bob's
        assert "current" in page.locator("#answer-1").get_attribute("class")
        press(page, str(len(question.rubric)))  # the last rubric item
        time.sleep(0.05)
        page.close()
    finally:
        server.stop()
    grade = stored(out, slug)[("bob", question.id)]
    assert grade.items == (question.rubric[-1].id,) and grade.score == question.score([question.rubric[-1].id], 0)
    assert problems == []
