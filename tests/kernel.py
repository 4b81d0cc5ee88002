"""Running student notebooks in a real Jupyter kernel (nbclient and ipykernel), as a student does.

A student notebook is "filled in" with a solution the way a student would: the solution's code cells
take the place of the notebook's answer cells, and everything else (the set-up cell, the other cells,
the ``grader.check`` cells) stays as handed out. Many filled notebooks run one after another in one
kernel, each after ``%reset -f``, so a whole assignment costs one kernel start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

RESULTS_MARK = "@@check-results "
ANSWER_TAG = "otter_answer_cell"


def _is_answer(cell: Any) -> bool:
    return cell.cell_type == "code" and ANSWER_TAG in cell.get("metadata", {}).get("tags", [])


def filled_in(student: Path, solution: Path) -> nbformat.NotebookNode:
    """``student`` with its answer cells replaced by ``solution``'s code cells (cells that set up or use
    a grader of their own are left out: the student notebook has its own)."""
    notebook = nbformat.read(student, as_version=4)
    answers = [cell for cell in nbformat.read(solution, as_version=4).cells if cell.cell_type == "code"
               and "grader" not in cell.source and "otter" not in cell.source]
    cells, placed = [], False
    for cell in notebook.cells:
        if not _is_answer(cell):
            cells.append(cell)
        elif not placed:
            cells += [nbformat.v4.new_code_cell(answer.source) for answer in answers]
            placed = True
    notebook.cells = cells
    return notebook


@dataclass
class KernelRun:
    """What one filled notebook showed: the text its check cells printed, and what ``grader.results``
    held at the end (function -> [(check name, passed, message)])."""

    printed: str
    results: dict[str, list[tuple[str, bool, str]]] | None


def _stream_text(cell: Any) -> str:
    return "".join(output.get("text", "") for output in cell.get("outputs", []) if output.output_type == "stream")


def run_in_kernel(notebooks: dict[str, nbformat.NotebookNode], folder: Path,
                  cell_timeout: int = 120) -> dict[str, KernelRun]:
    """Execute each notebook (by label) in one kernel started in ``folder``; errors in cells go on, as
    "Run All" would if the student ran cells one by one."""
    combined = nbformat.v4.new_notebook()
    spans: dict[str, tuple[int, int]] = {}
    for label, notebook in notebooks.items():
        combined.cells.append(nbformat.v4.new_code_cell("%reset -f"))
        start = len(combined.cells)
        combined.cells += notebook.cells
        combined.cells.append(nbformat.v4.new_code_cell(
            "import json as _json\n"
            f"print({RESULTS_MARK!r} + _json.dumps({{function: [[test.name, test.passed, test.output] "
            "for test in found.tests] for function, found in grader.results.items()}))"))
        spans[label] = (start, len(combined.cells))
    client = NotebookClient(combined, kernel_name="python3", timeout=cell_timeout, allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    runs = {}
    for label, (start, end) in spans.items():
        cells = combined.cells[start:end]
        printed = "".join(_stream_text(cell) for cell in cells[:-1] if "grader.check(" in cell.source)
        marked = [line for line in _stream_text(cells[-1]).splitlines() if line.startswith(RESULTS_MARK)]
        results = None
        if marked:
            loaded = json.loads(marked[0].removeprefix(RESULTS_MARK))
            results = {function: [tuple(test) for test in tests] for function, tests in loaded.items()}
        runs[label] = KernelRun(printed, results)
    return runs
