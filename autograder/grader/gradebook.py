"""The gradebook: one SQLite row per submission, committed before the result is reported anywhere.

``grades.csv`` and ``results/`` are derived from it, so an interrupted batch loses nothing that was
reported, and a re-run skips submissions whose content and suite are unchanged.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Container, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from autograder.grader.results import SubmissionResult
from autograder.grader.written_answers.questions import (
    Answer,
    WrittenGrade,
    WrittenQuestion,
    WrittenStatus,
    with_written,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    assignment    TEXT NOT NULL,
    submission    TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    suite_version TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT NOT NULL,
    score         REAL NOT NULL,
    max_score     REAL NOT NULL,
    result_json   TEXT NOT NULL,
    PRIMARY KEY (assignment, submission)
)
"""

# Written answers (read from each submitted notebook when it is graded) and the grades people give them
# (autograder review), each committed on its own; every change of a grade is also kept in the history.
_WRITTEN_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS written_answers (
        assignment TEXT NOT NULL, submission TEXT NOT NULL, question TEXT NOT NULL,
        answer TEXT NOT NULL, found INTEGER NOT NULL, truncated INTEGER NOT NULL, notebook TEXT NOT NULL,
        PRIMARY KEY (assignment, submission, question))""",
    """CREATE TABLE IF NOT EXISTS written_grades (
        assignment TEXT NOT NULL, submission TEXT NOT NULL, question TEXT NOT NULL,
        items TEXT NOT NULL, adjustment REAL NOT NULL, comment TEXT NOT NULL, score REAL NOT NULL,
        graded_at TEXT NOT NULL, answer_digest TEXT NOT NULL, grader TEXT NOT NULL,
        PRIMARY KEY (assignment, submission, question))""",
    """CREATE TABLE IF NOT EXISTS written_grade_history (
        assignment TEXT NOT NULL, submission TEXT NOT NULL, question TEXT NOT NULL,
        items TEXT NOT NULL, adjustment REAL NOT NULL, comment TEXT NOT NULL, score REAL NOT NULL,
        graded_at TEXT NOT NULL, answer_digest TEXT NOT NULL, grader TEXT NOT NULL)""",
)


@dataclass(frozen=True)
class StoredResult:
    content_hash: str
    suite_version: str
    result: SubmissionResult


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Gradebook:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=FULL")  # a reported result survives a power cut
        self.connection.execute(_SCHEMA)
        for statement in _WRITTEN_SCHEMA:
            self.connection.execute(statement)

    def get(self, assignment: str, submission: str) -> StoredResult | None:
        row = self.connection.execute(
            "SELECT content_hash, suite_version, result_json FROM results WHERE assignment=? AND submission=?",
            (assignment, submission)).fetchone()
        if row is None:
            return None
        return StoredResult(row[0], row[1], SubmissionResult.from_gradescope(json.loads(row[2])))

    def assignments(self) -> list[str]:
        return [row[0] for row in self.connection.execute("SELECT DISTINCT assignment FROM results ORDER BY 1")]

    def submissions(self, assignment: str) -> list[str]:
        """The ids of the stored results of ``assignment``, in order."""
        return [row[0] for row in self.connection.execute(
            "SELECT submission FROM results WHERE assignment=? ORDER BY submission", (assignment,))]

    def results(self, assignment: str, only: Container[str] | None = None) -> Iterator[SubmissionResult]:
        """The stored results of ``assignment`` (those whose id is in ``only``, when given), by submission
        id, one at a time: a gradebook of thousands is never all in memory."""
        rows = self.connection.execute(
            "SELECT submission, result_json FROM results WHERE assignment=? ORDER BY submission", (assignment,))
        for submission, result_json in rows:
            if only is None or submission in only:
                yield SubmissionResult.from_gradescope(json.loads(result_json))

    def store(self, result: SubmissionResult, content_hash: str, suite_version: str, started_at: str) -> None:
        with self.connection:  # one transaction per submission
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (result.assignment, result.submission, content_hash, suite_version, started_at, now(),
                 result.score, result.max_score, json.dumps(result.to_gradescope())))

    def store_answers(self, assignment: str, submission: str, answers: dict[str, Answer], notebook: Path) -> None:
        """The written answers of one submission, replacing those of its earlier file."""
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.execute("DELETE FROM written_answers WHERE assignment=? AND submission=?",
                                    (assignment, submission))
            self.connection.executemany(
                "INSERT INTO written_answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(assignment, submission, answer.question, answer.text, int(answer.found), answer.truncated,
                  str(notebook)) for answer in answers.values()])

    def answers(self, assignment: str, question: str) -> dict[str, Answer]:
        """Every stored answer to ``question``, by submission id (in id order)."""
        rows = self.connection.execute(
            "SELECT submission, answer, found, truncated FROM written_answers WHERE assignment=? AND question=? "
            "ORDER BY submission", (assignment, question))
        return {row[0]: Answer(question, row[1], bool(row[2]), row[3]) for row in rows}

    def notebook_of(self, assignment: str, submission: str) -> Path | None:
        """The file the submission's answers were read from (its feedback notebook is drawn from it)."""
        row = self.connection.execute("SELECT notebook FROM written_answers WHERE assignment=? AND submission=? "
                                      "LIMIT 1", (assignment, submission)).fetchone()
        return Path(row[0]) if row else None

    def store_written_grade(self, assignment: str, submission: str, grade: WrittenGrade) -> None:
        """One person's grade of one answer, committed (and durable) before this returns."""
        row = (assignment, submission, grade.question, json.dumps(list(grade.items)), grade.adjustment,
               grade.comment, grade.score, grade.graded_at, grade.answer_digest, grade.grader)
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.execute("INSERT OR REPLACE INTO written_grades VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            self.connection.execute("INSERT INTO written_grade_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)

    def written_grades(self, assignment: str, question: str | None = None,
                       submission: str | None = None) -> dict[tuple[str, str], WrittenGrade]:
        """Stored grades by (submission, question), for one question and/or one submission when given."""
        query = ("SELECT submission, question, items, adjustment, comment, score, graded_at, answer_digest, grader "
                 "FROM written_grades WHERE assignment=?")
        parameters: list[str] = [assignment]
        for column, value in (("question", question), ("submission", submission)):
            if value is not None:
                query += f" AND {column}=?"
                parameters.append(value)
        return {(row[0], row[1]): WrittenGrade(row[1], tuple(json.loads(row[2])), row[3], row[4], row[5], row[6],
                                               row[7], row[8])
                for row in self.connection.execute(query, parameters)}

    def written_statuses(self, assignment: str, submission: str,
                         questions: tuple[WrittenQuestion, ...]) -> list[WrittenStatus]:
        """Each written question of one submission: its answer and grade, pending or not."""
        if not questions:
            return []
        answers = {row[0]: Answer(row[0], row[1], bool(row[2]), row[3]) for row in self.connection.execute(
            "SELECT question, answer, found, truncated FROM written_answers WHERE assignment=? AND submission=?",
            (assignment, submission))}
        grades = self.written_grades(assignment, submission=submission)
        return [WrittenStatus(question, answers.get(question.id), grades.get((submission, question.id)))
                for question in questions]

    def with_written(self, result: SubmissionResult, questions: tuple[WrittenQuestion, ...]) -> SubmissionResult:
        """``result`` with a test per written question: the stored grade, or pending (see written.with_written)."""
        return with_written(result, self.written_statuses(result.assignment, result.submission, questions))

    def close(self) -> None:
        self.connection.close()
