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

    def get(self, assignment: str, submission: str) -> StoredResult | None:
        row = self.connection.execute(
            "SELECT content_hash, suite_version, result_json FROM results WHERE assignment=? AND submission=?",
            (assignment, submission)).fetchone()
        if row is None:
            return None
        return StoredResult(row[0], row[1], SubmissionResult.from_gradescope(json.loads(row[2])))

    def assignments(self) -> list[str]:
        return [row[0] for row in self.connection.execute("SELECT DISTINCT assignment FROM results ORDER BY 1")]

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

    def close(self) -> None:
        self.connection.close()
