"""Every results.json the grader writes follows Gradescope's results.json format.

The schema below is Gradescope's documented format (autograder specifications, "Output format"),
made strict: fields Gradescope treats as optional but that this grader always writes are required,
and unknown fields are refused, because Gradescope silently ignores a misspelt field.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import jsonschema
import nbformat
import pytest

from autograder.grader.assignment import load_assignment
from autograder.grader.batch import discover, grade_batch
from tests.conftest import COURSE, TEST_COURSE, TOY_CORRECT

SOLUTIONS = Path(__file__).parent.parent / "assignments" / "gradient-descent" / "solutions"

OUTPUT_FORMATS = ["text", "html", "simple_format", "md", "ansi"]
VISIBILITIES = ["hidden", "after_due_date", "after_published", "visible"]

TEST_SCHEMA = {
    "type": "object",
    "required": ["score", "max_score", "status", "name", "number", "output", "output_format", "tags", "visibility"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number", "minimum": 0},
        "status": {"enum": ["passed", "failed"]},
        "name": {"type": "string", "minLength": 1},
        "name_format": {"enum": OUTPUT_FORMATS},
        "number": {"type": "string", "minLength": 1},
        "output": {"type": "string"},
        "output_format": {"enum": OUTPUT_FORMATS},
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": {"enum": VISIBILITIES},
        "extra_data": {"type": "object"},
    },
}

GRADESCOPE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["score", "execution_time", "output", "output_format", "visibility", "stdout_visibility",
                 "extra_data", "tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": {"enum": OUTPUT_FORMATS},
        "test_output_format": {"enum": OUTPUT_FORMATS},
        "test_name_format": {"enum": OUTPUT_FORMATS},
        "visibility": {"enum": VISIBILITIES},
        "stdout_visibility": {"enum": VISIBILITIES},
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": TEST_SCHEMA},
        "leaderboard": {"type": "array"},
    },
}


def assert_gradescope_results(data: dict) -> None:
    """The schema, plus what a schema cannot say: totals add up and each status matches its score."""
    jsonschema.validate(data, GRADESCOPE_SCHEMA, cls=jsonschema.Draft202012Validator)
    tests = data["tests"]
    assert data["score"] == pytest.approx(sum(test["score"] for test in tests))
    assert len({test["number"] for test in tests}) == len(tests), "test numbers must be unique"
    for test in tests:
        assert 0 <= test["score"] <= test["max_score"], test["name"]
        if "public check" in test.get("tags", []):
            # A public check is shown for what `autograder check` says of it and is worth no points.
            assert test["max_score"] == 0 and test["visibility"] == "visible", test["name"]
            assert test["status"] == "passed" or test["output"], test["name"]
        elif test["status"] == "passed":
            assert test["score"] == test["max_score"], test["name"]
        else:
            assert test["score"] < test["max_score"] and test["output"], test["name"]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> list[Path]:
    """results.json files of real gradings: correct, buggy, unreadable, a link leaving the folder, and
    an assignment whose tests have several visibilities."""
    tmp = tmp_path_factory.mktemp("schema")
    submissions = tmp / "submissions"
    submissions.mkdir()
    for name in ("correct/vectorised.ipynb", "buggy/sign-error-in-step.ipynb"):
        (submissions / Path(name).name).write_bytes((SOLUTIONS / name).read_bytes())
    (submissions / "junk.ipynb").write_text("this is not a notebook")
    outside = tmp / "elsewhere.ipynb"
    outside.write_bytes((SOLUTIONS / "correct" / "vectorised.ipynb").read_bytes())
    try:
        os.symlink(outside, submissions / "linked.ipynb")
    except OSError as error:
        print(f"symbolic links are not available here ({error}); the linked submission is left out")
    grade_batch(load_assignment("gradient-descent", COURSE), discover([submissions]), tmp / "out")

    toy = nbformat.v4.new_notebook()
    toy.cells = [nbformat.v4.new_code_cell(source) for source in TOY_CORRECT]
    nbformat.write(toy, tmp / "toy.ipynb")
    grade_batch(load_assignment("toy", TEST_COURSE), discover([tmp / "toy.ipynb"]), tmp / "out-toy")
    return sorted([*(tmp / "out" / "results").glob("*.json"), *(tmp / "out-toy" / "results").glob("*.json")])


def test_every_written_result_follows_the_gradescope_schema(written):
    names = {path.stem for path in written}
    assert {"vectorised", "sign-error-in-step", "junk", "toy"} <= names
    for path in written:
        data = json.loads(path.read_text())
        assert_gradescope_results(data)
        assert data["tests"], f"{path.name} has no tests"
    scores = {path.stem: json.loads(path.read_text()) for path in written}
    assert scores["vectorised"]["score"] == sum(t["max_score"] for t in scores["vectorised"]["tests"]) > 0
    assert 0 < scores["sign-error-in-step"]["score"] < scores["vectorised"]["score"]
    assert scores["junk"]["score"] == 0
    assert {t["visibility"] for t in scores["toy"]["tests"]} > {"visible"}


def test_each_test_is_tagged_with_the_function_it_grades(written):
    for path in written:
        for test in json.loads(path.read_text())["tests"]:
            assert test["tags"] == [test["name"].split(":", 1)[0]]


@pytest.mark.parametrize("breakage", ["no tags", "unknown status", "unknown visibility", "misspelt field",
                                      "score as text", "total off"])
def test_the_check_rejects_what_gradescope_would_not_read(written, breakage):
    data = copy.deepcopy(json.loads(written[0].read_text()))
    test = data["tests"][0]
    if breakage == "no tags":
        del test["tags"]
    elif breakage == "unknown status":
        test["status"] = "ok"
    elif breakage == "unknown visibility":
        test["visibility"] = "students"
    elif breakage == "misspelt field":
        test["max_points"] = test.pop("max_score")
    elif breakage == "score as text":
        data["score"] = str(data["score"])
    else:
        data["score"] += 1
    with pytest.raises((jsonschema.ValidationError, AssertionError)):
        assert_gradescope_results(data)
