"""A feedback copy of the student's notebook: a Markdown cell under each cell that defines a graded
function (the last definition, the one that was graded), plus a summary cell at the top, followed by the
feedback on graded items that no cell defines (a missing function, a plot).

Only the student's own notebook is copied (never run): its cells and outputs are kept as they are,
and plots travel inside the feedback cells as attachments, so the copy is one self-contained file.
"""

from __future__ import annotations

import ast
import base64
import warnings
from collections.abc import Collection
from pathlib import Path

import nbformat

from autograder.grader.escaping import markdown_text
from autograder.grader.feedback.markdown import check_lines
from autograder.grader.feedback.pictures import picture_format
from autograder.grader.feedback.view import FeedbackView, FunctionView, function_score_text, score_text
from autograder.grader.notebook import MAX_NOTEBOOK_BYTES
from autograder.worker.cells import to_python


def defined_functions(source: str) -> set[str]:
    """Top-level ``def`` names of one cell (IPython syntax allowed); none if it does not parse.

    Student code is parsed here, in the grader: a cell of 100,000 nested minus signs makes Python's
    parser run out of memory or recursion depth, which must cost that cell its annotation, not the batch.
    """
    try:
        tree = ast.parse(to_python(source))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return set()
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def feedback_notebook(notebook: Path, view: FeedbackView, images: dict[int, bytes | None]
                      ) -> nbformat.NotebookNode | None:
    """The annotated copy, or None when the file cannot be read as a notebook (the pages say why)."""
    try:
        if notebook.stat().st_size > MAX_NOTEBOOK_BYTES:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            document = nbformat.read(notebook, as_version=4)
    except Exception:  # not a notebook at all: there is nothing to annotate
        return None
    last_definition: dict[str, int] = {}
    for position, cell in enumerate(document.cells):
        if cell.get("cell_type") == "code":
            for name in defined_functions(str(cell.get("source", ""))):
                last_definition[name] = position
    below: dict[int, list[FunctionView]] = {}
    for function in view.functions:
        if function.name in last_definition:
            below.setdefault(last_definition[function.name], []).append(function)
    # A graded item no cell defines (a missing function, or a plot graded from the figures the notebook drew)
    # gets its feedback right under the summary, so none is lost; only a missing function is called undefined.
    elsewhere = [f for f in view.functions if f.name not in last_definition and f.checks]
    missing = [f.name for f in elsewhere if any("does not define a function named" in check.message
                                                for check in f.checks)]
    cells = [_summary_cell(view, missing), *(_function_cell(function, images) for function in elsewhere)]
    for position, cell in enumerate(document.cells):
        cells.append(cell)
        for function in below.get(position, []):
            cells.append(_function_cell(function, images))
    document.cells = cells
    return document


def write_feedback_notebook(path: Path, notebook: Path, view: FeedbackView, images: dict[int, bytes | None]) -> bool:
    document = feedback_notebook(notebook, view, images)
    if document is None:
        return False
    nbformat.write(document, path)
    return True


def _summary_cell(view: FeedbackView, undefined: Collection[str]) -> nbformat.NotebookNode:
    lines = [f"## Feedback: {view.title}", "", *(f"> **{markdown_text(line)}**\n" for line in view.mistakes),
             f"**Score: {score_text(view.score, view.max_score)}**", "",
             "| function | score |", "|---|---:|"]
    lines += [f"| {f.name} | {function_score_text(f)} |" for f in view.functions]
    if undefined:
        lines += ["", "Not defined in this notebook: " + ", ".join(undefined) + "."]
    if view.problem:
        lines += ["", f"> **The notebook could not be run.** {view.problem}"]
    lines += ["", "The feedback on each function is in a cell like this one, under the cell that defines it."]
    return nbformat.v4.new_markdown_cell("\n".join(lines), metadata={"autograder": {"feedback": True}})


def _function_cell(function: FunctionView, images: dict[int, bytes | None]) -> nbformat.NotebookNode:
    links: dict[int, str] = {}
    attachments: dict[str, dict[str, str]] = {}
    for check in function.checks:
        for artifact in check.artifacts:
            picture = images.get(id(artifact))
            if picture:
                mime, suffix = picture_format(picture)
                name = f"plot-{len(attachments) + 1}{suffix}"
                attachments[name] = {mime: base64.b64encode(picture).decode("ascii")}
                links[id(artifact)] = f"attachment:{name}"
    lines = [f"### Feedback on `{function.name}`: {score_text(function.score, function.max_score)}", ""]
    for check in function.checks:
        lines += check_lines(check, links)
    cell = nbformat.v4.new_markdown_cell("\n".join(lines).rstrip(), metadata={"autograder": {"feedback": True}})
    if attachments:
        cell["attachments"] = attachments
    return cell
