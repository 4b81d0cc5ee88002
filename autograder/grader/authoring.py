"""Building the student notebooks from their ``otter assign`` sources, and telling when they are stale.

Each assignment keeps its solution notebook in otter-grader's authoring format at
``<assignment>/source/<slug>.ipynb`` and the notebook handed to students, generated from it, at
``<assignment>/student/<slug>.ipynb``. The student notebook is committed, so it must be regenerated
whenever the source changes; :func:`stale_student_notebooks` tells whether that was forgotten.

``otter assign`` runs in a subprocess of this interpreter (``python -m otter assign``) on a copy of
the source in a temporary folder, with ``--no-run-tests`` (running the public tests against the
solutions would start a Jupyter kernel; the source notebooks are graded by our own suite instead) and
``--no-pdfs``. The sources themselves turn off the Gradescope zip (``generate: false``) and the export
cell, so the run needs no network, no LaTeX and no kernel and takes one to three seconds, most of it
importing otter.

Otter gives the cells it adds (the ``otter.Notebook`` initialisation and every ``grader.check`` cell)
random ids, so the student notebook is normalised before it is compared or written: every cell id is
replaced by one derived from the cell's position, outputs are dropped, and the JSON is written with
sorted keys and a fixed indent.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

__all__ = [
    "OTTER_ASSIGN_OPTIONS",
    "AuthoringError",
    "generate_student_notebook",
    "generate_student_notebooks",
    "normalise_notebook",
    "otter_assign_command",
    "slugs_with_sources",
    "source_notebook_path",
    "stale_student_notebooks",
    "student_notebook_path",
    "with_public_checks",
    "write_student_notebooks",
]

#: Options of ``otter assign``: do not execute the solution notebook, never build PDFs.
OTTER_ASSIGN_OPTIONS: tuple[str, ...] = ("--no-run-tests", "--no-pdfs")

#: A generous limit for one ``otter assign`` run (it normally takes one to three seconds).
OTTER_ASSIGN_TIMEOUT_SECONDS = 300

#: How many ``otter assign`` subprocesses run at once when several notebooks are built.
MAX_PARALLEL_BUILDS = 4


class AuthoringError(Exception):
    """A student notebook could not be generated; the message says why."""


def source_notebook_path(assignment_folder: Path, slug: str) -> Path:
    """The otter-assign source (solution) notebook of an assignment: ``source/<slug>.ipynb``."""
    return assignment_folder / "source" / f"{slug}.ipynb"


def student_notebook_path(assignment_folder: Path, slug: str) -> Path:
    """The generated notebook that students get: ``student/<slug>.ipynb``."""
    return assignment_folder / "student" / f"{slug}.ipynb"


def slugs_with_sources(assignments_root: Path) -> list[str]:
    """The assignments under ``assignments_root`` that have a source notebook, sorted."""
    if not assignments_root.is_dir():
        return []
    return sorted(folder.name for folder in assignments_root.iterdir()
                  if folder.is_dir() and source_notebook_path(folder, folder.name).is_file())


def require_otter() -> None:
    """Building student notebooks needs otter-grader, which only instructors install."""
    if importlib.util.find_spec("otter") is None:
        raise AuthoringError("Building student notebooks needs otter-grader, which is not installed here: "
                             "install the instructor's extras with pip install 'gd-autograder[instructor]'.")


def otter_assign_command(master: Path, result: Path) -> list[str]:
    """The command line that runs this interpreter's otter on ``master``, writing into ``result``."""
    return [sys.executable, "-m", "otter", "assign", *OTTER_ASSIGN_OPTIONS, str(master), str(result)]


def normalise_notebook(notebook: dict[str, Any]) -> str:
    """Return ``notebook`` as deterministic JSON text: stable cell ids, no outputs, sorted keys.

    Cell ``i`` gets the id ``cell-<i>`` (three digits), which replaces both the ids copied from the
    source and the random ones otter gives the cells it adds (notebooks older than format 4.5 have no
    ids, and keep none). Code cells lose any outputs and
    execution counts. The text ends with a newline.
    """
    notebook = json.loads(json.dumps(notebook))  # a deep copy made of plain JSON types
    has_ids = _supports_cell_ids(notebook)
    for index, cell in enumerate(notebook.get("cells", [])):
        if has_ids:
            cell["id"] = f"cell-{index:03d}"
        else:
            cell.pop("id", None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _supports_cell_ids(notebook: dict[str, Any]) -> bool:
    """Whether the notebook's format version (4.5 or later) has cell ids."""
    return (notebook.get("nbformat", 0), notebook.get("nbformat_minor", 0)) >= (4, 5)


def generate_student_notebook(source: Path) -> str:
    """Run ``otter assign`` on ``source`` in a temporary folder; return the normalised student notebook.

    The source is copied first, so otter (which works in the master notebook's folder) never writes
    next to the repository's files, and ``TMPDIR`` points into the temporary folder because otter
    leaves a folder of test files behind in the system's temporary directory when it does not build
    a Gradescope zip. Raises :class:`AuthoringError` if otter fails or writes no student notebook.
    """
    source = Path(source)
    if not source.is_file():
        raise AuthoringError(f"There is no source notebook at {source}.")
    with tempfile.TemporaryDirectory(prefix="otter-assign-") as scratch:
        work = Path(scratch)
        master = work / "source" / source.name
        master.parent.mkdir()
        shutil.copyfile(source, master)
        scratch_tmp = work / "tmp"
        scratch_tmp.mkdir()
        result = work / "dist"
        env = {**os.environ, "TMPDIR": str(scratch_tmp), "PYTHONDONTWRITEBYTECODE": "1"}
        require_otter()
        command = otter_assign_command(master, result)
        try:
            completed = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                                       timeout=OTTER_ASSIGN_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            raise AuthoringError(f"otter assign on {source} did not finish within "
                                 f"{OTTER_ASSIGN_TIMEOUT_SECONDS} s.") from None
        student = result / "student" / source.name
        if completed.returncode != 0 or not student.is_file():
            output = (completed.stderr.strip() or completed.stdout.strip())[-4000:]
            raise AuthoringError(f"otter assign failed on {source} (exit status {completed.returncode}):\n"
                                 f"{output}")
        try:
            notebook = json.loads(student.read_text(encoding="utf-8"))
        except ValueError as error:
            raise AuthoringError(f"otter assign wrote an unreadable notebook for {source}: {error}") from None
    return normalise_notebook(with_public_checks(notebook, source.stem, _graded_functions(source)))


CHECKS_INIT = """\
# Public checks: grader.check("name") runs this assignment's public checks on your function as this
# notebook defines it now (the same checks as `autograder check`). They need the autograder installed:
# pip install .autograder/*.whl in this notebook's folder, then restart the kernel.
from autograder.student import Notebook

grader = Notebook("{slug}")"""


def with_public_checks(notebook: dict[str, Any], slug: str, functions: list[str]) -> dict[str, Any]:
    """The student notebook with the public checks' cells: one that sets up ``grader`` at the top, and a
    ``grader.check("function")`` after each answer cell that defines a graded function. (The source
    notebooks hold no otter tests: ``public_tests.py`` is the one source of public checks.)"""
    cells: list[dict[str, Any]] = [_code_cell(CHECKS_INIT.format(slug=slug))]
    for cell in notebook.get("cells", []):
        cells.append(cell)
        if cell.get("cell_type") == "code" and "otter_answer_cell" in cell.get("metadata", {}).get("tags", []):
            defined = _defined_functions("".join(cell.get("source", "")))
            cells += [_code_cell(f'grader.check("{name}")') for name in functions if name in defined]
    return {**notebook, "cells": cells}


def _code_cell(source: str) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


def _defined_functions(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def _graded_functions(source: Path) -> list[str]:
    """The graded functions of the assignment whose source notebook is ``source`` (its assignment.toml)."""
    config = source.parent.parent / "assignment.toml"
    try:
        return list(tomllib.loads(config.read_text(encoding="utf-8")).get("functions", []))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise AuthoringError(f"Cannot read the graded functions from {config}: {error}") from None


def generate_student_notebooks(assignments_root: Path, slugs: list[str] | None = None) -> dict[str, str]:
    """Generate the student notebooks of ``slugs`` (default: every assignment with a source notebook).

    Returns the normalised text by slug. The builds run concurrently, each in its own process.
    """
    assignments_root = Path(assignments_root)
    if slugs is None:
        slugs = slugs_with_sources(assignments_root)
    if not slugs:
        return {}
    sources = [source_notebook_path(assignments_root / slug, slug) for slug in slugs]
    workers = max(1, min(MAX_PARALLEL_BUILDS, len(slugs), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        texts = list(pool.map(generate_student_notebook, sources))
    return dict(zip(slugs, texts, strict=True))


def stale_student_notebooks(assignments_root: Path) -> list[str]:
    """The slugs whose committed student notebook is missing or differs from a fresh generation."""
    assignments_root = Path(assignments_root)
    fresh = generate_student_notebooks(assignments_root)
    stale = []
    for slug, text in fresh.items():
        committed = student_notebook_path(assignments_root / slug, slug)
        if not committed.is_file() or committed.read_text(encoding="utf-8") != text:
            stale.append(slug)
    return stale


def write_student_notebooks(assignments_root: Path) -> list[str]:
    """Regenerate every assignment's student notebook from its source; return the slugs written.

    All notebooks are generated before any is written, so a failing source leaves every file as it was.
    """
    assignments_root = Path(assignments_root)
    fresh = generate_student_notebooks(assignments_root)
    for slug, text in fresh.items():
        path = student_notebook_path(assignments_root / slug, slug)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    return list(fresh)
