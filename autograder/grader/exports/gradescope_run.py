"""Grading one Gradescope submission: ``python -m autograder.grader.exports.gradescope_run --assignment SLUG``.

``run_autograder`` (from ``autograder export gradescope``) calls this. It grades the one notebook in
``<root>/submission`` with the course content copied to ``<root>/source/course`` and writes exactly
one ``<root>/results/results.json``, whatever happens: a submission with no notebook or several, or a
broken suite, gets a result with score 0 and a message saying what to do, because Gradescope shows
students nothing useful when the file is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from autograder.grader import protections, sandbox
from autograder.grader.assignment import AssignmentError, load_assignment
from autograder.grader.exports.gradescope import ROOT_ENV
from autograder.grader.sandbox import WorkerSetupFailed


def gradescope_root() -> Path:
    return Path(os.environ.get(ROOT_ENV) or "/autograder")


def submitted_notebooks(submission: Path) -> list[Path]:
    """Notebooks anywhere in the submission (uploads from GitHub keep their folders)."""
    return sorted(path for path in submission.rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in path.relative_to(submission).parts)


def notebook_problem(notebooks: list[Path], submission: Path) -> str | None:
    """Why these files cannot be graded, in words for the student; None when there is one notebook."""
    if not notebooks:
        return "No notebook (.ipynb file) was found in your submission. Upload your notebook and submit again."
    if len(notebooks) > 1:
        names = ", ".join(path.relative_to(submission).as_posix() for path in notebooks)
        return (f"Your submission has {len(notebooks)} notebooks ({names}); the autograder grades exactly one. "
                "Submit only the notebook you want graded.")
    return None


def fault_result(message: str) -> dict:
    """A result for a grader fault: the student is told it is not their doing."""
    return {"score": 0, "execution_time": 0, "output_format": "text", "visibility": "visible",
            "stdout_visibility": "hidden", "extra_data": {"fault": message}, "tests": [],
            "output": ("The autograder could not grade this submission because of a problem in its own setup, "
                       "not in your work. Please tell your instructor; they will regrade it once it is fixed.\n\n"
                       + message)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.grader.exports.gradescope_run",
                                     description="Grade the notebook in <root>/submission for Gradescope.")
    parser.add_argument("--assignment", required=True, help="Assignment slug, as exported.")
    slug = parser.parse_args(argv).assignment
    root = gradescope_root()
    submission = root / "submission"
    results_path = root / "results" / "results.json"
    status = 0
    # Gradescope shows what this prints to instructors only (results.json says stdout_visibility hidden).
    print(protections.detect().summary())
    grader_faults: tuple[type[Exception], ...] = (AssignmentError, WorkerSetupFailed)
    try:
        assignment = load_assignment(slug, root / "source" / "course")
        # The sandbox starts in the background while this process imports what grading needs (pytest).
        sandbox.start_early()
        from autograder.grader.grading import grade_notebook
        from autograder.grader.suite import SuiteError

        grader_faults += (SuiteError,)
        notebooks = submitted_notebooks(submission) if submission.is_dir() else []
        problem = notebook_problem(notebooks, submission)
        notebook = notebooks[0] if problem is None else submission
        graded = grade_notebook(notebook, notebook.stem, assignment, public_checks=True, problem=problem)
        print(graded.summary())  # the whole grade, for instructors: students see student_summary()
        result = graded.to_gradescope()
    except grader_faults as error:
        print(f"Grader fault: {error}", file=sys.stderr)
        result, status = fault_result(str(error)), 1
    results_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = results_path.with_name("results.json.tmp")
    temporary.write_text(json.dumps(result, indent=2), encoding="utf-8")
    os.replace(temporary, results_path)
    print(f"Score {result['score']:g}; wrote {results_path}.")
    return status


if __name__ == "__main__":
    sys.exit(main())
