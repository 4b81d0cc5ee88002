"""Moodle's "Download all submissions": ``Full Name_participantid_assignsubmission_file_`` followed by the
file's name (one file per entry) or by ``/`` and the files (with "Download submissions in folders").

The participant id is Moodle's identifier of the student within the assignment (it stays the same when
the assignment is downloaded again, and stands in for the name when marking is anonymous). Moodle puts
only each student's latest submission in the download and does not mark lateness in it.
"""

from __future__ import annotations

import re

from autograder.grader.intake.attempts import Attempt, not_notebook
from autograder.grader.intake.safe_zip import Entry

NAME = re.compile(r"^(?P<name>.+)_(?P<participant>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<rest>.*)$", re.DOTALL)


def matches(entry: Entry) -> bool:
    return NAME.match(entry.name) is not None


def attempts(entries: list[Entry], source: str) -> list[Attempt]:
    found = []
    for entry in entries:
        parts = NAME.match(entry.name)
        if parts is None or parts["plugin"] != "file":  # online text and comments are not notebooks
            continue
        file_name = parts["rest"].lstrip("/") or entry.name
        is_notebook = file_name.lower().endswith(".ipynb")
        found.append(Attempt(
            lms="moodle", student_key=parts["participant"], student_name=parts["name"], file_name=file_name,
            path=entry.path, order=entry.modified, problem=entry.refusal if is_notebook else not_notebook(
                file_name, entry.refusal), is_notebook=is_notebook, source=source,
            platform_ids={"participant_id": parts["participant"], "file_name": entry.name}))
    return found
