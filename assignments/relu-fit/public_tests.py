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


@pytest.mark.graded("relu", points=1, states=["return a float for a float.", "a float for a float ``z``."])
def test_relu_float_for_a_float(submission):
    """relu(-1.5) is the float 0.0 and relu(2.25) the float 2.25"""
    for z, expected in ((-1.5, 0.0), (2.25, 2.25)):
        got = checks.assert_float(submission.relu(z), f"relu({z})")
        checks.assert_close(got, expected, f"relu({z})", rtol=0.0, atol=0.0)


@pytest.mark.graded("relu", points=1, states=["Return a new value: do not change `z` (no `z[z < 0] = 0`)."])
def test_relu_leaves_z_unchanged(submission):
    """relu(z) returns a new array and leaves z unchanged"""
    z = np.array([-1.0, 2.0, -3.0, 0.5])
    got = submission.relu(z)
    mutated = submission.last_call.mutated
    assert not mutated, (f"relu changed its argument {', '.join(mutated)} in place (for example with z[z < 0] = 0); "
                         "return a new array instead (np.maximum(z, 0), say).")
    checks.assert_close(got, [0.0, 2.0, 0.0, 0.5], "relu([-1, 2, -3, 0.5])", rtol=0.0, atol=0.0)


@pytest.mark.graded("relu_loss_grad", points=1, states=[
    "if every point becomes inactive, the gradient is exactly zero and the unit never moves again"])
def test_grad_of_a_dead_unit(submission):
    """relu_loss_grad is exactly [0, 0] when every point is inactive, whatever the targets"""
    # At [m, b] = [0.5, -2] every m x + b is below 0, so no point passes a gradient back.
    x_dead, y_dead = np.array([-2.0, 0.0, 1.0, 2.0]), np.array([1.0, 0.5, 2.0, 0.25])
    got = submission.relu_loss_grad(np.array([0.5, -2.0]), x_dead, y_dead)
    checks.assert_close(got, [0.0, 0.0], "relu_loss_grad([0.5, -2], x, y)", rtol=0.0, atol=1e-12,
                        inputs="x = [-2, 0, 1, 2], y = [1, 0.5, 2, 0.25]: m x + b = [-3, -2, -1.5, -1], every point "
                               "inactive (whether a point is active depends on m x + b, not on y)")


@pytest.mark.graded("relu_loss_grad", points=1, states=[
    "with $\\operatorname{ReLU}'(z) = 1$ for $z > 0$ and $0$ otherwise (including $z = 0$)."])
def test_grad_at_the_kink(submission):
    """a point exactly at the kink (m x + b = 0) passes no gradient back"""
    # At [m, b] = [2, -1], x = [0.5, 1]: z = [0, 1]. Only the second point is active, with residual 1 - 0 = 1.
    got = submission.relu_loss_grad(np.array([2.0, -1.0]), np.array([0.5, 1.0]), np.array([1.0, 0.0]))
    checks.assert_close(got, [2.0, 2.0], "relu_loss_grad([2, -1], x=[0.5, 1], y=[1, 0])", rtol=1e-12,
                        inputs="m x + b = [0, 1]: the first point sits exactly at the kink, where relu'(0) = 0")


# One point x = 1, y = 0 from [m, b] = [1, 0]: z = m + b = 1 and the gradient is [2 z, 2 z], so a step with
# lr = 0.1 multiplies z by 1 - 4 * 0.1 = 0.6 (the loss z^2 by 0.36), and m, b both go down by 0.2 z.
ONE_X, ONE_Y = np.array([1.0]), np.array([0.0])


@pytest.mark.graded("fit_relu", points=1, states=[
    "takes exactly `n_iters` gradient-descent steps `params = params - lr * relu_loss_grad(params, x, y)`",
    "`params` is the numpy array `[m, b]` after the last step;",
    "`losses` is a list of `n_iters + 1` floats: the loss at `params0`, then the loss after each step;"])
def test_fit_on_one_point(submission):
    """fit_relu on one point (x = 1, y = 0) with lr = 0.1: each step multiplies m x + b by 0.6"""
    what = "fit_relu(x=[1], y=[0], lr=0.1, n_iters=3, params0=[1, 0])"
    result = submission.fit_relu(ONE_X, ONE_Y, 0.1, 3, np.array([1.0, 0.0]))
    assert isinstance(result, tuple | list) and len(result) == 2, (
        f"{what} returned {str(result)[:100]}; expected a pair (params, losses).")
    fitted, losses = result
    assert isinstance(fitted, np.ndarray), (f"{what} returned params as a {type(fitted).__name__}; they should be "
                                            "the numpy array [m, b].")
    losses = checks.assert_list_of_floats(losses, f"the losses returned by {what}")
    checks.assert_close(losses, [1.0, 0.36, 0.1296, 0.046656], f"the losses returned by {what}", rtol=1e-10,
                        inputs="m x + b = 1, 0.6, 0.36, 0.216 at the start and after each step (loss (m x + b)^2)")
    checks.assert_close(fitted, [0.608, -0.392], f"the params returned by {what}", rtol=1e-10,
                        inputs="3 steps, each taking 0.2 (m x + b) off both m and b: 0.2 * (1 + 0.6 + 0.36) = 0.392")


@pytest.mark.graded("fit_relu", points=1, states=[
    "`params = params - lr * relu_loss_grad(params, x, y)` (no early stop)"])
def test_fit_no_early_stop(submission):
    """fit_relu started at the exact fit still takes all n_iters steps and returns n_iters + 1 losses"""
    # The data are exactly relu(x), so at [1, 0] the loss and the gradient are 0: the steps change nothing.
    result = submission.fit_relu(x, y, 0.05, 4, np.array([1.0, 0.0]))
    what = "fit_relu(x, y, 0.05, 4, params0=[1, 0]) where the loss is already 0"
    assert isinstance(result, tuple | list) and len(result) == 2, (
        f"{what} returned {str(result)[:100]}; expected a pair (params, losses).")
    fitted, losses = result
    losses = checks.assert_losses_list(losses, f"the losses returned by {what}", length=5)
    checks.assert_close(losses, np.zeros(5), f"the losses returned by {what}", rtol=0.0, atol=1e-12)
    checks.assert_close(fitted, [1.0, 0.0], f"the params returned by {what}", rtol=0.0, atol=1e-12)
