"""Hidden suite: relu, relu_loss, relu_loss_grad and fit_relu.

Expected values come from ``reference.relu_fit`` at test time. Every function that may call another
graded function is graded with the reference versions swapped in for those: the loss and its
gradient with the reference ``relu``, ``fit_relu`` with the reference ``relu``, loss and gradient
(and, only if a check fails that way, once more with the notebook's own; see ``EitherWay``). So a
bug costs the points of the function that has it and no others. The reference versions run here, in
the grader (the worker calls them back), so no answer ever enters the student's process.

The derivative of relu at exactly 0 is a convention (the contract says 0), not something a
finite difference can check: every gradient check here keeps every pre-activation ``m x + b`` at
least ``MARGIN`` away from the kink, and no test depends on the convention.
"""

import numpy as np
import pytest

from autograder import checks
from autograder.grader.once_per_process import remembered
from autograder.grader.session import SubmissionFault
from reference import relu_fit as reference

# The reference's answers on the grader's own problems are the same for every submission: computed once
# per grading process (for plain-data arguments only; see autograder.grader.once_per_process).
reference_fit = remembered(reference.fit_relu)


# Every |m x_k + b| in a gradient check is at least this: central differences (steps of about
# 1e-5, or points moved by about 1e-3 when a failure is confirmed) never straddle the kink.
MARGIN = 0.1

# The unit that generates the convergence data: relu(1.5 x - 0.5), inactive for x < 1/3.
TRUTH = np.array([1.5, -0.5])
# The unit the convergence test recovers: its kink at x = -1 leaves 8 of the 40 points inactive, and
# the active ones are well conditioned (L/mu about 4.5), so 25 L/mu steps are about 115, each a call
# back into the grader (TRUTH would need about 800).
CONVERGENCE_TRUTH = np.array([1.0, 1.0])

# A start where m x + b = 1 > 0 for every x: every point is active.
ALL_ACTIVE_START = np.array([0.0, 1.0])


# ----------------------------------------------------------------------------------------- data
def kinked_problem(seed: int, n: int):
    """Data x, y and a point params = [m, b] whose kink lies inside the data, both sides populated,
    with every pre-activation at least MARGIN away from zero."""
    rng = np.random.default_rng(seed)
    kink = rng.uniform(-1.5, 1.5)
    m = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 2.0)
    params = np.array([m, -m * kink])
    x = rng.uniform(-3.0, 3.0, n)
    x = x[np.abs(params[0] * x + params[1]) >= MARGIN]
    y = reference.relu_model(x, 1.2, -0.3) + 0.3 * rng.standard_normal(x.size)
    return x, y, params


def dead_problem(seed: int, n: int = 20):
    """Data x in [-3, 3] and params = [0.5, -2], for which m x + b <= -0.5: every point is inactive."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, n)
    y = rng.uniform(0.0, 2.0, n)
    return x, y, np.array([0.5, -2.0])


def generated_problem(seed: int, n: int, noise: float, truth=TRUTH):
    """x uniform in [-2, 2] and y = relu(m x + b) for [m, b] = truth (default [1.5, -0.5]) plus
    Gaussian noise of the given size, clipped at 0.

    With targets y >= 0 every kink of the loss is concave (the slope drops there), so each term stays
    below its quadratic upper bound and every step with lr < 2/L decreases the loss; a negative
    target would make a convex kink that a step can jump over uphill.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, n)
    y = np.maximum(reference.relu_model(x, *truth) + noise * rng.standard_normal(n), 0.0)
    return x, y


def curvature(x) -> float:
    """L = the largest eigenvalue of 2 D^T D with D = [x, 1]: no active set curves the loss more."""
    design = np.column_stack([x, np.ones_like(x)])
    return float(np.linalg.eigvalsh(2.0 * design.T @ design).max())


def describe(x, params) -> str:
    z = params[0] * np.asarray(x) + params[1]
    return (f"{z.size} points, {int((z > 0).sum())} of them active (m x + b > 0), at [m, b] = "
            f"[{params[0]:.4g}, {params[1]:.4g}]")


def fit_result(result, what: str):
    """The (params, losses) pair fit_relu returns, params as a (2,) array, or a failure that says why not."""
    if not (isinstance(result, tuple | list) and len(result) == 2):
        shown = repr(result) if len(repr(result)) <= 120 else repr(result)[:117] + "..."
        raise AssertionError(f"{what} returned {shown}; expected a pair (params, losses).")
    params, losses = result
    return checks.as_array(params, f"the params returned by {what}", shape=(2,)), losses


# ------------------------------------------------------------------------------------- fixtures
class EitherWay:
    """Runs a check on the student's function with the reference helpers swapped in and, only if
    that fails, once more with the notebook's own helpers.

    The swap keeps a bug in a helper (the student's relu, loss or gradient) from costing the function
    under test its points. The second attempt keeps the swap from costing points where the notebook's
    function meets the contract only together with the notebook's own helpers (a fit_relu that adds
    its gradient because that gradient's sign is flipped, or a relu with an extra argument that the
    gradient calls): the function returns what the contract asks for, and the helper's bug is charged
    to the helper. A check that fails both ways reports the failure with the reference helpers.
    """

    def __init__(self, isolated, own) -> None:
        self.isolated = isolated
        self.own = own

    def check(self, check) -> None:
        try:
            check(self.isolated)
        except (AssertionError, SubmissionFault) as first:
            try:
                check(self.own)
            except (AssertionError, SubmissionFault):
                raise first from None


@pytest.fixture
def stable_relu(submission):
    """The loss and gradient, graded with the reference relu in place of the student's."""
    return EitherWay(submission.with_reference(relu=reference.relu), submission)


@pytest.fixture
def isolated_fit(submission):
    """fit_relu, graded with the reference relu, loss and gradient in place of the student's."""
    return EitherWay(submission.with_reference(relu=reference.relu,
                                               relu_loss=reference.relu_loss,
                                               relu_loss_grad=reference.relu_loss_grad),
                     submission)


# -------------------------------------------------------------------------------------------- relu
@pytest.mark.graded("relu", points=1, states=[
    "Write `relu(z)`, returning $\\max(z, 0)$ elementwise for a float or a 1-D numpy array `z`",
    "Return ``max(z, 0)`` elementwise"])
def test_relu_values(submission):
    """computes max(z, 0) elementwise"""
    rng = np.random.default_rng(1)
    z = np.concatenate([[-2.0, -0.5, 0.0, 0.5, 3.0], 3.0 * rng.standard_normal(15)])
    checks.assert_close(submission.relu(z), reference.relu(z), "relu(z)", rtol=1e-12, atol=0.0,
                        inputs=f"a vector z of 20 values between {z.min():.3g} and {z.max():.3g}")


@pytest.mark.graded("relu", points=0.5, states=["return a float for a float.", "a float for a float ``z``."])
def test_relu_scalars(submission):
    """works for a single float, and returns a float"""
    for z in (-1.5, 0.0, 2.25):
        got = checks.assert_float(submission.relu(z), f"relu({z})")
        checks.assert_close(got, reference.relu(z), f"relu({z})", rtol=1e-12, atol=0.0)


@pytest.mark.graded("relu", points=0.5, visibility="hidden", states=[
    "Return a new value: do not change `z` (no `z[z < 0] = 0`).",
    "as a new value"])
def test_relu_leaves_z_unchanged(submission):
    """returns a new array and leaves z unchanged"""
    z = np.array([-1.0, 2.0, -3.0, 0.5])
    got = submission.relu(z)
    mutated = submission.last_call.mutated
    assert not mutated, (f"relu changed its argument {', '.join(mutated)} in place (for example with "
                         "z[z < 0] = 0); return a new array instead (np.maximum(z, 0), say).")
    checks.assert_close(got, reference.relu(z), "relu(z)", rtol=0.0, atol=0.0)  # the points go with the value


# --------------------------------------------------------------------------------------- relu_loss
@pytest.mark.graded("relu_loss", points=0.5, states=[
    "Write `relu_loss(params, x, y)`, returning the float",
    "where `params` is `[m, b]`",
    "`x`, `y` are 1-D arrays of the same length.",
    "It is a sum over the points, not a mean.",
    "Return ``sum_k (relu(m x_k + b) - y_k)^2`` with ``params = [m, b]``."])
@pytest.mark.parametrize("seed, n", [(11, 25), (12, 60)], ids=["n=25", "n=60"])
def test_loss_values(stable_relu, seed, n):
    """computes sum_k (relu(m x_k + b) - y_k)^2 with params = [m, b]"""
    x, y, params = kinked_problem(seed, n)
    expected = reference.relu_loss(params, x, y)

    def check(sub):
        got = checks.as_float(sub.relu_loss(params, x, y), "relu_loss(params, x, y)")
        checks.assert_close(got, expected, "relu_loss(params, x, y)", rtol=1e-10,
                            inputs=describe(x, params) + " (a sum over the points, not a mean)")

    stable_relu.check(check)


@pytest.mark.graded("relu_loss", points=0.5, states=["returning the float", "(a numpy array or a list)"])
def test_loss_is_a_float_and_takes_a_list(stable_relu):
    """returns a float, with params given as a numpy array or a list"""
    x, y, params = kinked_problem(26, 20)
    expected = reference.relu_loss(params, x, y)

    def check(sub):
        for given, kind in ((params, "a numpy array"), ([float(params[0]), float(params[1])], "a list")):
            got = checks.assert_float(sub.relu_loss(given, x, y), f"relu_loss(params, x, y) with params {kind}")
            checks.assert_close(got, expected, f"relu_loss(params, x, y) with params {kind}", rtol=1e-10)

    stable_relu.check(check)


@pytest.mark.graded("relu_loss", points=0.5, states=[
    "returning the float $\\mathcal{L} = \\sum_k \\big(\\operatorname{ReLU}(m x_k + b) - y_k\\big)^2$"])
def test_loss_of_a_dead_unit(stable_relu):
    """equals sum(y**2) when every point is inactive (the unit predicts 0 everywhere)"""
    x, y, params = dead_problem(13)
    expected = reference.relu_loss(params, x, y)

    def check(sub):
        got = checks.as_float(sub.relu_loss(params, x, y), "relu_loss(params, x, y)")
        checks.assert_close(got, expected, "relu_loss(params, x, y)", rtol=1e-10,
                            inputs=describe(x, params) + "; relu(m x + b) is 0 for every point")

    stable_relu.check(check)


# ---------------------------------------------------------------------------------- relu_loss_grad
@pytest.mark.graded("relu_loss_grad", points=0.75, states=[
    "Write `relu_loss_grad(params, x, y)`, returning the numpy array"])
@pytest.mark.parametrize("seed, n", [(21, 30), (22, 80)], ids=["n=30", "n=80"])
def test_grad_matches_finite_differences(stable_relu, seed, n):
    """is the derivative of the loss (checked by finite differences, slope and intercept apart)"""
    x, y, params = kinked_problem(seed, n)

    def check(sub):
        # Differences of OUR loss: a wrong loss with a matching wrong gradient must still fail.
        checks.check_gradient(lambda p: reference.relu_loss(p, x, y),
                              lambda p: sub.relu_loss_grad(p, x, y), params,
                              rng=np.random.default_rng(seed + 100), what="relu_loss_grad(params, x, y)",
                              blocks={"slope m": [0], "intercept b": [1]})

    stable_relu.check(check)


@pytest.mark.graded("relu_loss_grad", points=0.5, visibility="after_due_date", states=[
    "Do not forget the factor 2, and do not divide by the number of points: the loss is a sum.",
    "Return ``[dL/dm, dL/db]`` of ``relu_loss``"])
def test_grad_values(stable_relu):
    """equals [2 sum r_k [z_k > 0] x_k, 2 sum r_k [z_k > 0]] with z = m x + b, r = relu(z) - y"""
    x, y, params = kinked_problem(23, 45)
    expected = reference.relu_loss_grad(params, x, y)

    def check(sub):
        checks.assert_close(sub.relu_loss_grad(params, x, y), expected, "relu_loss_grad(params, x, y)",
                            rtol=1e-8, atol=1e-12 * (1.0 + np.abs(x).sum()), inputs=describe(x, params))

    stable_relu.check(check)


@pytest.mark.graded("relu_loss_grad", points=0.5, states=[
    "if every point becomes inactive, the gradient is exactly zero and the unit never moves again"])
def test_grad_of_a_dead_unit(stable_relu):
    """is zero when every point is inactive, and only active points count otherwise (relu has slope 0 for z < 0)"""
    x, y, params = dead_problem(24)
    expected = reference.relu_loss_grad(params, x, y)
    x_mixed, y_mixed, params_mixed = kinked_problem(25, 40)  # some points on each side of the kink
    expected_mixed = reference.relu_loss_grad(params_mixed, x_mixed, y_mixed)

    def check(sub):
        checks.assert_close(sub.relu_loss_grad(params, x, y), expected, "relu_loss_grad(params, x, y)",
                            rtol=0.0, atol=1e-12, inputs=describe(x, params) + "; no point passes a gradient back")
        checks.assert_close(sub.relu_loss_grad(params_mixed, x_mixed, y_mixed), expected_mixed,
                            "relu_loss_grad(params, x, y)", rtol=1e-8, atol=1e-12 * (1.0 + np.abs(x_mixed).sum()),
                            inputs=describe(x_mixed, params_mixed) + "; only the active points pass a gradient back")

    stable_relu.check(check)


@pytest.mark.graded("relu_loss_grad", points=0.5, states=[
    "with $\\operatorname{ReLU}'(z) = 1$ for $z > 0$ and $0$ otherwise (including $z = 0$).",
    "taking ``relu'(0) = 0``."])
def test_grad_at_the_kink(stable_relu):
    """takes relu'(0) = 0: a point exactly at the kink (m x + b = 0) passes no gradient back"""
    params = np.array([2.0, -1.0])
    x = np.array([0.5, 1.0, 2.0, 0.0, -1.0, 0.5])  # z = [0, 1, 3, -1, -3, 0]: exact in binary
    y = np.array([1.5, 0.5, 2.0, 0.25, 1.0, -0.75])
    expected = reference.relu_loss_grad(params, x, y)

    def check(sub):
        checks.assert_close(sub.relu_loss_grad(params, x, y), expected, "relu_loss_grad(params, x, y)", rtol=1e-12,
                            inputs=describe(x, params) + ", two of them exactly at the kink z = 0 (inactive there)")

    stable_relu.check(check)


# ---------------------------------------------------------------------------------------- fit_relu
@pytest.mark.graded("fit_relu", points=1, states=[
    "which starts from `params0` (a numpy array `[m, b]`), takes exactly `n_iters` gradient-descent steps `params "
    "= params - lr * relu_loss_grad(params, x, y)` (no early stop)"])
def test_fit_reaches_the_generating_unit(isolated_fit):
    """recovers [m, b] from noiseless data generated by relu(m x + b), starting with every point active"""
    truth = CONVERGENCE_TRUTH
    x, y = generated_problem(41, 40, noise=0.0, truth=truth)
    L = curvature(x)
    # Near the optimum the loss is least squares on the truly active points, whose smallest
    # curvature mu sets the rate: the error shrinks at least by 1 - mu / L per step with lr = 1/L, so
    # 25 L/mu steps shrink it by e^-25, about 1e-11. (Every step calls the reference gradient and loss
    # back in the grader.)
    active = truth[0] * x + truth[1] > 0
    design = np.column_stack([x[active], np.ones(active.sum())])
    mu = float(np.linalg.eigvalsh(2.0 * design.T @ design).min())
    lr, n_iters = 1.0 / L, int(np.ceil(25.0 * L / mu))
    what = f"fit_relu(x, y, lr=1/L, n_iters={n_iters}, params0=[0, 1])"

    def check(sub):
        params, losses = fit_result(sub.fit_relu(x, y, lr, n_iters, ALL_ACTIVE_START.copy()), what)
        checks.assert_close(params, truth, f"the params returned by {what}", rtol=0.0, atol=1e-7,
                            inputs=f"40 points y = relu({truth[0]:g} x {truth[1]:+g}) without noise, so the "
                                   f"optimum is [{truth[0]:g}, {truth[1]:g}] with loss 0")
        losses = checks.assert_losses_list(losses, f"the losses returned by {what}", length=n_iters + 1)
        checks.assert_close(losses[0], reference.relu_loss(ALL_ACTIVE_START, x, y),
                            f"losses[0] of {what} (the loss at params0)", rtol=1e-10)
        checks.assert_close(losses[-1], reference.relu_loss(truth, x, y), f"the last loss of {what}",
                            rtol=0.0, atol=1e-10)

    isolated_fit.check(check)


@pytest.mark.graded("fit_relu", points=0.5, states=[
    "takes exactly `n_iters` gradient-descent steps",
    "`losses` is a list of `n_iters + 1` floats: the loss at `params0`, then the loss after each step;",
    "Take ``n_iters`` gradient steps on ``relu_loss`` from ``params0``; return ``(params, losses)``.",
    "``losses[0]`` is the loss at ``params0``, then one loss per step."])
@pytest.mark.parametrize("n_iters", [0, 7])
def test_fit_takes_exactly_n_iters_steps(isolated_fit, n_iters):
    """takes exactly n_iters steps params - lr * grad from params0 and returns n_iters + 1 losses"""
    x, y = generated_problem(42, 30, noise=0.2)
    params0 = np.array([0.8, 0.3])  # active for x > -0.375 only
    lr = 0.5 / curvature(x)
    expected_params, expected_losses = reference_fit(x, y, lr, n_iters, params0)
    what = f"fit_relu(x, y, lr, n_iters={n_iters}, params0=[0.8, 0.3])"

    def check(sub):
        params, losses = fit_result(sub.fit_relu(x, y, lr, n_iters, params0.copy()), what)
        losses = checks.assert_losses_list(losses, f"the losses returned by {what}", length=n_iters + 1)
        checks.assert_close(losses[0], reference.relu_loss(params0, x, y),
                            f"losses[0] of {what} (the loss at params0, before any step)", rtol=1e-10)
        checks.assert_close(params, expected_params, f"the params returned by {what}", rtol=1e-10, atol=1e-12,
                            inputs=f"lr = 0.5/L = {lr:.4g}, {n_iters} gradient steps from params0")
        checks.assert_close(losses, expected_losses, f"the losses returned by {what}", rtol=1e-10,
                            inputs="losses[t] = relu_loss after t steps")

    isolated_fit.check(check)


@pytest.mark.graded("fit_relu", points=0.5, visibility="after_due_date", states=[
    "takes exactly `n_iters` gradient-descent steps `params = params - lr * relu_loss_grad(params, x, y)`"])
def test_fit_losses_never_increase(isolated_fit):
    """never increases the loss for lr < 2/L on noisy data (targets >= 0), starting with every point active"""
    x, y = generated_problem(43, 50, noise=0.1)
    lr, n_iters = 1.9 / curvature(x), 300
    _, expected_losses = reference_fit(x, y, lr, n_iters, ALL_ACTIVE_START)
    what = f"fit_relu(x, y, lr=1.9/L, n_iters={n_iters}, params0=[0, 1])"

    def check(sub):
        _, losses = fit_result(sub.fit_relu(x, y, lr, n_iters, ALL_ACTIVE_START.copy()), what)
        losses = checks.assert_losses_list(losses, f"the losses returned by {what}", length=n_iters + 1)
        checks.assert_nonincreasing(losses, what)
        checks.assert_close(losses, expected_losses, f"the losses returned by {what}", rtol=1e-8, atol=1e-12)

    isolated_fit.check(check)


@pytest.mark.graded("fit_relu", points=0.5, states=[
    "`params` is the numpy array `[m, b]` after the last step;",
    "`losses` is a list of `n_iters + 1` floats"])
def test_fit_returns_an_array_and_a_list_of_floats(isolated_fit):
    """returns params as a numpy array and losses as a list of floats"""
    x, y = generated_problem(45, 20, noise=0.2)
    params0 = np.array([0.9, 0.2])
    what = "fit_relu(x, y, 0.01, 4, params0)"
    expected_params, expected_losses = reference_fit(x, y, 0.01, 4, params0)

    def check(sub):
        result = sub.fit_relu(x, y, 0.01, 4, params0.copy())
        params, losses = fit_result(result, what)
        assert isinstance(result[0], np.ndarray), (f"{what} returned params as a {type(result[0]).__name__}; they "
                                                   "should be the numpy array [m, b].")
        checks.assert_close(params, expected_params, f"the params returned by {what}", rtol=1e-10)
        checks.assert_close(checks.assert_list_of_floats(losses, f"the losses returned by {what}"), expected_losses,
                            f"the losses returned by {what}", rtol=1e-10)

    isolated_fit.check(check)


@pytest.mark.graded("fit_relu", points=0.5, states=[
    "`params0` must be unchanged afterwards: work on a copy (`np.array(params0, dtype=float)`), or write `params = "
    "params - ...` rather than `params -= ...`.",
    "``params0`` is not modified."])
def test_fit_leaves_inputs_unchanged(isolated_fit):
    """leaves params0 unchanged"""
    x, y = generated_problem(44, 20, noise=0.2)
    params0 = np.array([0.7, 0.4])
    what = "fit_relu(x, y, 0.01, 5, params0)"
    expected_params, expected_losses = reference_fit(x, y, 0.01, 5, params0)

    def check(sub):
        params, losses = fit_result(sub.fit_relu(x, y, 0.01, 5, params0.copy()), what)
        mutated = sub.last_call.mutated_among(4, "params0")
        assert not mutated, (f"fit_relu changed its argument {', '.join(mutated)} in place; copy params0 first "
                             "(params = np.array(params0, dtype=float)) or write params = params - lr * g "
                             "rather than params -= lr * g.")
        # The points go with the values: returning params0 untouched without fitting earns nothing.
        checks.assert_close(params, expected_params, f"the params returned by {what}", rtol=1e-10)
        checks.assert_close(losses, expected_losses, f"the losses returned by {what}", rtol=1e-10)

    isolated_fit.check(check)
