"""Feedback back to Canvas: a zip for the assignment's "Re-Upload Submissions" (Assignments > the
assignment > Re-Upload Submissions, or the gradebook column's menu), which attaches each file to the
student's submission as a comment, seen in SpeedGrader and by the student.

Canvas reads each file's name the way it wrote it in "Download Submissions": the first two parts of
the name (split on ``_``) made only of digits are the student's user ID and the id of the submitted
file, which must be a file of that student's submission. So each feedback file is named exactly like
the notebook that was graded (``smithjohn_LATE_12345_67890_hw1.ipynb``); Canvas shows it under that
file's name. The file is the annotated copy of the student's notebook (``feedback/<id>.ipynb``: their
cells, with the feedback on each graded function under the cell that defines it, and a summary first).
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grader.feedback import feedback_path


@dataclass
class FeedbackZip:
    written: list[str] = field(default_factory=list)  # the names in the zip
    without_notebook: list[str] = field(default_factory=list)  # submission ids: nothing annotated to send


def canvas_file_name(record: dict) -> str | None:
    """The name Canvas gave the graded file, if it still carries the user and attachment ids Canvas
    matches on (always, for a file from Canvas's download)."""
    name = record.get("platform_ids", {}).get("file_name", "")
    digits = [part for part in name.split("_") if part.isdigit()][:2]
    expected = [record.get("platform_ids", {}).get(key) for key in ("user_id", "attachment_id")]
    return name if digits == expected and "/" not in name else None


def write_feedback_zip(out: Path, records: dict[str, dict], output: Path) -> FeedbackZip:
    """One annotated notebook per student graded from a Canvas download, named for Canvas to match."""
    result = FeedbackZip()
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(output.name + ".tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for submission in sorted(records):
            record = records[submission]
            if record.get("platform") != "canvas":
                continue
            name = canvas_file_name(record)
            annotated = feedback_path(out, submission, ".ipynb")
            if name is None or not annotated.is_file():
                result.without_notebook.append(submission)
                continue
            archive.write(annotated, name)
            result.written.append(name)
    os.replace(temporary, output)
    return result
