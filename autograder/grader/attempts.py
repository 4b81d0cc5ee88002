"""Whether a submission attempted anything: the untouched student template is not a wrong answer.

A notebook is *unattempted* when no code cell that names a graded function differs from the cells of
the student notebook handed out (whitespace aside): every function is still the template's stub, or
was deleted. The instructor's report counts these apart from real failures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from autograder.grader.notebook import NotebookError, read_code_cells


def _normal(source: str) -> str:
    return " ".join(source.split())


def template_cells(template: Path) -> frozenset[str]:
    try:
        return frozenset(_normal(source) for _, source in read_code_cells(template))
    except NotebookError:
        return frozenset()


def is_unattempted(cells: Iterable[tuple[int, str]], template: frozenset[str], functions: Iterable[str]) -> bool:
    if not template:
        return False  # without the template there is nothing to compare with
    names = re.compile(r"\b(" + "|".join(map(re.escape, functions)) + r")\b")
    return not any(names.search(source) and _normal(source) not in template for _, source in cells)
