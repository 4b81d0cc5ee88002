"""Public checks for gradient-descent: quick sanity checks a student can run before submitting.

They are the same checks as the notebook's ``grader.check(...)`` cells; passing them does not
guarantee full marks.
"""

import numpy as np
import pytest

from autograder import checks


@pytest.mark.graded("gradient_step", points=1, states=[
    "which returns the weights after one gradient-descent step, $w - \\eta \\cdot \\text{grad}$ with $\\eta$ = `lr`."])
def test_step_small_example(submission):
    """gradient_step([1, 2], [0.5, -1], 0.1) is [0.95, 2.1]"""
    got = submission.gradient_step(np.array([1.0, 2.0]), np.array([0.5, -1.0]), 0.1)
    checks.assert_close(got, [0.95, 2.1], "gradient_step([1, 2], [0.5, -1], 0.1)")


@pytest.mark.graded("gradient_descent", points=1, states=[
    "`losses[0]` is the loss at `w0`",
    "which repeats the update rule from the starting point `w0` and returns `(w, losses)`:"])
def test_descent_on_a_parabola(submission, problems):
    """gradient_descent finds the minimum of (w - 3)^2 / 2 and records losses[0] = loss(w0)"""
    loss = problems.bind("parabola_loss", curvature=1.0, optimum=3.0)
    grad = problems.bind("parabola_grad", curvature=1.0, optimum=3.0)
    w, losses = submission.gradient_descent(loss, grad, 0.0, 0.5)
    checks.assert_close(checks.as_float(w, "w"), 3.0, "the minimiser found from w0 = 0", rtol=1e-4)
    losses = checks.assert_losses_list(losses, "losses")
    checks.assert_close(losses[0], 4.5, "losses[0] (the loss at w0 = 0)")
