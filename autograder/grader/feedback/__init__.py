"""Feedback people want to read: a page per submission for students, a report for instructors.

``write_feedback(out, result, assignment)`` writes ``out/feedback/<id>.html`` (self-contained) and
``out/feedback/<id>.md`` (plots as PNG files in ``<id>.files/``), and given the notebook, an annotated
copy ``out/feedback/<id>.ipynb``. ``write_report`` (in
:mod:`autograder.grader.feedback.report`) writes ``out/report.html``. Plots are drawn in the grading
process from the plain data hidden tests attach to their results (:mod:`autograder.grader.artifacts`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Collection
from pathlib import Path
from urllib.parse import quote

from autograder.grader.assignment import Assignment
from autograder.grader.feedback.view import DEFAULT_VISIBILITIES, build_view
from autograder.grader.output_paths import submission_path
from autograder.grader.results import SubmissionResult

__all__ = ["DEFAULT_VISIBILITIES", "feedback_path", "write_feedback"]


def feedback_path(out: Path, submission: str, suffix: str) -> Path:
    """``out/feedback/<id><suffix>`` (see :mod:`autograder.grader.output_paths`)."""
    return submission_path(out / "feedback", submission, suffix)


def write_feedback(out: Path, result: SubmissionResult, assignment: Assignment, *,
                   visibilities: Collection[str] | None = None, notebook: Path | None = None) -> None:
    """Write the HTML and Markdown feedback of one result under ``out/feedback/``.

    ``visibilities``: the Gradescope visibilities shown in full (default: all but "hidden"); other
    tests show as "hidden test" with their score. ``notebook``: the submitted file, for a copy with
    the feedback on each graded function in a Markdown cell under the cell that defines it.
    """
    from autograder.grader.feedback.html import render_html
    from autograder.grader.feedback.markdown import render_markdown
    from autograder.grader.feedback.notebook import write_feedback_notebook
    from autograder.grader.feedback.pictures import picture_format, render_picture

    view = build_view(result, assignment.title, assignment.functions, visibilities)
    page = feedback_path(out, result.submission, ".html")
    notes = feedback_path(out, result.submission, ".md")
    pictures = feedback_path(out, result.submission, ".files")
    page.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(pictures, ignore_errors=True)  # plots of an earlier grading must not linger

    images: dict[int, bytes | None] = {}
    links: dict[int, str] = {}
    for number, artifact in enumerate((a for check in view.checks for a in check.artifacts), start=1):
        picture = images[id(artifact)] = render_picture(artifact)
        if picture is not None:
            pictures.mkdir(exist_ok=True)
            name = f"plot-{number}{picture_format(picture)[1]}"
            (pictures / name).write_bytes(picture)
            links[id(artifact)] = quote(f"{pictures.name}/{name}")  # ids may hold spaces
    _write_text(page, render_html(view, images))
    _write_text(notes, render_markdown(view, links))
    annotated = feedback_path(out, result.submission, ".ipynb")
    annotated.unlink(missing_ok=True)  # an earlier grading's copy must not outlive a file now unreadable
    if notebook is not None:
        write_feedback_notebook(annotated, notebook, view, images)


def _write_text(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
