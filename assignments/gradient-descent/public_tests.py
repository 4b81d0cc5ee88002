"""Public checks for gradient-descent: quick sanity checks a student can run before submitting.

They are the same checks as the notebook's ``grader.check(...)`` cells; passing them does not
guarantee full marks.

Every expected value here follows by hand from what the notebook states. Most checks use the
notebook's own example, the loss (w - 3)^2 / 2 (gradient w - 3) from w0 = 0 with lr = 0.5: each
step halves the distance to 3 (w = 1.5, 2.25, 2.625, ...) and divides the loss by 4
(4.5, 1.125, 0.28125, ...), so the improvement of step k is 3.375 / 4^(k - 1).
"""

import numpy as np
import pytest

from autograder import checks


def halving_parabola(problems):
    """(loss_fn, grad_fn) of (w - 3)^2 / 2."""
    return (problems.bind("parabola_loss", curvature=1.0, optimum=3.0),
            problems.bind("parabola_grad", curvature=1.0, optimum=3.0))


def steps(losses):
    """How many steps a losses list records, in words: "1 step", "4 steps"."""
    taken = losses.size - 1
    return "1 step" if taken == 1 else f"{taken} steps"


def pair(result, what):
    """The ``(w, losses)`` a call returned, or a failure saying it is not a pair."""
    if not (isinstance(result, tuple | list) and len(result) == 2):
        raise AssertionError(f"{what} should return a pair (w, losses); got {checks.brief(result)}.")
    return result


# ----------------------------------------------------------------------------------- gradient_step
@pytest.mark.graded("gradient_step", points=1, states=[
    "which returns the weights after one gradient-descent step, $w - \\eta \\cdot \\text{grad}$ with $\\eta$ = `lr`."])
def test_step_small_example(submission):
    """gradient_step([1, 2], [0.5, -1], 0.1) is [0.95, 2.1]"""
    got = submission.gradient_step(np.array([1.0, 2.0]), np.array([0.5, -1.0]), 0.1)
    checks.assert_close(got, [0.95, 2.1], "gradient_step([1, 2], [0.5, -1], 0.1)")


@pytest.mark.graded("gradient_step", points=1, states=[
    "`w` and `grad` are either two floats or two numpy arrays of the same shape (vectors or matrices)."])
def test_step_keeps_the_shape_of_a_matrix(submission):
    """gradient_step on matrices keeps their shape: [[1, 2], [3, 4]] - 0.5 * [[2, 0], [-2, 4]] is [[0, 2], [4, 2]]"""
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    grad = np.array([[2.0, 0.0], [-2.0, 4.0]])
    got = submission.gradient_step(w, grad, 0.5)
    checks.assert_close(got, [[0.0, 2.0], [4.0, 2.0]], "gradient_step([[1, 2], [3, 4]], [[2, 0], [-2, 4]], 0.5)")


@pytest.mark.graded("gradient_step", points=1, states=["For float inputs, return a float."])
def test_step_on_floats_returns_a_float(submission):
    """gradient_step(1.0, 2.0, 0.25) returns the float 0.5"""
    got = checks.assert_float(submission.gradient_step(1.0, 2.0, 0.25), "gradient_step(1.0, 2.0, 0.25)")
    checks.assert_close(got, 0.5, "gradient_step(1.0, 2.0, 0.25)")


@pytest.mark.graded("gradient_step", points=1, states=[
    "Return a new value and leave `w` unchanged: write `w - lr * grad`, never `w -= lr * grad`, which would "
    "overwrite the caller's array."])
def test_step_leaves_w_unchanged(submission):
    """gradient_step returns a new array and leaves the caller's w unchanged"""
    w, grad = np.array([1.0, 2.0]), np.array([1.0, 1.0])
    got = submission.gradient_step(w, grad, 0.5)
    mutated = submission.last_call.mutated
    assert not mutated, (f"gradient_step(w, grad, lr) changed its argument {', '.join(mutated)} in place (for "
                         "example with w -= ...); compute and return a new array instead: w - lr * grad.")
    checks.assert_close(got, [0.5, 1.5], "gradient_step([1, 2], [1, 1], 0.5)")


# -------------------------------------------------------------------------------- gradient_descent
@pytest.mark.graded("gradient_descent", points=1, states=[
    "`losses[0]` is the loss at `w0`",
    "which repeats the update rule from the starting point `w0` and returns `(w, losses)`:"])
def test_descent_on_a_parabola(submission, problems):
    """gradient_descent finds the minimum of (w - 3)^2 / 2 and records losses[0] = loss(w0)"""
    loss, grad = halving_parabola(problems)
    w, losses = pair(submission.gradient_descent(loss, grad, 0.0, 0.5), "gradient_descent(loss_fn, grad_fn, 0.0, 0.5)")
    checks.assert_close(checks.as_float(w, "w"), 3.0, "the minimiser found from w0 = 0", rtol=1e-4)
    losses = checks.assert_losses_list(losses, "losses")
    checks.assert_close(losses[0], 4.5, "losses[0] (the loss at w0 = 0)")


@pytest.mark.graded("gradient_descent", points=1, states=[
    "every step appends the loss at the new point, so after $k$ steps `len(losses)` is $k + 1$.",
    "Each step is `w = gradient_step(w, grad_fn(w), lr)`: one gradient evaluation, at the current `w`.",
    "Stop after `max_iters` steps"])
def test_descent_three_steps_by_hand(submission, problems):
    """max_iters=3, tol=0 on (w - 3)^2 / 2 from 0, lr=0.5: w = 2.625, losses [4.5, 1.125, 0.28125, 0.0703125]"""
    loss, grad = halving_parabola(problems)
    what = "gradient_descent(loss_fn, grad_fn, 0.0, 0.5, max_iters=3, tol=0.0)"
    w, losses = pair(submission.gradient_descent(loss, grad, 0.0, 0.5, max_iters=3, tol=0.0), what)
    losses = checks.assert_losses_list(losses, f"the losses of {what}", length=4)
    checks.assert_close(losses, [4.5, 1.125, 0.28125, 0.0703125],
                        f"the losses of {what} (the loss at w0 = 0, then at 1.5, 2.25 and 2.625)")
    checks.assert_close(checks.as_float(w, f"the w of {what}"), 2.625,
                        f"the w of {what} (each step w - 0.5 * (w - 3) halves the distance to 3)")


@pytest.mark.graded("gradient_descent", points=1, states=["With `max_iters=0`, return `w0` and `[loss_fn(w0)]`."])
def test_descent_zero_iterations(submission, problems):
    """max_iters=0 returns w0 and [loss_fn(w0)], taking no step"""
    loss = problems.bind("quadratic_loss", hessian=np.eye(2), optimum=np.array([1.0, -1.0]))
    grad = problems.bind("quadratic_grad", hessian=np.eye(2), optimum=np.array([1.0, -1.0]))
    w0 = np.array([3.0, 2.0])
    what = "gradient_descent(loss_fn, grad_fn, w0=[3, 2], lr=0.5, max_iters=0)"
    w, losses = pair(submission.gradient_descent(loss, grad, w0, 0.5, max_iters=0), what)
    checks.assert_close(w, w0, f"the w of {what} (w0 itself: no step is taken)", rtol=0, atol=0)
    losses = checks.assert_losses_list(losses, f"the losses of {what}", length=1)
    checks.assert_close(losses, [6.5], f"the losses of {what} ([loss_fn(w0)], with loss_fn(w0) = 6.5)")


@pytest.mark.graded("gradient_descent", points=1, states=["Do not modify `w0`."])
def test_descent_leaves_w0_unchanged(submission, problems):
    """gradient_descent leaves the caller's w0 array unchanged"""
    loss = problems.bind("quadratic_loss", hessian=np.eye(2), optimum=np.array([1.0, -1.0]))
    grad = problems.bind("quadratic_grad", hessian=np.eye(2), optimum=np.array([1.0, -1.0]))
    pair(submission.gradient_descent(loss, grad, np.array([3.0, 2.0]), 0.5, max_iters=2),
         "gradient_descent(loss_fn, grad_fn, w0=[3, 2], lr=0.5, max_iters=2)")
    mutated = submission.last_call.mutated
    assert not mutated, (f"gradient_descent changed its argument {', '.join(mutated)} in place; copy w0 first "
                         "(w = np.array(w0, dtype=float)) or update with w = w - lr * g rather than w -= lr * g.")


@pytest.mark.graded("gradient_descent", points=1, states=[
    "Return a float `w` when `w0` is a float.",
    "`losses` is a list of floats"])
def test_descent_returns_a_float_and_a_list_of_floats(submission, problems):
    """for a float w0, w is a float and losses is a list of floats"""
    loss, grad = halving_parabola(problems)
    what = "gradient_descent(loss_fn, grad_fn, 0.0, 0.5, max_iters=3)"
    w, losses = pair(submission.gradient_descent(loss, grad, 0.0, 0.5, max_iters=3), what)
    checks.assert_float(w, f"{what} (its w, for the float w0 = 0.0)")
    checks.assert_list_of_floats(losses, f"the losses of {what}")


@pytest.mark.graded("gradient_descent", points=1, states=[
    "Stop after `max_iters` steps, or right after the first step whose improvement `abs(losses[-2] - losses[-1])` "
    "is below `tol` (\"no more improvement\")."])
def test_descent_stopping_rule_by_hand(submission, problems):
    """stops right after the first step whose improvement abs(losses[-2] - losses[-1]) is below tol, and only then"""
    loss, grad = halving_parabola(problems)
    # The improvements are 3.375, 0.84375, 0.2109375, 0.052734375, ...: the 4th is the first below 0.1.
    what = "gradient_descent(loss_fn, grad_fn, 0.0, 0.5, max_iters=100, tol=0.1)"
    w, losses = pair(submission.gradient_descent(loss, grad, 0.0, 0.5, max_iters=100, tol=0.1), what)
    losses = checks.assert_losses_list(losses, f"the losses of {what}")
    assert losses.size == 5, (
        f"{what} took {steps(losses)}. On (w - 3)^2 / 2 from w0 = 0 the losses are 4.5, 1.125, 0.28125, "
        "0.0703125, 0.017578125, ..., so the improvements are 3.375, 0.84375, 0.2109375, 0.052734375, ...: step 4 "
        "is the first whose improvement is below tol = 0.1, and the loop should stop right after it (4 steps, "
        "5 losses).")
    checks.assert_close(checks.as_float(w, f"the w of {what}"), 2.8125, f"the w of {what} (after 4 steps)")
    # With lr = 3 every step overshoots and the loss grows 4-fold (4.5, 18, 72, 288): |losses[-2] - losses[-1]|
    # is large, so no step stops the loop before max_iters.
    what = "gradient_descent(loss_fn, grad_fn, 0.0, 3.0, max_iters=3)"
    _, losses = pair(submission.gradient_descent(loss, grad, 0.0, 3.0, max_iters=3), what)
    losses = checks.assert_losses_list(losses, f"the losses of {what}")
    assert losses.size == 4, (
        f"{what} took {steps(losses)}; with lr = 3 the loss grows (4.5, 18, 72, 288), so every "
        "improvement abs(losses[-2] - losses[-1]) is far above tol and it should take all 3 steps. (A step that "
        "increases the loss is not 'no more improvement': compare abs(losses[-2] - losses[-1]) with tol.)")


@pytest.mark.graded("gradient_descent", points=1, states=[
    "Write `gradient_descent(loss_fn, grad_fn, w0, lr, max_iters=1000, tol=1e-10)`"])
def test_descent_default_max_iters(submission, problems):
    """without max_iters and tol, a slow run (lr = 0.001) stops after the default max_iters=1000 steps"""
    # Each step shrinks the loss by a factor 0.998 only, so every improvement stays above 1e-3: only
    # max_iters stops this run.
    loss, grad = halving_parabola(problems)
    what = "gradient_descent(loss_fn, grad_fn, 0.0, 0.001)"
    _, losses = pair(submission.gradient_descent(loss, grad, 0.0, 0.001), what)
    losses = checks.assert_losses_list(losses, f"the losses of {what}")
    assert losses.size == 1001, (
        f"{what} took {steps(losses)}; on (w - 3)^2 / 2 with lr = 0.001 every improvement stays above "
        "1e-3, far above the default tol=1e-10, so it should stop after the default max_iters=1000 steps "
        "(1001 losses).")
