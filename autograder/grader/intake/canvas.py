"""Canvas's "Download Submissions" zip: ``name[_LATE]_userid_attachmentid_file[-N].ext``.

``name`` is the student's sortable name, lower case, run together (``smithjohn``; some accounts keep
underscores); ``LATE`` marks a submission after the due date; ``userid`` is the student's Canvas user
ID (what the gradebook import matches on); ``attachmentid`` is the id of that file, which grows with
every upload, so it orders a student's attempts; ``-N`` is added by Canvas to a file uploaded again under
the same name. Canvas's bulk "Re-Upload Submissions" reads the first two all-digit parts of a name as
the user and attachment ids, which is how feedback files find their way back
(:mod:`autograder.grader.exports.canvas_feedback`).
"""

from __future__ import annotations

import re

from autograder.grader.intake.attempts import Attempt, not_notebook
from autograder.grader.intake.safe_zip import Entry

NAME = re.compile(r"^(?P<name>.+?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<attachment>\d+)_(?P<file>.+)$")
RESUBMITTED = re.compile(r"^(?P<stem>.+)-(?P<n>\d+)$")


def matches(entry: Entry) -> bool:
    return NAME.match(entry.name.rsplit("/", 1)[-1]) is not None


def attempts(entries: list[Entry], source: str) -> list[Attempt]:
    found = []
    for entry in entries:
        base = entry.name.rsplit("/", 1)[-1]
        parts = NAME.match(base)
        if parts is None:
            continue
        stem = parts["file"].rsplit(".", 1)[0]
        again = RESUBMITTED.match(stem)
        is_notebook = base.lower().endswith(".ipynb")
        found.append(Attempt(
            lms="canvas", student_key=parts["user"], student_name=parts["name"].replace("_", " "), file_name=base,
            path=entry.path, order=(int(parts["attachment"]), int(again["n"]) if again else 0),
            late=parts["late"] is not None, problem=entry.refusal if is_notebook else not_notebook(base, entry.refusal),
            is_notebook=is_notebook, source=source,
            platform_ids={"user_id": parts["user"], "attachment_id": parts["attachment"], "file_name": base}))
    return found

