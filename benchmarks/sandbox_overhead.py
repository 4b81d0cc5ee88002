"""Per-submission cost of the sandbox: the full profile, the reduced one, and no sandbox, in one run.

    python benchmarks/sandbox_overhead.py [--rounds 20]

For each profile, a fresh process grades the same notebooks one at a time (no parallelism) and
reports the mean wall time of (a) starting a worker and loading an empty notebook, (b) grading a
notebook whose functions return at once (toy assignment) and (c) grading a realistic correct
gradient-descent notebook. Ratios are against the unsandboxed worker, measured side by side.
Only the project's own benign notebooks run without a sandbox here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILES = {"none": "bubblewrap,uid,landlock,seccomp", "reduced": "bubblewrap,uid", "full": ""}
TRIVIAL = ["import numpy as np", "def double(x):\n    return 2 * np.asarray(x, dtype=float)",
           "def apply_twice(f, x):\n    return f(f(x))"]


def measure(rounds: int) -> dict[str, float]:
    """Runs inside one profile's process."""
    import nbformat

    from autograder.grader import protections
    from autograder.grader.assignment import load_assignment
    from autograder.grader.grading import grade_notebook
    from autograder.grader.sandbox import Budgets, WorkerProcess
    from autograder.worker import wire

    folder = Path(tempfile.mkdtemp())
    trivial = folder / "trivial.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in TRIVIAL]
    nbformat.write(notebook, trivial)
    toy = load_assignment("toy", ROOT / "tests" / "course")
    gradient_descent = load_assignment("gradient-descent", ROOT)
    realistic = ROOT / "assignments/gradient-descent/solutions/correct/helper-defined-later.ipynb"

    def start_and_load() -> None:
        worker = WorkerProcess(Budgets())
        channel = wire.Channel(worker.from_worker, worker.to_worker)
        deadline = time.monotonic() + 30
        channel.send(wire.encode("load", {"cells": [], "problems": None}), deadline)
        while channel.receive(deadline)[0] != "loaded":
            pass
        worker.close()

    tasks = {"start worker + empty notebook": start_and_load,
             "grade trivial notebook (toy)": lambda: grade_notebook(trivial, "t", toy),
             "grade gradient-descent notebook": lambda: grade_notebook(realistic, "g", gradient_descent)}
    timings = {"profile": protections.detect().profile}
    for name, task in tasks.items():
        task()  # warm caches
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            task()
            samples.append(time.perf_counter() - started)
        timings[name] = statistics.median(samples)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--inside", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.inside:
        print(json.dumps(measure(arguments.rounds)))
        return
    results = {}
    for profile, disabled in PROFILES.items():
        environment = {**os.environ, "AUTOGRADER_DISABLE_PROTECTIONS": disabled}
        output = subprocess.run([sys.executable, __file__, "--inside", profile, "--rounds", str(arguments.rounds)],
                                env=environment, cwd=ROOT, capture_output=True, text=True, check=True).stdout
        results[profile] = json.loads(output.strip().splitlines()[-1])
    names = [name for name in results["none"] if name != "profile"]
    print(f"Median wall time per submission over {arguments.rounds} rounds (ms); ratio against no sandbox")
    print(f"| {'measurement':34} | {'no sandbox':>10} | {'reduced':>16} | {'full':>16} |")
    print(f"| {'-' * 34} | {'-' * 10}: | {'-' * 16}: | {'-' * 16}: |")
    for name in names:
        base = results["none"][name]
        cells = [f"{results[p][name] * 1000:7.1f} ({results[p][name] / base:4.2f}x)" for p in ("reduced", "full")]
        print(f"| {name:34} | {base * 1000:10.1f} | {cells[0]:>16} | {cells[1]:>16} |")
    detected = ", ".join(f"{profile}={result['profile']}" for profile, result in results.items())
    print(f"profiles detected: {detected}")


if __name__ == "__main__":
    main()
