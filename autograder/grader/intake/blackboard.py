"""Blackboard's "Download Assignment": ``Assignment_user_attempt_date_file`` beside a receipt
``Assignment_user_attempt_date.txt``.

The receipt names the student (``Name: First Last (username)``) and the time of the attempt (``Date
Submitted: ...``); the username is what the student is known by, the date in the name (``2024-03-05-
14-30-00``) orders their attempts (a download of "all attempts" holds every one). Blackboard does not
mark lateness in the download.
"""

from __future__ import annotations

import re

from autograder.grader.intake.attempts import Attempt, not_notebook
from autograder.grader.intake.safe_zip import Entry

NAME = re.compile(r"^(?P<prefix>.+)_attempt_(?P<date>\d{4}(?:-\d{2}){5})(?:_(?P<file>.+))?$", re.DOTALL)
RECEIPT_NAME = re.compile(r"^Name:\s*(?P<name>.*?)\s*\((?P<user>[^()\s]+)\)\s*$", re.MULTILINE)
RECEIPT_DATE = re.compile(r"^Date Submitted:\s*(?P<date>.+?)\s*$", re.MULTILINE)
MAX_RECEIPT_BYTES = 256 * 1024  # a receipt is a few hundred bytes; a larger one is not read


def matches(entry: Entry) -> bool:
    base = entry.name.rsplit("/", 1)[-1]
    return NAME.match(base[:-4] if base.lower().endswith(".txt") else base) is not None


def attempts(entries: list[Entry], source: str) -> list[Attempt]:
    receipts: dict[tuple[str, str], tuple[str, str, str]] = {}  # (prefix, date) -> (username, name, date)
    files = []
    for entry in entries:
        base = entry.name.rsplit("/", 1)[-1]
        parts = NAME.match(base[:-4] if base.lower().endswith(".txt") else base)
        if parts is None:
            continue
        if parts["file"] is None:
            receipts[parts["prefix"], parts["date"]] = _read_receipt(entry)
        else:
            files.append((entry, base, parts))
    found = []
    for entry, base, parts in files:
        username, name, submitted = receipts.get((parts["prefix"], parts["date"]), ("", "", ""))
        if not username:  # no receipt: the username is the last part of the prefix (the assignment's may hold "_")
            username = parts["prefix"].rsplit("_", 1)[-1]
        is_notebook = base.lower().endswith(".ipynb")
        found.append(Attempt(
            lms="blackboard", student_key=username, student_name=name or username, file_name=base,
            path=entry.path, order=(parts["date"],), submitted_at=submitted or parts["date"],
            problem=entry.refusal if is_notebook else not_notebook(parts["file"], entry.refusal),
            is_notebook=is_notebook, source=source, platform_ids={"username": username, "file_name": base}))
    return found


def _read_receipt(entry: Entry) -> tuple[str, str, str]:
    if entry.path is None:
        return "", "", ""
    try:
        with open(entry.path, "rb") as handle:
            text = handle.read(MAX_RECEIPT_BYTES).decode("utf-8", "replace")
    except OSError:
        return "", "", ""
    name, date = RECEIPT_NAME.search(text), RECEIPT_DATE.search(text)
    return (name["user"] if name else "", name["name"] if name else "", date["date"] if date else "")
