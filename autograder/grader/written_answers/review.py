"""Grading written answers by hand: ``autograder review`` serves a small page on this machine only.

The page shows every stored answer to one written question side by side, against the question's
rubric; keys move between answers (j/k or the arrows, n: next pending) and toggle rubric items (1-9).
Each change is a POST that stores the grade in the gradebook, committed before the reply, so a crash
loses at most the change in flight. The outputs that show written grades (``grades.csv`` and the
feedback pages) are rewritten in the background after each change.

Built on the standard library's ``http.server``: a few routes for one person need no framework, and
the grader's dependencies stay as they are. It is protected as a local tool should be:

* it listens on 127.0.0.1 only, and refuses requests whose Host is not that address (or ``localhost``)
  with its port, so a web page elsewhere cannot reach it by rebinding a name to 127.0.0.1;
* every request needs the random token of this run (in the page's URL; the page sends it back in a
  header), compared in constant time;
* a POST must carry that header and ``Content-Type: application/json``, which a cross-site form cannot
  send and a cross-site script cannot send without a preflight this server never grants, and an
  ``Origin``, when present, must be this server's;
* the page allows only its own script (a nonce) and connections to itself, and answers are put on the
  page as text, never as HTML.
"""

from __future__ import annotations

import csv
import hmac
import json
import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from autograder.grader.assignment import Assignment
from autograder.grader.batch import write_grades_csv
from autograder.grader.escaping import csv_cell, printable
from autograder.grader.feedback import feedback_path, write_feedback
from autograder.grader.gradebook import Gradebook, now
from autograder.grader.written_answers.questions import WrittenQuestion, grade_from_form, notebook_cells
from autograder.grader.written_answers.review_page import render_page

TOKEN_HEADER = "X-Review-Token"
MAX_BODY_BYTES = 64 * 1024


class ReviewError(Exception):
    """The grading view cannot start; the message says what to do."""


class Review:
    """One question's answers and grades, read from and written to the gradebook in ``out``."""

    def __init__(self, out: Path, assignment: Assignment, question: WrittenQuestion) -> None:
        self.out, self.assignment, self.question = out, assignment, question
        self.gradebook_path = out / "gradebook.sqlite"
        self.lock = threading.Lock()  # one request at a time reads or writes grades
        self.prompt = ""
        if assignment.student_notebook.is_file():
            self.prompt = notebook_cells(assignment.student_notebook, (question,))[question.id].prompt

    @contextmanager
    def gradebook(self) -> Iterator[Gradebook]:
        """The gradebook, opened for one request (an SQLite connection belongs to the thread that opened it;
        opening one costs about a millisecond)."""
        with self.lock:
            gradebook = Gradebook(self.gradebook_path)
            try:
                yield gradebook
            finally:
                gradebook.close()

    def state(self) -> dict[str, Any]:
        with self.gradebook() as gradebook:
            answers = gradebook.answers(self.assignment.slug, self.question.id)
            graded = {key[0]: grade for key, grade in
                      gradebook.written_grades(self.assignment.slug, question=self.question.id).items()}
            known = gradebook.submissions(self.assignment.slug)
        rows = []
        for submission in sorted(set(known) | set(answers)):
            answer = answers.get(submission)
            grade = graded.get(submission)
            rows.append({  # shown as text by the page; terminal control characters removed here
                "submission": printable(submission),
                "id": submission,
                "answer": printable(answer.text) if answer else "",
                "found": bool(answer and answer.found),
                "blank": answer.blank if answer else True,
                "truncated": answer.truncated if answer else 0,
                "grade": None if grade is None else {
                    "items": list(grade.items), "adjustment": grade.adjustment, "comment": grade.comment,
                    "score": grade.score, "graded_at": grade.graded_at,
                    "stale": answer is not None and grade.answer_digest != answer.digest},
            })
        question = self.question
        return {"assignment": self.assignment.title, "question": {
            "id": question.id, "number": question.number, "title": question.title, "points": question.points,
            "prompt": self.prompt,
            "rubric": [{"id": item.id, "points": item.points, "text": item.text} for item in question.rubric]},
            "answers": rows}

    def save(self, data: dict[str, Any]) -> dict[str, Any]:
        submission = data.get("submission")
        if not isinstance(submission, str):
            raise ValueError("submission must be a submission id.")
        with self.gradebook() as gradebook:
            answers = gradebook.answers(self.assignment.slug, self.question.id)
            if submission not in answers and submission not in gradebook.submissions(self.assignment.slug):
                raise ValueError(f"There is no submission {submission!r} in this gradebook.")
            grade = grade_from_form(self.question, data, answers.get(submission), now())
            gradebook.store_written_grade(self.assignment.slug, submission, grade)
        return {"submission": submission, "score": grade.score, "graded_at": grade.graded_at,
                "items": list(grade.items), "adjustment": grade.adjustment, "comment": grade.comment}


class OutputRefresher:
    """Rewrites the outputs that show written grades, in a thread of its own, after each change.

    A submission's feedback pages are rewritten once per burst of changes, then
    grades.csv (its rows stay those of the last batch). The gradebook is the record: if this process
    dies, ``autograder grade`` with the same --out (or the next review) rewrites them."""

    def __init__(self, out: Path, assignment: Assignment, log: Callable[[str], None]) -> None:
        self.out, self.assignment, self.log = out, assignment, log
        self.dirty: set[str] = set()
        self.condition = threading.Condition()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="review-outputs", daemon=True)
        self.thread.start()

    def catch_up(self) -> None:
        """Queue the submissions whose feedback page is older than a written grade (a session that crashed
        before rewriting it)."""
        gradebook = Gradebook(self.out / "gradebook.sqlite")
        try:
            grades = gradebook.written_grades(self.assignment.slug)
        finally:
            gradebook.close()
        for (submission, _), grade in grades.items():
            page = feedback_path(self.out, submission, ".html")
            drawn = datetime.fromtimestamp(page.stat().st_mtime, UTC).isoformat() if page.exists() else ""
            if grade.graded_at > drawn:
                self.changed(submission)

    def changed(self, submission: str) -> None:
        with self.condition:
            self.dirty.add(submission)
            self.condition.notify()

    def stop(self) -> None:
        """Finish what is queued, then stop."""
        with self.condition:
            self.stopping = True
            self.condition.notify()
        self.thread.join(timeout=120)

    def _run(self) -> None:
        gradebook = Gradebook(self.out / "gradebook.sqlite")
        try:
            while True:
                with self.condition:
                    while not self.dirty and not self.stopping:
                        self.condition.wait()
                    if not self.dirty and self.stopping:
                        return
                    batch, self.dirty = sorted(self.dirty), set()
                for submission in batch:
                    try:
                        self._refresh(gradebook, submission)
                    except Exception as error:  # an output left stale must not stop grading
                        self.log(f"Could not rewrite the outputs of {submission!r} ({error}); run `autograder "
                                 "grade` with the same --out to rewrite them.")
                try:
                    self._grades_csv(gradebook)
                except Exception as error:
                    self.log(f"Could not rewrite grades.csv ({error}); run `autograder grade` with the same --out.")
        finally:
            gradebook.close()

    def _refresh(self, gradebook: Gradebook, submission: str) -> None:
        stored = gradebook.get(self.assignment.slug, submission)
        if stored is None:
            return
        result = gradebook.with_written(stored.result, self.assignment.written)
        if (self.out / "feedback").is_dir():
            notebook = gradebook.notebook_of(self.assignment.slug, submission)
            write_feedback(self.out, result, self.assignment,
                           notebook=notebook if notebook is not None and notebook.is_file() else None)

    def _grades_csv(self, gradebook: Gradebook) -> None:
        path = self.out / "grades.csv"
        if not path.is_file():
            return
        with open(path, newline="", encoding="utf-8") as handle:
            listed = {row.get("submission", "") for row in csv.DictReader(handle)}
        results = [gradebook.with_written(result.without_plots_and_output(), self.assignment.written)
                   for result in gradebook.results(self.assignment.slug) if csv_cell(result.submission) in listed]
        write_grades_csv(path, self.assignment, results)


def make_server(review: Review, refresher: OutputRefresher | None, port: int = 0,
                token: str | None = None) -> ThreadingHTTPServer:
    """The grading view's server on 127.0.0.1 (``port`` 0: any free port); its URL is :func:`url`."""
    token = token or secrets.token_urlsafe(32)

    class Handler(BaseHTTPRequestHandler):
        server_version = "autograder-review"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            pass  # requests carry the token; keep them out of terminals and logs

        def _host_ok(self) -> bool:
            port_now = self.server.server_address[1]
            return self.headers.get("Host", "") in (f"127.0.0.1:{port_now}", f"localhost:{port_now}")

        def _token_ok(self, given: str | None) -> bool:
            return given is not None and hmac.compare_digest(given.encode(), token.encode())

        def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("X-Frame-Options", "DENY")
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: Any) -> None:
            self._send(status, json.dumps(data).encode(), "application/json; charset=utf-8",
                       {"Content-Security-Policy": "default-src 'none'"})

        def _refuse(self, status: int, message: str) -> None:
            self._json(status, {"error": message})

        def do_GET(self) -> None:
            if not self._host_ok():
                return self._refuse(HTTPStatus.FORBIDDEN, "Open the grading view at the address it printed.")
            parts = urlsplit(self.path)
            if parts.path == "/":
                if not self._token_ok(parse_qs(parts.query).get("token", [None])[0]):
                    return self._refuse(HTTPStatus.FORBIDDEN, "This address needs the token `autograder review` "
                                                              "printed; open the full address it printed.")
                nonce = secrets.token_urlsafe(16)
                policy = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
                          "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
                return self._send(HTTPStatus.OK, render_page(nonce).encode(), "text/html; charset=utf-8",
                                  {"Content-Security-Policy": policy})
            if parts.path == "/api/state":
                if not self._token_ok(self.headers.get(TOKEN_HEADER)):
                    return self._refuse(HTTPStatus.FORBIDDEN, "Missing or wrong token; reload the page.")
                return self._json(HTTPStatus.OK, review.state())
            return self._refuse(HTTPStatus.NOT_FOUND, "There is no such page.")

        def do_POST(self) -> None:
            if not self._host_ok():
                return self._refuse(HTTPStatus.FORBIDDEN, "Open the grading view at the address it printed.")
            origin = self.headers.get("Origin")
            port_now = self.server.server_address[1]
            if origin is not None and origin not in (f"http://127.0.0.1:{port_now}", f"http://localhost:{port_now}"):
                return self._refuse(HTTPStatus.FORBIDDEN, "Grades can only be sent from the grading view itself.")
            if not self._token_ok(self.headers.get(TOKEN_HEADER)):
                return self._refuse(HTTPStatus.FORBIDDEN, "Missing or wrong token; reload the page.")
            if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
                return self._refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Send the grade as application/json.")
            if urlsplit(self.path).path != "/api/grade":
                return self._refuse(HTTPStatus.NOT_FOUND, "There is no such action.")
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = -1
            if not 0 < length <= MAX_BODY_BYTES:
                return self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "The grade must be a JSON body of at most "
                                                                          f"{MAX_BODY_BYTES // 1024} KiB.")
            try:
                data = json.loads(self.rfile.read(length))
                if not isinstance(data, dict):
                    raise ValueError("The grade must be a JSON object.")
                saved = review.save(data)
            except (ValueError, UnicodeDecodeError) as error:
                return self._refuse(HTTPStatus.BAD_REQUEST, str(error))
            if refresher is not None:
                refresher.changed(saved["submission"])
            return self._json(HTTPStatus.OK, saved)

    # Threads: a browser may hold an idle connection open, which must not stall the next request.
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.review_token = token  # type: ignore[attr-defined]
    return server


def url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/?token={server.review_token}"  # type: ignore[attr-defined]


def choose_question(assignment: Assignment, question_id: str | None) -> WrittenQuestion:
    if not assignment.written:
        raise ReviewError(f"{assignment.slug} has no written questions (no written.toml in {assignment.folder}).")
    ids = ", ".join(question.id for question in assignment.written)
    if question_id is None:
        if len(assignment.written) > 1:
            raise ReviewError(f"{assignment.slug} has several written questions ({ids}); choose one with --question.")
        return assignment.written[0]
    for question in assignment.written:
        if question.id == question_id:
            return question
    raise ReviewError(f"{assignment.slug} has no written question {question_id!r} (it has {ids}).")


def serve(out: Path, assignment: Assignment, question: WrittenQuestion, *, port: int = 0, open_browser: bool = True,
          echo: Callable[[str], None] = print) -> None:
    """Serve the grading view until Ctrl-C (or SIGTERM), then finish rewriting the outputs."""
    import signal
    import webbrowser

    review = Review(out, assignment, question)
    refresher = OutputRefresher(out, assignment, lambda message: print(message, file=sys.stderr))
    refresher.catch_up()
    server = make_server(review, refresher, port)
    address = url(server)
    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # a polite kill stops like Ctrl-C, outputs finished
    echo(f"Grading {assignment.slug} written question {question.number} ({question.id}): {address}")
    echo("Keys: j/k or arrows move, n next pending, 1-9 toggle rubric items, a adjustment, c comment. "
         "Ctrl-C stops.")
    sys.stdout.flush()
    if open_browser:
        webbrowser.open(address)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        refresher.stop()
        echo("Stopped; every grade is in the gradebook, and grades.csv and the feedback pages are up to date.")
