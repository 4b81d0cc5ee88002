"""Hidden suite of the toy assignment: double(x) = 2x, apply_twice(f, x) = f(f(x))."""

import numpy as np
import pytest

from autograder import checks


@pytest.mark.graded("double", points=2, states=["returning `2 * x` for a float or an array.", "Return twice x."])
def test_double_array(submission):
    """doubles an array"""
    x = np.arange(4.0)
    checks.assert_close(submission.double(x), 2 * x, "double(x)")


@pytest.mark.graded("double", points=1, visibility="after_due_date",
                    states=["returning `2 * x` for a float or an array.", "Return twice x."])
def test_double_float(submission):
    """doubles a float"""
    checks.assert_close(checks.as_float(submission.double(1.5), "double(1.5)"), 3.0, "double(1.5)")


@pytest.mark.graded("apply_twice", points=1, states=["returning `f(f(x))`.", "Apply f twice."])
def test_apply_twice_callback(submission):
    """applies a grader function twice"""
    recorder = checks.Recorder(lambda x: x + 1)
    got = submission.apply_twice(recorder, np.zeros(2))
    checks.assert_close(got, [2.0, 2.0], "apply_twice(f, [0, 0]) with f(x) = x + 1")
    assert len(recorder.points) == 2, f"f was called {len(recorder.points)} times; expected 2"


@pytest.mark.graded("apply_twice", points=1, states=["returning `f(f(x))`.", "Apply f twice."])
def test_apply_twice_worker_function(submission, problems):
    """applies a problem function twice"""
    got = submission.apply_twice(problems.bind("scale", factor=3.0), np.ones(3))
    checks.assert_close(got, np.full(3, 9.0), "apply_twice(scale by 3, ones)")
