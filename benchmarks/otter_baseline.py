"""otter-grader as the baseline: its autograder zip built by ``otter assign``, and ``otter run`` per notebook.

The assignments' otter sources turn the zip off (``generate: false``: the project grades with its own
suite) and hold no test cases (the public checks live in ``public_tests.py``, in the project's own
format). So the source is copied with ``generate: true`` and, in each question, one otter test case per
function the solution defines, asserting that the notebook defines it and that it is callable; that copy
goes through the same ``otter assign`` command line that ``autograder build-notebooks`` uses. ``otter
run`` then grades one notebook in a real Jupyter kernel, without Docker. Its tests do far less than the
hidden suite (no call at all), which favours otter in the comparison: its time is the kernel's start, the
notebook's run and otter's own bookkeeping.
"""

from __future__ import annotations

import ast
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.grader.authoring import otter_assign_command, source_notebook_path
from benchmarks.notebooks import ASSIGNMENTS
from benchmarks.processes import run_measured


def _text(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _with_zip_enabled(notebook: dict) -> dict:
    for cell in notebook["cells"]:
        source = _text(cell)
        if cell["cell_type"] == "raw" and source.lstrip().startswith("# ASSIGNMENT CONFIG"):
            lines = [line for line in source.splitlines() if not line.startswith("generate:")]
            cell["source"] = "\n".join([*lines, "generate: true"])
            return notebook
    raise ValueError("the source notebook has no ASSIGNMENT CONFIG cell")


def _with_presence_tests(notebook: dict) -> dict:
    """Before each ``# END QUESTION``, otter test cases asserting that the functions the question's solution
    cells define exist and are callable."""
    cells, defined = [], []
    for cell in notebook["cells"]:
        source = _text(cell)
        if cell["cell_type"] == "code":
            with contextlib.suppress(SyntaxError):
                defined += [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
        if cell["cell_type"] == "raw" and source.strip() == "# END QUESTION" and defined:
            cells.append({"cell_type": "raw", "metadata": {}, "source": "# BEGIN TESTS"})
            cells += [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                       "source": f"assert callable({name})"} for name in defined]
            cells.append({"cell_type": "raw", "metadata": {}, "source": "# END TESTS"})
            defined = []
        if cell["cell_type"] == "raw" and source.lstrip().startswith("# BEGIN QUESTION"):
            defined = []
        cells.append(cell)
    notebook["cells"] = cells
    return notebook


def build_autograder_zip(slug: str, folder: Path) -> Path:
    """Run ``otter assign`` on ``slug``'s source with the Gradescope zip turned on; return the zip."""
    source = source_notebook_path(ASSIGNMENTS / slug, slug)
    master = folder / "source" / source.name
    master.parent.mkdir(parents=True, exist_ok=True)
    otter_source = _with_presence_tests(_with_zip_enabled(json.loads(source.read_text(encoding="utf-8"))))
    master.write_text(json.dumps(otter_source), encoding="utf-8")
    scratch = folder / "tmp"  # otter leaves test files in TMPDIR; keep them out of /tmp
    scratch.mkdir(exist_ok=True)
    dist = folder / "dist"
    completed = subprocess.run(otter_assign_command(master, dist), cwd=folder, capture_output=True, text=True,
                               env={**os.environ, "TMPDIR": str(scratch)}, check=False)
    zips = sorted((dist / "autograder").glob("*.zip"))
    if completed.returncode != 0 or not zips:
        raise RuntimeError(f"otter assign failed for {slug}:\n{(completed.stderr or completed.stdout)[-3000:]}")
    return zips[-1]


def otter_run(autograder_zip: Path, notebook: Path, output: Path) -> tuple[float, float | None, float]:
    """Wall seconds of ``otter run`` on one notebook, the score it wrote (None if it wrote none), and the
    CPU seconds of its process tree."""
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    command = [sys.executable, "-m", "otter", "run", "-a", str(autograder_zip), "-o", str(output), "--no-logo",
               str(notebook)]
    seconds, cpu = run_measured(command, cwd=output, check=False)
    results = output / "results.json"
    if not results.is_file():
        return seconds, None, cpu
    tests = json.loads(results.read_text(encoding="utf-8")).get("tests", [])
    scores = [test.get("score") for test in tests]  # otter's summary row scores NaN
    return seconds, sum(score for score in scores if isinstance(score, int | float) and math.isfinite(score)), cpu
