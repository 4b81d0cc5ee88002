"""Logistic regression loss, its derivatives, and a trusted optimum to grade fitted weights against.

The loss is the summed negative log-likelihood of the lecture. Students' versions are checked where
``|X @ W|`` reaches 1e3, far beyond where the textbook formula ``log(1 / (1 + exp(-z)))`` overflows,
so every function here is written in a form that stays finite and accurate there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "fit_logistic",
    "logistic_loss",
    "logistic_loss_grad",
    "logistic_loss_hessian",
    "logistic_optimum",
    "numerical_gradient",
    "sigmoid",
]


def _softplus(z: np.ndarray) -> np.ndarray:
    """Return ``log(1 + exp(z))`` without overflow for large ``z`` or loss of digits for small ``z``."""
    return np.logaddexp(0.0, z)


def sigmoid(z: Any) -> float | np.ndarray:
    """Return ``1 / (1 + exp(-z))`` elementwise, without overflow warnings for any finite ``z``.

    Both branches only ever exponentiate ``-|z|``, which lies in ``(0, 1]``: for ``z >= 0`` the usual
    form is used, for ``z < 0`` the algebraically equal ``exp(z) / (1 + exp(z))``. The result is a
    float for scalar input: a numpy float, as ``1 / (1 + np.exp(-z))`` gives (it is swapped in for the
    student's sigmoid, so it must behave like the natural implementation for whatever their code passes).
    """
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    out = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out[()] if out.ndim == 0 else out


def _prepare(W: Any, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert the contract's inputs (lists allowed) to float arrays once, in one place."""
    return np.asarray(W, dtype=float), np.asarray(X, dtype=float), np.asarray(y, dtype=float)


def logistic_loss(W: Any, X: Any, y: Any) -> float:
    """Return ``sum_i -[y_i log p_i + (1 - y_i) log(1 - p_i)]`` with ``p = sigmoid(X @ W)``.

    With ``z = X @ W`` one has ``-log p = softplus(-z)`` and ``-log(1 - p) = softplus(z)``, so the
    loss is ``sum (1 - y) softplus(z) + y softplus(-z)``. This equals the familiar
    ``logaddexp(0, z) - y z`` but never subtracts two large numbers, so a well-classified point far
    from the boundary contributes its tiny loss with full relative accuracy instead of round-off.
    """
    W, X, y = _prepare(W, X, y)
    z = X @ W
    return float(np.sum((1.0 - y) * _softplus(z) + y * _softplus(-z)))


def logistic_loss_grad(W: Any, X: Any, y: Any) -> np.ndarray:
    """Return the gradient ``X.T @ (sigmoid(X @ W) - y)`` of :func:`logistic_loss`."""
    W, X, y = _prepare(W, X, y)
    return X.T @ (np.asarray(sigmoid(X @ W)) - y)


def logistic_loss_hessian(W: Any, X: Any, y: Any) -> np.ndarray:
    """Return the Hessian ``X.T @ diag(p (1 - p)) @ X`` of :func:`logistic_loss`.

    ``p (1 - p)`` is computed as ``sigmoid(z) * sigmoid(-z)``: forming ``1 - p`` by subtraction
    would round to zero for large ``z`` long before the true curvature underflows. ``y`` does not
    enter the Hessian; it is accepted so that all three derivatives share one signature.
    """
    W, X, _ = _prepare(W, X, y)
    z = X @ W
    s = np.asarray(sigmoid(z)) * np.asarray(sigmoid(-z))
    H = (X * s[:, None]).T @ X
    # The product is symmetric only up to round-off; make it exact, as the true Hessian is.
    return 0.5 * (H + H.T)


def numerical_gradient(f: Callable[[np.ndarray], Any], W: Any, h: float = 1e-6) -> float | np.ndarray:
    """Estimate the gradient of ``f`` at ``W`` by central differences ``(f(W+h e_i) - f(W-h e_i)) / 2h``.

    ``W`` may have any shape (a weight matrix included) and every element is perturbed in turn. The
    work happens on a float copy, so an integer ``W`` is not silently truncated and the caller's
    array keeps its values whatever ``f`` does; each element is restored exactly after its pair of
    evaluations so that later elements are differenced at the original point. ``f`` receives a fresh
    copy each time, so a function that keeps or edits its argument cannot disturb the others.
    """
    base = np.array(W, dtype=float, copy=True)
    work = base.copy()
    grad = np.empty_like(base)
    flat_work = work.reshape(-1)
    flat_grad = grad.reshape(-1)
    for i in range(base.size):
        original = flat_work[i]
        flat_work[i] = original + h
        f_plus = float(f(work.copy()))
        flat_work[i] = original - h
        f_minus = float(f(work.copy()))
        flat_work[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2.0 * h)
    if grad.ndim == 0:
        return float(grad)
    return grad


def fit_logistic(X: Any, y: Any, lr: float, n_iters: int) -> tuple[np.ndarray, list[float]]:
    """Take exactly ``n_iters`` plain gradient steps on :func:`logistic_loss` from ``W = 0``.

    There is no early stop: the assignment asks for a fixed budget, and the returned ``losses``
    (``n_iters + 1`` entries, the first at the zero start) are compared entry by entry.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    W = np.zeros(X.shape[1])
    losses = [logistic_loss(W, X, y)]
    for _ in range(int(n_iters)):
        W = W - lr * logistic_loss_grad(W, X, y)
        losses.append(logistic_loss(W, X, y))
    return W, losses


def logistic_optimum(X: Any, y: Any, tol: float = 1e-12, max_iters: int = 100) -> np.ndarray:
    """Return the minimiser of :func:`logistic_loss` by damped Newton's method.

    Fitted weights are graded against this point, so it has to be exact to round-off, which plain
    gradient descent cannot promise in a reasonable time. Each Newton step is halved until the loss
    decreases enough (Armijo), which makes the iteration converge from ``W = 0`` on any data with a
    finite optimum.

    Convergence needs both a small Newton decrement (``g^T H^-1 g / 2 <= tol``, i.e. the loss is
    within about ``tol`` of its minimum) and a Newton step that is negligible next to ``W``. The
    second condition is what detects separable data: there the loss, its gradient and the decrement
    all fade to zero as ``|W|`` grows, while the Newton step along the separating direction keeps a
    roughly constant length, so the iteration never settles and a ValueError is raised.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    W = np.zeros(X.shape[1])
    loss = logistic_loss(W, X, y)
    step_tol = max(np.sqrt(tol), 1e-10)
    eps = np.finfo(float).eps
    no_optimum = (
        "Newton's method found no finite minimiser of the logistic loss; the data may be separable "
        "(the loss then decreases forever as |W| grows) or X may have linearly dependent columns"
    )
    for _ in range(int(max_iters)):
        g = logistic_loss_grad(W, X, y)
        H = logistic_loss_hessian(W, X, y)
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError as err:
            # An exactly singular Hessian: the curvature underflowed along a separating direction, or
            # the columns of X are dependent and the minimiser is not unique.
            raise ValueError(no_optimum) from err
        decrement = float(-g @ step)
        if not (np.all(np.isfinite(step)) and np.isfinite(decrement)):
            raise ValueError(no_optimum)
        if decrement / 2.0 <= tol and np.max(np.abs(step)) <= step_tol * (1.0 + np.max(np.abs(W))):
            # Inside the region of quadratic convergence: the full step only sharpens the answer.
            return W + step
        # Armijo with a round-off allowance, so that the last few steps near the optimum are not
        # rejected because the decrease is below the precision of the summed loss.
        slack = 64.0 * eps * (abs(loss) + 1.0)
        t = 1.0
        while True:
            candidate = W + t * step
            candidate_loss = logistic_loss(candidate, X, y)
            if candidate_loss <= loss - 1e-4 * t * decrement + slack:
                break
            t *= 0.5
            if t < 1e-12:
                raise ValueError(no_optimum)
        W, loss = candidate, candidate_loss
    raise ValueError(f"{no_optimum} (no convergence in {max_iters} iterations)")


# The gradients of the test functions in assignments/logistic-loss/problems.py (kept here, in the grader,
# because an analytic gradient is what numerical_gradient is asked to approximate).
def tanh_net_grad(W, X, v, y):
    hidden = np.tanh(X @ np.asarray(W, dtype=float))
    r = hidden @ v - y
    return X.T @ (np.outer(r, v) * (1.0 - hidden**2))


def rosenbrock_grad(W, a, b):
    w = np.asarray(W, dtype=float)
    g = np.zeros_like(w)
    g[:-1] = -4.0 * b * w[:-1] * (w[1:] - w[:-1] ** 2) - 2.0 * (a - w[:-1])
    g[1:] += 2.0 * b * (w[1:] - w[:-1] ** 2)
    return g
