"""Public checks for relu-fit: quick sanity checks a student can run before submitting.

They are the same checks as the notebook's ``grader.check(...)`` cells; passing them does not
guarantee full marks.
"""

import numpy as np
import pytest

from autograder import checks

# A tiny data set y = relu(x). At params = [1, 0.5] the pre-activations are [-1.5, -0.5, 1, 1.5, 2.5]:
# two points inactive, three active with residual 0.5 each (loss 0.75, gradient [3.5, 3]).
x = np.array([-2.0, -1.0, 0.5, 1.0, 2.0])
y = np.array([0.0, 0.0, 0.5, 1.0, 2.0])
params = np.array([1.0, 0.5])


@pytest.mark.graded("relu", points=1, states=[
    "returning $\\max(z, 0)$ elementwise for a float or a 1-D numpy array `z`"])
def test_relu_small_values(submission):
    """relu([-2, -0.5, 0, 1.5]) is [0, 0, 0, 1.5]"""
    got = submission.relu(np.array([-2.0, -0.5, 0.0, 1.5]))
    checks.assert_close(got, [0.0, 0.0, 0.0, 1.5], "relu([-2, -0.5, 0, 1.5])", rtol=1e-12)


@pytest.mark.graded("relu_loss", points=1, states=["Write `relu_loss(params, x, y)`, returning the float"])
def test_loss_small_example(submission):
    """relu_loss([1, 0.5], x, y) is 0.75 (three active points with residual 0.5), and 0 at [1, 0]"""
    got = checks.as_float(submission.relu_loss(params, x, y), "relu_loss([1, 0.5], x, y)")
    checks.assert_close(got, 0.75, "relu_loss([1, 0.5], x, y) for 5 points (a sum, not a mean)", rtol=1e-10)
    got = checks.as_float(submission.relu_loss(np.array([1.0, 0.0]), x, y), "relu_loss([1, 0], x, y)")
    checks.assert_close(got, 0.0, "relu_loss([1, 0], x, y) (the data are exactly relu(x))", atol=1e-12)


@pytest.mark.graded("relu_loss_grad", points=1, states=[
    "Write `relu_loss_grad(params, x, y)`, returning the numpy array"])
def test_grad_small_example(submission):
    """relu_loss_grad([1, 0.5], x, y) is [3.5, 3.0] (the inactive points pass no gradient back)"""
    got = submission.relu_loss_grad(params, x, y)
    checks.assert_close(got, [3.5, 3.0], "relu_loss_grad([1, 0.5], x, y)", rtol=1e-10)


@pytest.mark.graded("fit_relu", points=1, states=[
    "`losses` is a list of `n_iters + 1` floats: the loss at `params0`, then the loss after each step;"])
def test_fit_small_run(submission):
    """fit_relu(x, y, 0.05, 5, [1, 0.5]) returns 6 losses that start at 0.75 and go down"""
    params0 = params.copy()
    result = submission.fit_relu(x, y, 0.05, 5, params0)
    mutated = submission.last_call.mutated
    assert isinstance(result, tuple | list) and len(result) == 2, (
        f"fit_relu(x, y, 0.05, 5, params0) returned {str(result)[:100]}; expected a pair (params, losses).")
    fitted, losses = result
    checks.as_array(fitted, "the params returned by fit_relu", shape=(2,))
    losses = checks.assert_losses_list(losses, "the losses returned by fit_relu(x, y, 0.05, 5, params0)", length=6)
    checks.assert_close(losses[0], 0.75, "losses[0] (the loss at params0 = [1, 0.5])", rtol=1e-10)
    checks.assert_nonincreasing(losses, "fit_relu(x, y, 0.05, 5, params0)", rtol=1e-10)
    assert not mutated, f"fit_relu changed {', '.join(mutated)} in place: params0 should keep its original values."
