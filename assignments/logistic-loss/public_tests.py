"""Public checks for logistic-loss: quick sanity checks a student can run before submitting.

They are the same checks as the notebook's ``grader.check(...)`` cells; passing them does not
guarantee full marks.
"""

import numpy as np
import pytest

from autograder import checks

# A tiny data set: an intercept column of ones and one feature, labels that are not separable.
X = np.array([[1.0, -2.0], [1.0, -1.0], [1.0, 0.5], [1.0, 1.0], [1.0, 2.0]])
y = np.array([0.0, 1.0, 0.0, 1.0, 1.0])


@pytest.mark.graded("sigmoid", points=1, states=["returning $1 / (1 + e^{-z})$ elementwise for a float or an array."])
def test_sigmoid_small_values(submission):
    """sigmoid([0, 2, -2]) is [0.5, 0.8808, 0.1192]"""
    z = np.array([0.0, 2.0, -2.0])
    checks.assert_close(submission.sigmoid(z), 1.0 / (1.0 + np.exp(-z)), "sigmoid([0, 2, -2])", rtol=1e-6)


@pytest.mark.graded("sigmoid", points=1, states=[
    "It must not overflow (or warn) for any finite `z`, e.g. `z = -1000`."])
def test_sigmoid_large_values(submission):
    """sigmoid([-1000, 1000]) is [0, 1], without nan and without a numpy warning"""
    checks.assert_close(submission.sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0], "sigmoid([-1000, 1000])",
                        rtol=1e-6, atol=1e-12)
    warned = submission.last_call.warnings
    assert not warned, (f"sigmoid([-1000, 1000]) gave the warning {warned[0]!r}; it must not overflow or warn for any "
                        "finite z. np.where computes both of its branches for every element: exponentiate -|z| only.")


@pytest.mark.graded("logistic_loss", points=1, states=["with $p = \\sigma(XW)$."])
def test_loss_at_zero(submission):
    """logistic_loss(zeros, X, y) is n log 2 (every p is 0.5)"""
    got = checks.as_float(submission.logistic_loss(np.zeros(2), X, y), "logistic_loss(zeros(2), X, y)")
    checks.assert_close(got, 5 * np.log(2.0), "logistic_loss(zeros(2), X, y) for 5 points", rtol=1e-8)


@pytest.mark.graded("logistic_loss", points=1, states=["the loss must stay finite and accurate where $|XW| = 1000$."])
def test_loss_large_margin(submission):
    """logistic_loss is 1000 for one point with z = 1000 and label 0"""
    got = checks.as_float(submission.logistic_loss(np.array([1000.0]), np.array([[1.0]]), np.array([0.0])),
                          "logistic_loss([1000], [[1]], [0])")
    checks.assert_close(got, 1000.0, "logistic_loss([1000], [[1]], [0]) (-log(1 - sigmoid(1000)))", rtol=1e-6)


@pytest.mark.graded("logistic_loss_grad", points=1, states=[
    "returning the gradient $X^T(\\sigma(XW) - y)$ derived above"])
def test_grad_at_zero(submission):
    """logistic_loss_grad(zeros, X, y) is X.T @ (0.5 - y)"""
    got = submission.logistic_loss_grad(np.zeros(2), X, y)
    checks.assert_close(got, X.T @ (0.5 - y), "logistic_loss_grad(zeros(2), X, y)", rtol=1e-8)


@pytest.mark.graded("numerical_gradient", points=1, states=[
    "which estimates the gradient of the function `f` at `W` by central differences"])
def test_numgrad_of_a_quadratic(submission):
    """numerical_gradient of sum(W**2) is 2 W, for a matrix W"""
    W = np.array([[1.0, -2.0], [0.5, 3.0]])
    got = submission.numerical_gradient(lambda w: float(np.sum(np.asarray(w) ** 2)), W)
    checks.assert_close(got, 2 * W, "numerical_gradient(lambda w: sum(w**2), W)", rtol=1e-6, atol=1e-6)


@pytest.mark.graded("numerical_gradient", points=1, states=[
    "by central differences, $(f(W + h e_j) - f(W - h e_j)) / (2h)$",
    "the caller's `W` must be unchanged afterwards"])
def test_numgrad_central_with_large_h(submission):
    """with h=0.125, numerical_gradient of sum(W**2) is still exactly 2 W, and W is left unchanged"""
    # Central differences are exact for a quadratic whatever h is; a forward difference is off by h.
    W = np.array([[1.0, -2.0], [0.5, 3.0]])
    got = submission.numerical_gradient(lambda w: float(np.sum(np.asarray(w) ** 2)), W, h=0.125)
    mutated = submission.last_call.mutated
    checks.assert_close(got, 2 * W, "numerical_gradient(lambda w: sum(w**2), W, h=0.125)", rtol=1e-10)
    assert not mutated, f"numerical_gradient changed {', '.join(mutated)}: W should keep its original values."


def fit_result(submission, X, y, lr, n_iters, what):
    """The (W, losses) pair of fit_logistic(X, y, lr, n_iters), after checking that it is a pair and that a
    second identical call gives the same numbers (the run starts from W = 0, with nothing random)."""
    result = submission.fit_logistic(X, y, lr, n_iters)
    assert isinstance(result, tuple | list) and len(result) == 2, (
        f"{what} returned {str(result)[:100]}; expected a pair (W, losses).")
    again = submission.fit_logistic(X, y, lr, n_iters)
    try:
        same = all(np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
                   for a, b in zip(result, again, strict=True))
    except (TypeError, ValueError):
        same = True  # not numbers: the checks that follow say what is wrong
    assert same, (f"{what} returned different numbers on two identical calls; it should start from W = 0 (one zero "
                  "per column of X), with nothing random.")
    return result


@pytest.mark.graded("fit_logistic", points=1, states=[
    "which starts from `W = 0` (one zero per column of `X`)",
    "where `losses` is a list of `n_iters + 1` floats: the loss at the zero start, then the loss after each step."])
def test_fit_small_run(submission):
    """fit_logistic(X, y, 0.1, 5) returns 6 losses that start at n log 2 and go down"""
    W, losses = fit_result(submission, X, y, 0.1, 5, "fit_logistic(X, y, 0.1, 5)")
    checks.as_array(W, "the W returned by fit_logistic", shape=(2,))
    losses = checks.assert_losses_list(losses, "the losses returned by fit_logistic(X, y, 0.1, 5)", length=6)
    checks.assert_close(losses[0], 5 * np.log(2.0), "losses[0] (the loss at W = 0)", rtol=1e-8)
    checks.assert_nonincreasing(losses, "fit_logistic(X, y, 0.1, 5)", rtol=1e-10)


@pytest.mark.graded("sigmoid", points=1, states=["Return a float for a scalar input.", "for a float or an array."])
def test_sigmoid_types(submission):
    """sigmoid(0.0) and sigmoid(0) are the float 0.5, and sigmoid of an integer array holds floats"""
    for z in (0.0, 0):
        got = checks.assert_float(submission.sigmoid(z), f"sigmoid({z!r})")
        checks.assert_close(got, 0.5, f"sigmoid({z!r})", rtol=1e-12)
    checks.assert_close(submission.sigmoid(np.array([0, 0, 0])), [0.5, 0.5, 0.5], "sigmoid(np.array([0, 0, 0]))",
                        rtol=1e-12, inputs="an array of integers (the result holds floats, not 0 and 1)")


@pytest.mark.graded("sigmoid", points=1, states=["returning $1 / (1 + e^{-z})$ elementwise"])
def test_sigmoid_accurate_below_zero(submission):
    """sigmoid(-40) is e^-40 / (1 + e^-40), about 4.2e-18, not 0"""
    z = np.array([-40.0, -60.0])
    checks.assert_close(submission.sigmoid(z), np.exp(z) / (1.0 + np.exp(z)), "sigmoid([-40, -60])", rtol=1e-6,
                        atol=0.0, inputs="z < 0, where 1 - 1 / (1 + e^z) cancels to 0 but e^z / (1 + e^z) does not")


@pytest.mark.graded("logistic_loss", points=1, states=[
    "returning the float", "`y` holds 0/1 labels (lists are allowed too)."])
def test_loss_takes_a_list_of_labels(submission):
    """logistic_loss(zeros, X, y) is the float n log 2 with y given as a list of 0/1 ints too"""
    for labels, kind in ((y, "an array"), ([int(label) for label in y], "a list of 0/1 ints")):
        what = f"logistic_loss(zeros(2), X, y) with y {kind}"
        got = checks.assert_float(submission.logistic_loss(np.zeros(2), X, labels), what)
        checks.assert_close(got, 5 * np.log(2.0), what, rtol=1e-8, inputs="5 points, each with p = 0.5")


@pytest.mark.graded("logistic_loss_grad", points=1, states=[
    "returning the gradient $X^T(\\sigma(XW) - y)$ derived above"])
def test_grad_large_margin(submission):
    """logistic_loss_grad is finite where |X W| = 1000: [2] for two points misclassified with z = 1000 and -1000"""
    # z = [1000, -1000] gives sigmoid(z) = [1, 0]; with labels [0, 1] the residuals are [1, -1], so the gradient is
    # 1 * 1 + (-1) * (-1) = 2.
    got = submission.logistic_loss_grad(np.array([1000.0]), np.array([[1.0], [-1.0]]), np.array([0.0, 1.0]))
    checks.assert_close(got, [2.0], "logistic_loss_grad([1000], [[1], [-1]], [0, 1])", rtol=1e-8,
                        inputs="z = X W = [1000, -1000]; exp(z) / (1 + exp(z)) is inf / inf = nan at z = 1000")


def sum_of_squares(w):
    return float(np.sum(np.asarray(w, dtype=float) ** 2))


@pytest.mark.graded("numerical_gradient", points=1, states=["(a float for a float `W`)."])
def test_numgrad_float_for_a_float(submission):
    """numerical_gradient of w^2 at the float 2.0 is the float 4.0"""
    got = checks.assert_float(submission.numerical_gradient(sum_of_squares, 2.0), "numerical_gradient(f, 2.0)")
    checks.assert_close(got, 4.0, "numerical_gradient(f, 2.0) for f(w) = w^2", rtol=1e-6)


@pytest.mark.graded("numerical_gradient", points=1, states=[
    "Work on a float copy of `W`: the caller's `W` must be unchanged afterwards (even if it holds integers)"])
def test_numgrad_integer_w(submission):
    """numerical_gradient of sum(W**2) at the integer W = [1, -2, 3] is [2, -4, 6], and W is left unchanged"""
    W = np.array([1, -2, 3])
    got = submission.numerical_gradient(sum_of_squares, W)
    mutated = submission.last_call.mutated
    assert not mutated, f"numerical_gradient changed the integer W it was given ({', '.join(mutated)})."
    checks.assert_close(got, [2.0, -4.0, 6.0],
                        "numerical_gradient(f, W) for f(W) = sum(W^2), W = [1, -2, 3] (integers)", rtol=1e-6,
                        inputs="an integer W: W + 1e-6 needs a float copy (an integer array drops the 1e-6)")


@pytest.mark.graded("numerical_gradient", points=1, states=[
    "and each element must be back at its original value before the next one is perturbed."])
def test_numgrad_restores_each_element(submission):
    """with h=0.125, numerical_gradient of sum(W)**2 is exactly 2 sum(W) for every entry"""
    # Central differences are exact for a quadratic; a perturbation left in place shifts sum(W) for later entries.
    W = np.array([[1.0, -2.0], [0.5, 3.0]])
    got = submission.numerical_gradient(lambda w: float(np.sum(np.asarray(w, dtype=float)) ** 2), W, h=0.125)
    checks.assert_close(got, np.full((2, 2), 5.0), "numerical_gradient(lambda w: sum(w)**2, W, h=0.125)", rtol=1e-10,
                        inputs="sum(W) = 2.5, so every partial derivative is 2 * 2.5 = 5")


@pytest.mark.graded("numerical_gradient", points=1, states=[
    "Pass `f` a fresh copy each time (`f(work.copy())`), so a function that keeps or modifies its argument cannot "
    "disturb the other evaluations."])
def test_numgrad_passes_fresh_copies(submission, problems):
    """numerical_gradient of sum(W**2) is 2 W even for an f that zeroes its argument after reading it"""
    scribbling = problems.bind("sum_of_squares_then_scribble")
    W = np.array([1.0, -0.5, 2.0])
    got = submission.numerical_gradient(scribbling, W)
    checks.assert_close(got, 2 * W,
                        "numerical_gradient(f, [1, -0.5, 2]) for an f that zeroes its argument after reading it",
                        rtol=1e-6, inputs="f(W) = sum(W^2), which then sets W[...] = 0: pass f(work.copy())")


@pytest.mark.graded("numerical_gradient", points=1, states=["Write `numerical_gradient(f, W, h=1e-6)`"])
def test_numgrad_default_step(submission):
    """without h, numerical_gradient evaluates f at W + 1e-6 e_j and W - 1e-6 e_j"""
    recorder = checks.Recorder(sum_of_squares, max_calls=1000)
    W = np.array([0.5, -1.0])
    submission.numerical_gradient(recorder, W)
    missing = []
    for j in range(W.size):
        for sign in (1.0, -1.0):
            target = W.copy()
            target[j] += sign * 1e-6
            if not any(p.shape == W.shape and np.allclose(p, target, rtol=0, atol=1e-9) for p in recorder.points):
                missing.append(f"W {'+' if sign > 0 else '-'} 1e-6 e_{j}")
    assert not missing, (f"numerical_gradient(f, [0.5, -1]) without h never evaluated f at {', '.join(missing)}; the "
                         "default step is h=1e-6.")


@pytest.mark.graded("fit_logistic", points=1, states=[
    "takes exactly `n_iters` gradient-descent steps `W = W - lr * logistic_loss_grad(W, X, y)` (no early stop)",
    "where `losses` is a list of `n_iters + 1` floats"])
def test_fit_no_early_stop(submission):
    """fit_logistic takes all n_iters steps where the gradient is 0, and returns a list of n_iters + 1 floats"""
    # Two copies of one point, labelled 0 and 1: at W = 0 the gradient is (0.5 - 0) + (0.5 - 1) = 0, so W stays 0.
    what = "fit_logistic([[1], [1]], [0, 1], 0.5, 4)"
    W, losses = fit_result(submission, np.array([[1.0], [1.0]]), np.array([0.0, 1.0]), 0.5, 4, what)
    losses = checks.assert_list_of_floats(losses, f"the losses returned by {what}")
    checks.assert_close(losses, np.full(5, 2 * np.log(2.0)), f"the losses returned by {what}", rtol=1e-10,
                        inputs="a problem whose gradient at W = 0 is 0: every step leaves W = 0 and the loss 2 log 2")
    checks.assert_close(W, [0.0], f"the W returned by {what}", rtol=0.0, atol=1e-12)
