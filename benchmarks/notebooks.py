"""Notebooks for the benchmarks: realistic batches copied from the example solutions, and two synthetic ones.

Every copy gets ``metadata.otter.assignment_name`` (students start from the otter-generated notebook,
which carries it, and ``otter run`` refuses a notebook without it) and a copy number in its metadata,
so each file of a batch has its own content hash, as real submissions do.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ROOT / "assignments"
REFERENCE = ROOT / "reference"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def slugs() -> list[str]:
    return sorted(path.parent.name for path in ASSIGNMENTS.glob("*/assignment.toml"))


def solutions(slug: str) -> list[Path]:
    """The example solutions of ``slug``, correct and buggy interleaved (a batch's mix stays realistic)."""
    folder = ASSIGNMENTS / slug / "solutions"
    correct, buggy = sorted((folder / "correct").glob("*.ipynb")), sorted((folder / "buggy").glob("*.ipynb"))
    mixed = [path for pair in itertools.zip_longest(correct, buggy) for path in pair if path is not None]
    if not mixed:
        raise FileNotFoundError(f"{folder} has no example solutions")
    return mixed


def as_submission(notebook: dict[str, Any], slug: str, copy: int) -> dict[str, Any]:
    metadata = notebook.setdefault("metadata", {})
    metadata.setdefault("kernelspec", KERNELSPEC)
    metadata.setdefault("otter", {})["assignment_name"] = slug
    metadata["benchmark"] = {"copy": copy}
    return notebook


def write_notebook(notebook: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path


def build_batch(slug: str, count: int, folder: Path, *, start: int = 0) -> list[Path]:
    """``count`` submissions of ``slug`` in ``folder``, cycling through its example solutions."""
    paths = []
    for copy, source in zip(range(start, start + count), itertools.cycle(solutions(slug)), strict=False):
        notebook = as_submission(json.loads(source.read_text(encoding="utf-8")), slug, copy)
        kind = source.parent.name
        paths.append(write_notebook(notebook, folder / f"{copy:05d}-{kind}-{source.stem}.ipynb"))
    return paths


def code_notebook(cells: list[str], slug: str, copy: int = 0) -> dict[str, Any]:
    """A notebook whose code cells are ``cells``, after one markdown cell (as handed-in notebooks have)."""
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                "cells": [{"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "# Submission"}]}
    for number, source in enumerate(cells):
        notebook["cells"].append({"cell_type": "code", "id": f"code-{number}", "metadata": {}, "execution_count": None,
                                  "outputs": [], "source": source})
    return as_submission(notebook, slug, copy)


#: The toy assignment's functions (tests/assignments/toy), returning at once: the grader's fixed cost.
TRIVIAL_TOY = ["def double(x):\n    return 0.0", "def apply_twice(f, x):\n    return 0.0"]


def build_trivial_batch(count: int, folder: Path) -> list[Path]:
    return [write_notebook(code_notebook(TRIVIAL_TOY, "toy", copy), folder / f"{copy:05d}-trivial.ipynb")
            for copy in range(count)]


_REFERENCE_IMPORT = re.compile(r"^from reference(\.\w+)? import .*$", re.MULTILINE)


def reference_cells(module: str) -> list[str]:
    """The reference module's source as notebook cells, the modules it imports from ``reference`` first.

    The sandbox hides ``reference/`` from workers, so imports between reference modules are replaced by
    the imported module's code in an earlier cell.
    """
    source = (REFERENCE / f"{module}.py").read_text(encoding="utf-8")
    cells: list[str] = []
    for dependency in re.findall(r"^from reference\.(\w+) import", source, re.MULTILINE):
        cells += [cell for cell in reference_cells(dependency) if cell not in cells]
    return [*cells, _REFERENCE_IMPORT.sub("", source)]


def reference_module(slug: str) -> str:
    """The reference module an assignment's hidden suite imports (``from reference import X``)."""
    suite = (ASSIGNMENTS / slug / "hidden_tests.py").read_text(encoding="utf-8")
    found = re.search(r"^from reference import (\w+) as reference$", suite, re.MULTILINE)
    if found is None:
        raise ValueError(f"the hidden suite of {slug} imports no reference module")
    return found.group(1)
