import pytest

from autograder import checks


@pytest.mark.graded("double", points=1, states=["returning `2 * x` for a float or an array."])
def test_double_small(submission):
    """double(2.0) is 4.0"""
    checks.assert_close(checks.as_float(submission.double(2.0), "double(2.0)"), 4.0, "double(2.0)")
