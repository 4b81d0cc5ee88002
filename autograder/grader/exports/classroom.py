"""The public checks' result in the form GitHub Classroom's grading reporter reads.

``autograder check --classroom-output "$GITHUB_OUTPUT"`` (the student workflow's check step) appends
``result=<base64 of JSON>`` to the step's outputs; the workflow hands it to
``classroom-resources/autograding-grading-reporter`` as ``<RUNNER>_RESULTS``, which shows each check and
sends the points to Classroom. The JSON holds what ``autograder check`` printed: the same checks, the
same verdicts and the same messages; the points are the public checks' own.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from autograder.grader.results import SubmissionResult

FORMAT_VERSION = 1
OUTPUT_NAME = "result"


def classroom_result(result: SubmissionResult) -> dict[str, Any]:
    """``result`` (a run of the public checks) as the reporter's runner result: status pass, fail or
    error (the notebook could not be run at all), the points available, and one entry per check."""
    tests = [{"name": test.name, "status": "pass" if test.passed else "fail", "message": test.output,
              "score": test.score, "max_score": test.max_score} for test in result.tests]
    passed = bool(tests) and all(test.passed for test in result.tests)
    status = "error" if result.problem else "pass" if passed else "fail"
    return {"version": FORMAT_VERSION, "status": status, "max_score": result.max_score, "tests": tests}


def append_step_output(path: Path, payload: dict[str, Any]) -> None:
    """Add ``result=<payload as base64 JSON>`` to a GitHub Actions step-output file (one line: base64
    has no newline, so no multi-line delimiter is needed)."""
    encoded = base64.b64encode(json.dumps(payload).encode("utf-8")).decode("ascii")
    with path.open("a", encoding="utf-8") as outputs:
        outputs.write(f"{OUTPUT_NAME}={encoded}\n")
