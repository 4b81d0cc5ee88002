"""otter-grader as the baseline: its autograder zip built by ``otter assign``, and ``otter run`` per notebook.

The assignments' otter sources turn the zip off (``generate: false``: the project grades with its own
suite), so the source is copied with ``generate: true`` and run through the same ``otter assign``
command line that ``autograder build-notebooks`` uses. ``otter run`` then grades one notebook in a
real Jupyter kernel, without Docker, with the tests that the otter source holds for each question
(fewer and lighter than the hidden suite, which favours otter in the comparison).
"""

from __future__ import annotations

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


def _with_zip_enabled(notebook: dict) -> dict:
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "raw" and source.lstrip().startswith("# ASSIGNMENT CONFIG"):
            lines = [line for line in source.splitlines() if not line.startswith("generate:")]
            cell["source"] = "\n".join([*lines, "generate: true"])
            return notebook
    raise ValueError("the source notebook has no ASSIGNMENT CONFIG cell")


def build_autograder_zip(slug: str, folder: Path) -> Path:
    """Run ``otter assign`` on ``slug``'s source with the Gradescope zip turned on; return the zip."""
    source = source_notebook_path(ASSIGNMENTS / slug, slug)
    master = folder / "source" / source.name
    master.parent.mkdir(parents=True, exist_ok=True)
    master.write_text(json.dumps(_with_zip_enabled(json.loads(source.read_text(encoding="utf-8")))), encoding="utf-8")
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
