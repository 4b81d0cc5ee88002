"""Tests that the reference solutions are right, since every hidden test trusts them as its oracle.

Expected values are computed at test time (closed forms, independent formulas, central differences,
replayed random streams) rather than written down, so the tests stay valid on any numpy build and a
wrong reference cannot agree with a wrong expectation by accident.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from reference.gradient_descent import gradient_descent, gradient_step
from reference.learning_rate import diagnose_trace, pick_learning_rate
from reference.logistic_loss import (
    fit_logistic,
    logistic_loss,
    logistic_loss_grad,
    logistic_loss_hessian,
    logistic_optimum,
    numerical_gradient,
    sigmoid,
)
from reference.random_restarts import random_restarts
from reference.relu_fit import fit_relu, relu, relu_loss, relu_loss_grad, relu_model

# Any warning (an overflow in the reference, say) is a failure: students are graded on stable code.
pytestmark = pytest.mark.filterwarnings("error")

EPS = np.finfo(float).eps


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------


def directional_gradient_error(
    f: Callable[[np.ndarray], float],
    grad: Callable[[np.ndarray], np.ndarray],
    w: np.ndarray,
    rng: np.random.Generator,
    n_directions: int = 4,
) -> tuple[float, float]:
    """Return ``(error, allowed)`` for the gradient along random unit directions.

    Central differences along a few random directions test every component at once at a cost that
    does not grow with the number of parameters. The allowance is a relative tolerance plus the
    round-off floor of the difference quotient, ``4 eps |f| / h``.
    """
    h = 1e-5 * max(1.0, float(np.sqrt(np.mean(w**2))))
    g = np.asarray(grad(w), dtype=float)
    analytic, numeric, scale = [], [], 0.0
    for _ in range(n_directions):
        u = rng.normal(size=w.shape)
        u /= np.linalg.norm(u)
        f_plus, f_minus = f(w + h * u), f(w - h * u)
        scale = max(scale, abs(f_plus), abs(f_minus))
        analytic.append(float(np.sum(g * u)))
        numeric.append((f_plus - f_minus) / (2.0 * h))
    a, n = np.array(analytic), np.array(numeric)
    error = float(np.linalg.norm(a - n))
    allowed = max(1e-6 * float(np.linalg.norm(a) + np.linalg.norm(n)), 4.0 * EPS * scale / h)
    return error, allowed


def random_quadratic(
    rng: np.random.Generator, d: int, L: float, kappa: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(A, Q, lam)`` with ``A = Q diag(lam) Q^T``, eigenvalues spread over ``[L/kappa, L]``.

    Both ends of the spectrum are always present so that ``L`` and ``mu = L/kappa`` are exact.
    """
    if d == 1:
        lam = np.array([L])
    else:
        inner = L / kappa ** rng.uniform(0.0, 1.0, d - 2)
        lam = np.concatenate([[L, L / kappa], inner])
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (Q * lam) @ Q.T, Q, lam


def logistic_data(rng: np.random.Generator, n: int = 200, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Draw overlapping (hence non-separable) logistic data with an intercept column."""
    X = np.column_stack([np.ones(n), rng.normal(size=(n, d - 1))])
    w_true = rng.normal(size=d)
    y = (rng.random(n) < np.asarray(sigmoid(X @ w_true))).astype(float)
    return X, y


def stable_sigmoid(z: np.ndarray) -> np.ndarray:
    """An independent stable sigmoid, ``exp(-log(1 + exp(-z)))``, to compare the reference against."""
    return np.exp(-np.logaddexp(0.0, -z))


# ---------------------------------------------------------------------------------------------
# gradient_step and gradient_descent
# ---------------------------------------------------------------------------------------------


def test_gradient_step_float_and_array() -> None:
    out = gradient_step(1.5, 0.5, 0.1)
    assert isinstance(out, float)
    assert out == 1.5 - 0.1 * 0.5

    w = np.array([1.0, -2.0, 3.0])
    g = np.array([0.5, 0.5, -1.0])
    w_before = w.copy()
    new = gradient_step(w, g, 0.2)
    np.testing.assert_array_equal(new, w_before - 0.2 * g)
    np.testing.assert_array_equal(w, w_before)
    assert new is not w

    np.testing.assert_array_equal(gradient_step([1.0, 2.0], [1.0, 1.0], np.float64(0.5)), [0.5, 1.5])


def test_gradient_descent_matches_closed_form_on_quadratic() -> None:
    rng = np.random.default_rng(1)
    d, L, kappa, T = 6, 4.0, 30.0, 60
    A, Q, lam = random_quadratic(rng, d, L, kappa)
    w_star = rng.normal(size=d)
    w0 = w_star + Q @ rng.uniform(0.5, 1.5, d)
    eta = 0.9 / L
    grad_points: list[np.ndarray] = []
    loss_points: list[np.ndarray] = []

    def loss_fn(w: np.ndarray) -> float:
        loss_points.append(np.array(w))
        return float(0.5 * (w - w_star) @ A @ (w - w_star))

    def grad_fn(w: np.ndarray) -> np.ndarray:
        grad_points.append(np.array(w))
        return A @ (w - w_star)

    w0_before = w0.copy()
    w, losses = gradient_descent(loss_fn, grad_fn, w0, eta, max_iters=T, tol=0.0)

    def closed_form(t: int) -> np.ndarray:
        return w_star + Q @ ((1.0 - eta * lam) ** t * (Q.T @ (w0 - w_star)))

    np.testing.assert_array_equal(w0, w0_before)
    assert len(grad_points) == T and len(loss_points) == T + 1 and len(losses) == T + 1
    for t in range(T + 1):
        expected = closed_form(t)
        np.testing.assert_allclose(loss_points[t], expected, rtol=0, atol=1e-12)
        if t < T:
            np.testing.assert_allclose(grad_points[t], expected, rtol=0, atol=1e-12)
        assert losses[t] == pytest.approx(0.5 * (expected - w_star) @ A @ (expected - w_star), abs=1e-12)
    np.testing.assert_allclose(w, closed_form(T), rtol=0, atol=1e-12)
    assert all(isinstance(v, float) for v in losses)


def test_gradient_descent_stops_after_first_small_improvement() -> None:
    # f(w) = w^2 with lr = 1/4 halves w each step: l_k = w0^2 / 4^k exactly.
    w0, lr, tol = 3.0, 0.25, 1e-6
    closed = [w0**2 / 4.0**k for k in range(200)]
    stop = next(k for k in range(1, 200) if abs(closed[k - 1] - closed[k]) < tol)

    w, losses = gradient_descent(lambda w: w**2, lambda w: 2 * w, w0, lr, max_iters=1000, tol=tol)

    assert len(losses) == stop + 1
    np.testing.assert_allclose(losses, closed[: stop + 1], rtol=1e-14)
    assert abs(losses[-2] - losses[-1]) < tol
    assert all(abs(a - b) >= tol for a, b in itertools.pairwise(losses[:-1]))
    assert isinstance(w, float) and w == pytest.approx(w0 / 2.0**stop, rel=1e-14)

    # The budget wins when it runs out first.
    _, capped = gradient_descent(lambda w: w**2, lambda w: 2 * w, w0, lr, max_iters=stop - 2, tol=tol)
    assert len(capped) == stop - 1


def test_gradient_descent_stopping_uses_absolute_improvement() -> None:
    # The loss jumps up by 1 at every step: a big change, so the run must not be called converged.
    _, losses = gradient_descent(lambda w: -w, lambda w: 1.0, 0.0, lr=1.0, max_iters=25, tol=1e-3)
    assert len(losses) == 26
    # A rise smaller than tol does count as converged.
    _, losses = gradient_descent(lambda w: -1e-6 * w, lambda w: 1.0, 0.0, lr=1.0, max_iters=25, tol=1e-3)
    assert len(losses) == 2


@pytest.mark.parametrize("w0", [2.5, np.float64(2.5), np.array(2.5), np.array([2.5, -1.0]), [2.5, -1.0]])
def test_gradient_descent_zero_iterations(w0: Any) -> None:
    calls = {"grad": 0}

    def grad_fn(w: Any) -> Any:
        calls["grad"] += 1
        return 2 * np.asarray(w)

    w, losses = gradient_descent(lambda w: float(np.sum(np.square(w))), grad_fn, w0, 0.1, max_iters=0)
    assert calls["grad"] == 0
    assert losses == [float(np.sum(np.square(w0)))]
    if np.ndim(w0) == 0:
        assert isinstance(w, float) and w == 2.5
    else:
        np.testing.assert_array_equal(w, np.asarray(w0, dtype=float))
        assert not np.shares_memory(w, np.asarray(w0))  # a copy, not the caller's array


def test_gradient_descent_types_and_inputs_untouched() -> None:
    w, losses = gradient_descent(lambda w: w**2, lambda w: 2 * w, np.array(1.0), 0.1, max_iters=5, tol=0)
    assert isinstance(w, float) and len(losses) == 6
    # Still a float when the gradient comes back as a one-element array.
    w, _ = gradient_descent(lambda w: w**2, lambda w: np.array([2 * w]), 1.0, 0.1, max_iters=5, tol=0)
    assert type(w) is float and w == pytest.approx(0.8**5, rel=1e-14)

    w0 = np.array([1.0, 2.0])
    w, _ = gradient_descent(lambda w: float(w @ w), lambda w: 2 * w, w0, 0.1, max_iters=5, tol=0)
    np.testing.assert_array_equal(w0, [1.0, 2.0])
    np.testing.assert_allclose(w, w0 * 0.8**5, rtol=1e-14)

    # A gradient callable that scribbles on its argument must not reach the caller's array.
    def rude_grad(w: np.ndarray) -> np.ndarray:
        g = 2 * w
        w[:] = 99.0
        return g

    w, _ = gradient_descent(lambda w: float(w @ w), rude_grad, w0, 0.1, max_iters=5, tol=0)
    np.testing.assert_array_equal(w0, [1.0, 2.0])
    np.testing.assert_allclose(w, w0 * 0.8**5, rtol=1e-14)


# ---------------------------------------------------------------------------------------------
# sigmoid, logistic loss and its derivatives
# ---------------------------------------------------------------------------------------------

EXTREME_Z = np.array([-1e3, -800.0, -745.0, -710.0, -40.0, -1.0, -1e-9, 0.0, 1e-9, 1.0, 40.0, 710.0, 1e3])


def test_sigmoid_stable_and_accurate() -> None:
    z = np.concatenate([EXTREME_Z, np.linspace(-1e3, 1e3, 2001)])
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        s = sigmoid(z)
        s_neg = sigmoid(-z)
    assert np.all(np.isfinite(s)) and np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(s, stable_sigmoid(z), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(s + s_neg, 1.0, rtol=0, atol=1e-15)
    assert sigmoid(0.0) == 0.5 and isinstance(sigmoid(0.0), float)
    assert isinstance(sigmoid(np.float64(3.0)), float)
    # Far tail: the answer is relatively accurate, not just "small".
    assert sigmoid(-700.0) == pytest.approx(np.exp(-700.0), rel=1e-12)


def test_logistic_loss_matches_textbook_formula_where_it_is_safe() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 4))
    y = (rng.random(50) < 0.5).astype(float)
    W = rng.normal(size=4)
    p = 1.0 / (1.0 + np.exp(-(X @ W)))
    textbook = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert logistic_loss(W, X, y) == pytest.approx(textbook, rel=1e-12)
    assert isinstance(logistic_loss(W, X, y), float)
    assert logistic_loss(W.tolist(), X.tolist(), y.tolist()) == pytest.approx(textbook, rel=1e-12)
    np.testing.assert_allclose(logistic_loss_grad(W, X, y), X.T @ (p - y), rtol=1e-12, atol=1e-13)
    assert logistic_loss(np.zeros(4), X, y) == pytest.approx(50 * np.log(2.0), rel=1e-14)


def test_logistic_loss_and_grad_at_large_margins() -> None:
    rng = np.random.default_rng(3)
    n = len(EXTREME_Z)
    X = np.column_stack([EXTREME_Z / 2.0, np.full(n, 0.5)])
    W = np.array([2.0, 0.0])  # X @ W reproduces EXTREME_Z, up to |z| = 1e3
    z = X @ W
    np.testing.assert_array_equal(z, EXTREME_Z)
    for y in [np.zeros(n), np.ones(n), (rng.random(n) < 0.5).astype(float)]:
        with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
            warnings.simplefilter("error")
            loss = logistic_loss(W, X, y)
            grad = logistic_loss_grad(W, X, y)
        expected = np.sum(np.logaddexp(0.0, z) - y * z)
        assert np.isfinite(loss) and np.all(np.isfinite(grad))
        assert loss == pytest.approx(expected, rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(grad, X.T @ (stable_sigmoid(z) - y), rtol=1e-10, atol=1e-10)
    # A single confidently wrong point costs its margin.
    assert logistic_loss([1.0], [[1e3]], [0.0]) == pytest.approx(1e3, rel=1e-15)
    assert logistic_loss([1.0], [[1e3]], [1.0]) == pytest.approx(0.0, abs=1e-300)


def test_logistic_grad_and_hessian_against_central_differences() -> None:
    rng = np.random.default_rng(4)
    X, y = logistic_data(rng, n=60, d=4)
    for scale in [0.1, 1.0, 5.0]:
        for _ in range(3):
            W = scale * rng.normal(size=4)
            err, allowed = directional_gradient_error(
                lambda w: logistic_loss(w, X, y), lambda w: logistic_loss_grad(w, X, y), W, rng
            )
            assert err <= allowed, (scale, err, allowed)
            H = logistic_loss_hessian(W, X, y)
            H_num = np.column_stack(
                [
                    numerical_gradient(lambda w, j=j: logistic_loss_grad(w, X, y)[j], W, h=1e-5)
                    for j in range(4)
                ]
            )
            np.testing.assert_allclose(H, H_num, rtol=1e-6, atol=1e-7 * np.abs(H).max())
            np.testing.assert_allclose(H, H.T, rtol=0, atol=0)


def test_directional_check_catches_a_wrong_gradient() -> None:
    """The checker above must be able to fail, or passing it would prove nothing."""
    rng = np.random.default_rng(5)
    X, y = logistic_data(rng, n=60, d=4)
    W = rng.normal(size=4)
    err, allowed = directional_gradient_error(
        lambda w: logistic_loss(w, X, y), lambda w: 1.0001 * logistic_loss_grad(w, X, y), W, rng
    )
    assert err > allowed


def test_numerical_gradient_on_matrix_weights() -> None:
    rng = np.random.default_rng(6)
    C = rng.normal(size=(3, 4))
    W = rng.normal(size=(3, 4))
    W_before = W.copy()
    calls = {"n": 0}

    def f(M: np.ndarray) -> float:
        calls["n"] += 1
        return float(np.sum(np.sin(M) * C) + 0.5 * np.sum(M**2))

    g = numerical_gradient(f, W)
    assert g.shape == W.shape
    np.testing.assert_allclose(g, np.cos(W) * C + W, rtol=1e-7, atol=1e-8)
    np.testing.assert_array_equal(W, W_before)
    assert calls["n"] == 2 * W.size

    # Integer input is differenced on a float copy (a 1e-6 step would vanish in an int array).
    W_int = np.array([1, -2, 3])
    g_int = numerical_gradient(lambda v: float(np.sum(v**3)), W_int)
    np.testing.assert_allclose(g_int, 3.0 * W_int**2, rtol=1e-7)
    np.testing.assert_array_equal(W_int, [1, -2, 3])

    # Exactly the central difference formula with the given h, element by element.
    h = 1e-3
    expected = np.empty(3)
    for i in range(3):
        e = np.zeros(3)
        e[i] = h
        expected[i] = (np.exp(W_int + e).sum() - np.exp(W_int - e).sum()) / (2 * h)
    np.testing.assert_allclose(
        numerical_gradient(lambda v: float(np.exp(v).sum()), W_int, h=h), expected, rtol=1e-12
    )


def test_logistic_optimum_is_stationary_and_matches_long_gradient_descent() -> None:
    rng = np.random.default_rng(7)
    X, y = logistic_data(rng, n=200, d=3)
    W_star = logistic_optimum(X, y)

    g = logistic_loss_grad(W_star, X, y)
    assert np.linalg.norm(g) <= 1e-10 * np.linalg.norm(X, ord="fro")
    H = logistic_loss_hessian(W_star, X, y)
    mu = float(np.linalg.eigvalsh(H).min())
    assert mu > 0

    # Gradient descent with lr = 1/L contracts at least as fast as 1 - mu/L near the optimum, so
    # this many steps must reach it to well below the tolerance used below.
    L = float(np.linalg.eigvalsh(X.T @ X).max()) / 4.0
    n_iters = int(np.ceil(40.0 * L / mu))
    assert n_iters < 5000
    W_gd, losses = fit_logistic(X, y, 1.0 / L, n_iters)
    np.testing.assert_allclose(W_gd, W_star, rtol=0, atol=1e-8)
    assert losses[-1] == pytest.approx(logistic_loss(W_star, X, y), rel=1e-12)
    assert logistic_loss(W_star, X, y) <= min(losses) + 1e-12


def test_logistic_optimum_rejects_separable_data() -> None:
    x = np.linspace(-1.0, 1.0, 20)
    X = np.column_stack([np.ones(20), x])
    with pytest.raises(ValueError):
        logistic_optimum(X, (x > 0.05).astype(float))
    # Moving one point across the boundary makes the optimum finite again.
    y = (x > 0.05).astype(float)
    y[0] = 1.0
    W = logistic_optimum(X, y)
    assert np.linalg.norm(logistic_loss_grad(W, X, y)) <= 1e-10


def test_fit_logistic_is_plain_gradient_descent_from_zero() -> None:
    rng = np.random.default_rng(8)
    X, y = logistic_data(rng, n=80, d=3)
    lr, n_iters = 0.01, 25
    W, losses = fit_logistic(X, y, lr, n_iters)

    W_manual = np.zeros(3)
    manual = [logistic_loss(W_manual, X, y)]
    for _ in range(n_iters):
        W_manual = W_manual - lr * logistic_loss_grad(W_manual, X, y)
        manual.append(logistic_loss(W_manual, X, y))
    assert len(losses) == n_iters + 1
    assert losses[0] == pytest.approx(len(y) * np.log(2.0), rel=1e-14)
    np.testing.assert_allclose(losses, manual, rtol=1e-14)
    np.testing.assert_allclose(W, W_manual, rtol=1e-14)

    W0, losses0 = fit_logistic(X, y, lr, 0)
    np.testing.assert_array_equal(W0, np.zeros(3))
    assert len(losses0) == 1


# ---------------------------------------------------------------------------------------------
# diagnose_trace: traces from real gradient-descent runs, labelled by the dynamics that made them
# ---------------------------------------------------------------------------------------------

LABELS = ("too_small", "good", "too_large")


def labelled_run(rng: np.random.Generator, label: str) -> tuple[np.ndarray, dict[str, float]]:
    """Run gradient descent on a random quadratic with (eta, T) drawn inside ``label``'s region.

    The regions are the clear-cut ones (L = largest, mu = smallest curvature, T = steps):
    too_small when eta*L <= 0.01 and T*eta*L <= 0.5; good when 0.5 <= eta*L <= 1.5 and
    T*eta*mu >= 10; too_large when eta*L >= 2.5. The start excites every eigenvector with a
    coefficient of size 0.5 to 1.5, so no mode is hidden, and a random offset is added to the loss.
    """
    d = int(rng.integers(1, 9))
    L = 10.0 ** rng.uniform(-2, 2)
    kappa = 1.0 if d == 1 else 10.0 ** rng.uniform(0, 1.7)
    A, Q, lam = random_quadratic(rng, d, L, kappa)
    mu = float(lam.min())
    w_star = 3.0 * rng.normal(size=d)
    offset = rng.uniform(-5, 5) * 10.0 ** rng.uniform(-2, 2)
    w0 = w_star + Q @ (rng.uniform(0.5, 1.5, d) * rng.choice([-1.0, 1.0], d))
    if label == "too_small":
        eta_L = 10.0 ** rng.uniform(-4, -2)
        T = int(rng.integers(9, int(0.5 / eta_L) + 1))
    elif label == "good":
        eta_L = rng.uniform(0.5, 1.5)
        t_min = max(9, int(np.ceil(10.0 * L / (eta_L * mu))))
        T = int(rng.integers(t_min, int(1.5 * t_min) + 1))
    else:
        eta_L = rng.uniform(2.5, 6.0)
        T = int(rng.integers(9, 400))
    eta = eta_L / L
    facts = {"eta_L": eta * L, "T_eta_L": T * eta * L, "T_eta_mu": T * eta * mu}
    if label == "too_small":
        assert facts["eta_L"] <= 0.01 and facts["T_eta_L"] <= 0.5
    elif label == "good":
        assert 0.5 <= facts["eta_L"] <= 1.5 and facts["T_eta_mu"] >= 10
    else:
        assert facts["eta_L"] >= 2.5

    def loss_fn(w: np.ndarray) -> float:
        return float(0.5 * (w - w_star) @ A @ (w - w_star) + offset)

    with np.errstate(all="ignore"):
        _, losses = gradient_descent(loss_fn, lambda w: A @ (w - w_star), w0, eta, max_iters=T, tol=-1.0)
    assert len(losses) == T + 1
    return np.array(losses), facts


@pytest.fixture(scope="module")
def labelled_traces() -> list[tuple[str, np.ndarray, dict[str, float]]]:
    rng = np.random.default_rng(2024)
    runs = []
    for i in range(210):
        label = LABELS[i % 3]
        trace, facts = labelled_run(rng, label)
        runs.append((label, trace, facts))
    return runs


def test_diagnose_trace_on_labelled_gradient_descent_runs(
    labelled_traces: list[tuple[str, np.ndarray, dict[str, float]]],
) -> None:
    counts = dict.fromkeys(LABELS, 0)
    wrong = []
    for label, trace, facts in labelled_traces:
        counts[label] += 1
        got = diagnose_trace(trace)
        if got != label:
            wrong.append((label, got, len(trace), facts))
        assert diagnose_trace(trace.tolist()) == got
    assert not wrong, wrong
    assert min(counts.values()) >= 70
    # The set covers diverged runs that overflowed as well as finite ones that blew up.
    large = [trace for label, trace, _ in labelled_traces if label == "too_large"]
    assert any(not np.all(np.isfinite(t)) for t in large)
    assert any(np.all(np.isfinite(t)) for t in large)


def test_diagnose_trace_invariances(labelled_traces: list[tuple[str, np.ndarray, dict[str, float]]]) -> None:
    broken = []
    subsampled = 0
    for label, trace, _ in labelled_traces:
        with np.errstate(over="ignore"):  # a diverged trace may overflow when scaled; it stays too_large
            variants = {"x1000": trace * 1000.0, "+100": trace + 100.0}
        if len(trace[::5]) >= 10:
            variants["[::5]"] = trace[::5]
            subsampled += 1
        for name, variant in variants.items():
            got = diagnose_trace(variant)
            if got != label:
                broken.append((label, name, got))
    assert not broken, broken
    assert subsampled >= 100


def test_diagnose_trace_edge_cases() -> None:
    falling = list(np.linspace(10.0, 1.0, 20))
    assert diagnose_trace(falling) == "too_small"
    assert diagnose_trace([*falling[:-1], np.nan]) == "too_large"
    assert diagnose_trace([*falling[:-1], np.inf]) == "too_large"
    levelled = 1.0 + 9.0 * 0.5 ** np.arange(40)
    assert diagnose_trace(levelled) == "good"
    oscillating = 1.0 + 9.0 * 0.8 ** np.arange(40) * (1.5 + 0.5 * (-1) ** np.arange(40))
    assert diagnose_trace(oscillating) == "too_large"
    assert diagnose_trace(levelled[::-1]) == "too_large"


# ---------------------------------------------------------------------------------------------
# pick_learning_rate
# ---------------------------------------------------------------------------------------------


def test_pick_learning_rate_picks_the_lowest_final_loss() -> None:
    rng = np.random.default_rng(9)
    d, L, kappa, n_iters = 5, 2.0, 20.0, 30
    A, Q, lam = random_quadratic(rng, d, L, kappa)
    w_star = rng.normal(size=d)
    w0 = w_star + Q @ rng.uniform(0.5, 1.5, d)
    candidates = [1e-4 / L, 0.3 / L, 1.0 / L, 1.9 / L, 2.5 / L, 50.0 / L]
    calls = {"grad": 0}

    def loss_fn(w: np.ndarray) -> float:
        return float(0.5 * (w - w_star) @ A @ (w - w_star))

    def grad_fn(w: np.ndarray) -> np.ndarray:
        calls["grad"] += 1
        return A @ (w - w_star)

    # Final losses from the closed form of the iterates; diverged runs are left out.
    coef = Q.T @ (w0 - w_star)
    with np.errstate(all="ignore"):
        final = [float(0.5 * np.sum(lam * ((1 - eta * lam) ** n_iters * coef) ** 2)) for eta in candidates]
    assert np.all(np.isfinite(final[:4]))
    expected = candidates[int(np.argmin(final[:4]))]
    assert final[4] > min(final[:4])  # the 2.5/L run is finite here but must not win

    w0_before = w0.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chosen = pick_learning_rate(loss_fn, grad_fn, w0, candidates, n_iters)
    assert chosen == expected
    assert calls["grad"] == n_iters * len(candidates)
    np.testing.assert_array_equal(w0, w0_before)


def test_pick_learning_rate_ignores_nan_and_breaks_ties_by_order() -> None:
    def loss_fn(w: np.ndarray) -> float:
        return float(0.5 * w @ w)

    def grad_fn(w: np.ndarray) -> np.ndarray:
        return w

    w0 = np.array([1.0, -2.0])
    # 1 - lr is +0.5 and -0.5: the two runs end at bit-identical losses.
    assert pick_learning_rate(loss_fn, grad_fn, w0, [1.5, 0.5], 7) == 1.5
    assert pick_learning_rate(loss_fn, grad_fn, w0, [0.5, 1.5], 7) == 0.5
    # lr = 1e200 overflows to inf/nan; it is ignored however low (nan) its comparison might look.
    assert pick_learning_rate(loss_fn, grad_fn, w0, [1e200, 0.1], 5) == 0.1
    assert pick_learning_rate(loss_fn, grad_fn, w0, [1e200, 1e300], 5) is None

    # A loss unbounded below: the huge rate ends at -inf, which is not a "lowest loss" either.
    def concave(w: np.ndarray) -> float:
        return float(-np.sum(w**2))

    assert pick_learning_rate(concave, lambda w: -2.0 * w, w0, [1e200, 0.1], 5) == 0.1


# ---------------------------------------------------------------------------------------------
# random_restarts on the double well
# ---------------------------------------------------------------------------------------------


def dw_train(w: float) -> float:
    return (w**2 - 1.0) ** 2 + 0.5 * w


def dw_train_grad(w: float) -> float:
    return 4.0 * w * (w**2 - 1.0) + 0.5


def dw_val(w: float) -> float:
    return (w**2 - 1.0) ** 2 - 0.5 * w


def uniform_init(rng: np.random.Generator) -> float:
    return float(rng.uniform(-2.0, 2.0))


def test_random_restarts_selects_by_validation_loss() -> None:
    n_restarts, lr, n_iters, seed = 8, 0.02, 400, 3
    best_w, val_losses = random_restarts(
        dw_train, dw_train_grad, dw_val, uniform_init, n_restarts, lr, n_iters, seed=seed
    )

    # Replay: same stream of starts, independent descent loop.
    replay_rng = np.random.default_rng(seed)
    finals = []
    for _ in range(n_restarts):
        w = uniform_init(replay_rng)
        for _ in range(n_iters):
            w = w - lr * dw_train_grad(w)
        finals.append(w)
    expected_val = [dw_val(w) for w in finals]
    assert isinstance(val_losses, list) and all(isinstance(v, float) for v in val_losses)
    np.testing.assert_allclose(val_losses, expected_val, rtol=1e-12, atol=1e-12)
    assert best_w == pytest.approx(finals[int(np.argmin(expected_val))], abs=1e-12)

    # Both wells were reached, and validation picks the one that training would not.
    minima = np.sort(np.roots([4.0, 0.0, -4.0, 0.5]).real)
    left, right = minima[0], minima[2]
    assert any(abs(w - left) < 1e-6 for w in finals) and any(abs(w - right) < 1e-6 for w in finals)
    assert best_w == pytest.approx(right, abs=1e-6)
    assert finals[int(np.argmin([dw_train(w) for w in finals]))] == pytest.approx(left, abs=1e-6)


def test_random_restarts_deterministic_whatever_the_global_seed() -> None:
    args = (dw_train, dw_train_grad, dw_val, uniform_init, 5, 0.02, 50)
    np.random.seed(1)
    first = random_restarts(*args, seed=11)
    np.random.seed(12345)
    np.random.random(17)
    second = random_restarts(*args, seed=11)
    assert first[0] == second[0] and first[1] == second[1]
    assert random_restarts(*args) == random_restarts(*args, seed=0)
    assert random_restarts(*args, seed=12)[1] != first[1]


def test_random_restarts_call_order_and_stream() -> None:
    events: list[str] = []
    starts: list[np.ndarray] = []
    generators: list[np.random.Generator] = []
    n_restarts, n_iters, seed = 4, 3, 5

    def init_fn(rng: np.random.Generator) -> np.ndarray:
        events.append("init")
        generators.append(rng)
        starts.append(rng.normal(size=2))
        return starts[-1]

    def grad(w: np.ndarray) -> np.ndarray:
        events.append("grad")
        return 2.0 * w

    def val(w: np.ndarray) -> float:
        return float(np.sum(w))

    best_w, val_losses = random_restarts(
        lambda w: float(w @ w), grad, val, init_fn, n_restarts, 0.1, n_iters, seed
    )

    init_positions = [i for i, e in enumerate(events) if e == "init"]
    assert init_positions == [i * (n_iters + 1) for i in range(n_restarts)]
    assert len(events) == n_restarts * (n_iters + 1)
    assert all(g is generators[0] for g in generators)
    replay = np.random.default_rng(seed)
    for start in starts:
        np.testing.assert_array_equal(start, replay.normal(size=2))
    finals = [s * 0.8**n_iters for s in starts]
    np.testing.assert_allclose(val_losses, [float(np.sum(f)) for f in finals], rtol=1e-14)
    np.testing.assert_allclose(best_w, finals[int(np.argmin(val_losses))], rtol=1e-14)
    # init_fn's arrays are not modified by the steps.
    replay = np.random.default_rng(seed)
    for start in starts:
        np.testing.assert_array_equal(start, replay.normal(size=2))


def test_random_restarts_first_wins_a_tie() -> None:
    best_w, val_losses = random_restarts(
        dw_train, dw_train_grad, lambda w: 1.0, uniform_init, 4, 0.02, 10, seed=0
    )
    rng = np.random.default_rng(0)
    w = uniform_init(rng)
    for _ in range(10):
        w = w - 0.02 * dw_train_grad(w)
    assert val_losses == [1.0] * 4
    assert best_w == pytest.approx(w, abs=1e-15)

    # With no steps the best point is a start itself, still a plain float for a float start.
    best_w, _ = random_restarts(dw_train, dw_train_grad, dw_val, uniform_init, 3, 0.02, 0, seed=0)
    assert type(best_w) is float


# ---------------------------------------------------------------------------------------------
# relu_fit
# ---------------------------------------------------------------------------------------------


def test_relu_and_model() -> None:
    assert relu(-2.0) == 0.0 and relu(3.5) == 3.5 and isinstance(relu(1.0), float)
    np.testing.assert_array_equal(relu([-1.0, 0.0, 2.0]), [0.0, 0.0, 2.0])
    x = np.array([-1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(relu_model(x, 2.0, -1.0), np.maximum(2.0 * x - 1.0, 0.0))
    y = np.array([0.5, 0.0, 2.0, 2.0])
    assert relu_loss(np.array([2.0, -1.0]), x, y) == pytest.approx(
        np.sum((np.maximum(2 * x - 1, 0) - y) ** 2)
    )


def test_relu_loss_grad_against_central_differences() -> None:
    rng = np.random.default_rng(10)
    x = rng.uniform(-2.0, 2.0, 40)
    y = np.maximum(1.5 * x - 0.3, 0.0) + 0.1 * rng.normal(size=40)
    checked = 0
    while checked < 6:
        params = rng.normal(size=2) * np.array([2.0, 1.0])
        if np.min(np.abs(params[0] * x + params[1])) < 1e-3:
            continue  # too close to the kink for a finite difference to mean anything
        err, allowed = directional_gradient_error(
            lambda p: relu_loss(p, x, y), lambda p: relu_loss_grad(p, x, y), params, rng
        )
        assert err <= allowed, (params, err, allowed)
        checked += 1


def test_relu_grad_uses_zero_derivative_at_the_kink() -> None:
    x = np.array([0.5, 1.0, 2.0, -1.0])
    y = np.array([1.0, 0.3, 2.0, 0.7])
    params = np.array([2.0, -2.0])  # the point x = 1 sits exactly on the kink
    assert params[0] * x[1] + params[1] == 0.0
    keep = np.array([True, False, True, True])
    np.testing.assert_array_equal(relu_loss_grad(params, x, y), relu_loss_grad(params, x[keep], y[keep]))


def test_fit_relu_recovers_the_generating_parameters() -> None:
    rng = np.random.default_rng(11)
    m_true, b_true = 2.0, -1.0
    x = rng.uniform(-2.0, 2.0, 60)
    y = np.maximum(m_true * x + b_true, 0.0)
    params0 = np.array([0.5, 0.5])
    # Once the active set settles the loss is least squares on it, whose curvature is bounded by
    # that of all points: lr = 1/L is stable, and the slowest mode contracts by 1 - lr * mu_active.
    design = np.column_stack([x, np.ones_like(x)])
    L = float(np.linalg.eigvalsh(2.0 * design.T @ design).max())
    active = m_true * x + b_true > 0
    mu = float(np.linalg.eigvalsh(2.0 * design[active].T @ design[active]).min())
    lr = 1.0 / L
    n_iters = int(np.ceil(40.0 * L / mu))
    assert n_iters < 5000

    params, losses = fit_relu(x, y, lr, n_iters, params0)
    np.testing.assert_array_equal(params0, [0.5, 0.5])
    assert len(losses) == n_iters + 1 and losses[0] == relu_loss(params0, x, y)
    assert np.all(np.diff(losses) <= 1e-12)
    np.testing.assert_allclose(params, [m_true, b_true], atol=1e-6)

    # With noise, the fixed point is least squares on the points the fitted unit keeps active.
    y_noisy = y + 0.05 * rng.normal(size=60)
    fitted, _ = fit_relu(x, y_noisy, lr, n_iters, params0)
    active = fitted[0] * x + fitted[1] > 0
    design = np.column_stack([x[active], np.ones(active.sum())])
    lstsq = np.linalg.lstsq(design, y_noisy[active], rcond=None)[0]
    np.testing.assert_allclose(fitted, lstsq, atol=1e-6)
    np.testing.assert_allclose(relu_loss_grad(fitted, x, y_noisy), 0.0, atol=1e-6)


def test_fit_relu_is_plain_gradient_descent() -> None:
    rng = np.random.default_rng(12)
    x = rng.uniform(-2.0, 2.0, 15)
    y = np.maximum(x + 0.5, 0.0)
    params0 = [1.0, 0.2]
    params, losses = fit_relu(x, y, 0.01, 7, params0)
    manual = np.array(params0)
    expected = [relu_loss(manual, x, y)]
    for _ in range(7):
        manual = manual - 0.01 * relu_loss_grad(manual, x, y)
        expected.append(relu_loss(manual, x, y))
    np.testing.assert_allclose(params, manual, rtol=1e-14)
    np.testing.assert_allclose(losses, expected, rtol=1e-14)
    assert params0 == [1.0, 0.2]
