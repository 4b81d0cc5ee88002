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
    """sigmoid([-1000, 1000]) is [0, 1], without nan"""
    checks.assert_close(submission.sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0], "sigmoid([-1000, 1000])",
                        rtol=1e-6, atol=1e-12)


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


@pytest.mark.graded("fit_logistic", points=1, states=[
    "where `losses` is a list of `n_iters + 1` floats: the loss at the zero start, then the loss after each step."])
def test_fit_small_run(submission):
    """fit_logistic(X, y, 0.1, 5) returns 6 losses that start at n log 2 and go down"""
    result = submission.fit_logistic(X, y, 0.1, 5)
    assert isinstance(result, tuple | list) and len(result) == 2, (
        f"fit_logistic(X, y, 0.1, 5) returned {str(result)[:100]}; expected a pair (W, losses).")
    W, losses = result
    checks.as_array(W, "the W returned by fit_logistic", shape=(2,))
    losses = checks.assert_losses_list(losses, "the losses returned by fit_logistic(X, y, 0.1, 5)", length=6)
    checks.assert_close(losses[0], 5 * np.log(2.0), "losses[0] (the loss at W = 0)", rtol=1e-8)
    checks.assert_nonincreasing(losses, "fit_logistic(X, y, 0.1, 5)", rtol=1e-10)
