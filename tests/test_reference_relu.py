"""Properties of ``reference.relu_fit`` that the relu-fit hidden suite relies on, beyond test_reference.py.

test_reference.py checks the gradient against central differences and convergence to the generating
unit. The hidden suite also trusts that (1) with targets y >= 0 every step with lr < 2/L lowers the
loss and (2) gradient descent from a start where every point is active recovers the generating unit.
(The helpers it swaps in for a student's own are these reference functions, called back in the grader.)
Expected values are computed here, never written down.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference.relu_fit import fit_relu, relu_loss_grad, relu_model

pytestmark = pytest.mark.filterwarnings("error")


def curvature(x: np.ndarray) -> float:
    design = np.column_stack([x, np.ones_like(x)])
    return float(np.linalg.eigvalsh(2.0 * design.T @ design).max())


@pytest.mark.parametrize("seed", range(20))
def test_losses_never_increase_below_two_over_L_for_nonnegative_targets(seed: int) -> None:
    # Each term (relu(z) - y)^2 with y >= 0 lies below its quadratic upper bound with curvature 2 in z
    # (its kink is concave), so the descent lemma holds with L = lambda_max(2 D^T D).
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, 50)
    y = np.maximum(relu_model(x, rng.normal(), rng.normal()) + 0.3 * rng.normal(size=50), 0.0)
    _, losses = fit_relu(x, y, 1.95 / curvature(x), 300, rng.normal(size=2))
    losses = np.asarray(losses)
    assert np.all(losses[1:] <= losses[:-1] * (1 + 1e-12) + 1e-15)


def test_a_negative_target_can_make_a_step_go_uphill() -> None:
    # Why the suite clips its noisy targets at 0: with y < 0 a step can cross a convex kink uphill.
    x = np.array([1.0, 0.0])
    y = np.array([3.0, -2.0])
    params0 = np.array([1.0, -0.5])  # z = [0.5, -0.5]: the point with the negative target is inactive
    lr = 1.9 / curvature(x)
    _, losses = fit_relu(x, y, lr, 1, params0)
    stepped = params0 - lr * relu_loss_grad(params0, x, y)
    assert stepped[0] * x[1] + stepped[1] > 0, "the step should wake the point with the negative target"
    assert losses[1] > losses[0]


def test_fit_from_an_all_active_start_recovers_the_generating_unit() -> None:
    rng = np.random.default_rng(41)
    truth = np.array([1.5, -0.5])
    x = rng.uniform(-2.0, 2.0, 40)
    y = relu_model(x, *truth)
    start = np.array([0.0, 1.0])
    assert np.all(start[0] * x + start[1] > 0)
    active = truth[0] * x + truth[1] > 0
    design = np.column_stack([x[active], np.ones(active.sum())])
    mu = float(np.linalg.eigvalsh(2.0 * design.T @ design).min())
    L = curvature(x)
    params, losses = fit_relu(x, y, 1.0 / L, int(np.ceil(40.0 * L / mu)), start)
    np.testing.assert_allclose(params, truth, rtol=0, atol=1e-9)
    assert losses[-1] < 1e-15 and np.all(np.diff(losses) <= 1e-12)
