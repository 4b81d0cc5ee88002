"""Hidden suite: sigmoid, logistic_loss, logistic_loss_grad, numerical_gradient and fit_logistic.

Expected values come from ``reference.logistic_loss`` at test time (the optimum of logistic
regression from its Newton solver). Every function that may call another graded function is graded
with the reference versions swapped in for those: the loss and its gradient with the reference
``sigmoid``, ``fit_logistic`` with the reference sigmoid, loss and gradient (and, only if a check
fails that way, once more with the notebook's own; see ``EitherWay``). So a bug costs the points of
the function that has it and no others. The reference versions run here, in the grader (the worker
calls them back), so no answer ever enters the student's process.
"""

import functools

import numpy as np
import pytest

from autograder import checks
from autograder.grader.once_per_process import remembered
from autograder.grader.session import SubmissionFault
from reference import logistic_loss as reference

# The reference's answers on the grader's own problems are the same for every submission: computed once
# per grading process (for plain-data arguments only; see autograder.grader.once_per_process).
reference_fit = remembered(reference.fit_logistic)
reference_optimum = remembered(reference.logistic_optimum)


EPS = np.finfo(float).eps


# ----------------------------------------------------------------------------------------- data
def classification_problem(seed: int, n: int, d: int, scale: float = 1.0):
    """Features, an intercept column of ones (the last column), 0/1 labels and a random point W."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.standard_normal((n, d - 1)), np.ones(n)])
    y = rng.integers(0, 2, n).astype(float)
    W = scale * rng.standard_normal(d)
    return X, y, W


def saturated_problem(seed: int, labels: str):
    """A problem where |X @ W| reaches exactly 1000, most points lying far from the boundary.

    With ``labels="mixed"`` about half of the points are misclassified with large margins (their
    loss is about |z|, where naive formulas give inf or nan); with ``labels="mostly right"`` all
    but four points are classified correctly with large margins, so their loss terms are tiny.
    """
    rng = np.random.default_rng(seed)
    n = 40
    X = np.column_stack([rng.standard_normal((n, 2)), np.ones(n)])
    W = rng.standard_normal(3)
    z = X @ W
    W = W * (1000.0 / np.abs(z).max())
    z = X @ W
    if labels == "mixed":
        y = rng.integers(0, 2, n).astype(float)
    else:
        y = (z > 0).astype(float)
        flipped = rng.choice(n, 4, replace=False)
        y[flipped] = 1.0 - y[flipped]
    return X, y, W


CORRELATED = np.array([[1.0, 0.6, 0.0], [0.0, 0.8, 0.5], [0.0, 0.0, 2.0]])
# Less correlated: the convergence run needs 25 L/mu steps, each a call back into the grader, and
# L/mu is about 9 with these features against 32 with CORRELATED.
MILDLY_CORRELATED = np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 1.2]])


def fitting_problem(seed: int, n: int = 120, mixing=CORRELATED):
    """Correlated features plus an intercept, labels drawn from a logistic model: not separable."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.standard_normal((n, 3)) @ mixing, np.ones(n)])
    y = (rng.random(n) < reference.sigmoid(X @ np.array([1.2, -0.8, 0.5, 0.4]))).astype(float)
    return X, y


def smoothness(X) -> float:
    """L = largest eigenvalue of X^T X / 4, the Lipschitz constant of the loss's gradient."""
    return float(np.linalg.eigvalsh(X.T @ X).max() / 4.0)


def fit_result(result, what: str, d: int):
    """The (W, losses) pair fit_logistic returns, W as a (d,) array, or a failure that says why not."""
    if not (isinstance(result, tuple | list) and len(result) == 2):
        shown = repr(result) if len(repr(result)) <= 120 else repr(result)[:117] + "..."
        raise AssertionError(f"{what} returned {shown}; expected a pair (W, losses).")
    W, losses = result
    return checks.as_array(W, f"the W returned by {what}", shape=(d,)), losses


def describe_z(X, W) -> str:
    z = X @ W
    return f"n = {X.shape[0]}, d = {X.shape[1]}, |X @ W| between {np.abs(z).min():.3g} and {np.abs(z).max():.4g}"


# ------------------------------------------------------------------------------------- fixtures
class EitherWay:
    """Runs a check on the student's function with the reference helpers swapped in and, only if
    that fails, once more with the notebook's own helpers.

    The swap keeps a bug in a helper (the student's sigmoid, loss or gradient) from costing the
    function under test its points. The second attempt keeps the swap from costing points where the
    notebook's function meets the contract only together with the notebook's own helpers (a
    fit_logistic that adds its gradient because that gradient's sign is flipped, say): the function
    returns what the contract asks for, and the helper's bug is charged to the helper. A check that
    fails both ways reports the failure with the stable helpers, which points at the function itself.
    """

    def __init__(self, isolated, own, feedback) -> None:
        self.isolated = isolated
        self.own = own
        self.feedback = feedback

    def check(self, check) -> None:
        try:
            check(self.isolated)
        except (AssertionError, SubmissionFault) as first:
            plots = self.feedback.snapshot()
            try:
                check(self.own)
            except (AssertionError, SubmissionFault):
                self.feedback.restore(plots)  # the plots of the attempt whose failure is reported
                raise first from None


@pytest.fixture
def stable_sigmoid(submission, feedback):
    """The loss and gradient, graded with the reference sigmoid in place of the student's."""
    return EitherWay(submission.with_reference(sigmoid=reference.sigmoid), submission, feedback)


@pytest.fixture
def isolated_fit(submission, feedback):
    """fit_logistic, graded with the reference sigmoid, loss and gradient in place of the student's."""
    return EitherWay(submission.with_reference(sigmoid=reference.sigmoid,
                                               logistic_loss=reference.logistic_loss,
                                               logistic_loss_grad=reference.logistic_loss_grad),
                     submission, feedback)


# ----------------------------------------------------------------------------------------- sigmoid
@pytest.mark.graded("sigmoid", points=1, states=[
    "Write `sigmoid(z)`, returning $1 / (1 + e^{-z})$ elementwise for a float or an array.",
    "Return ``1 / (1 + exp(-z))`` elementwise"])
def test_sigmoid_values(submission):
    """computes 1 / (1 + exp(-z)) elementwise"""
    rng = np.random.default_rng(1)
    z = np.concatenate([[0.0, 1.0, -1.0, 3.5, -3.5], 4.0 * rng.standard_normal(15)])
    got = submission.sigmoid(z)
    checks.assert_close(got, reference.sigmoid(z), "sigmoid(z)", rtol=1e-6, atol=1e-12,
                        inputs=f"a vector z of 20 values between {z.min():.3g} and {z.max():.3g}")


@pytest.mark.graded("sigmoid", points=1, states=[
    "It must not overflow (or warn) for any finite `z`, e.g. `z = -1000`.",
    "Never overflows."])
def test_sigmoid_stable_for_large_inputs(submission):
    """stays finite and correct in [0, 1] for |z| up to 1000"""
    rng = np.random.default_rng(2)
    special = [1000.0, -1000.0, 745.0, -745.0, 710.0, -710.0, 100.0, -100.0, 40.0, -40.0, 0.0]
    z = np.concatenate([special, rng.choice([-1.0, 1.0], 13) * np.geomspace(1.0, 999.0, 13)])
    got = checks.as_array(submission.sigmoid(z), "sigmoid(z)", shape=z.shape)
    bad = np.flatnonzero(~np.isfinite(got) | (got < 0) | (got > 1))
    assert bad.size == 0, (
        f"sigmoid(z) returned {got[bad[0]]} for z = {z[bad[0]]:g} ({bad.size} of {z.size} values are not "
        "finite numbers in [0, 1]); exp of a large number overflows to inf, so compute the sigmoid in a "
        "form that only exponentiates -|z| (or one where an overflow gives the right limit, 0 or 1).")
    checks.assert_close(got, reference.sigmoid(z), "sigmoid(z)", rtol=1e-6, atol=1e-12,
                        inputs="z between -1000 and 1000")
    warned = submission.last_call.warnings
    assert not warned, (f"sigmoid(z) for z between -1000 and 1000 gave the warning {warned[0]!r}; it must not overflow "
                        "or warn for any finite z (exponentiate -|z| only).")


@pytest.mark.graded("sigmoid", points=0.5, states=["returning $1 / (1 + e^{-z})$ elementwise"])
def test_sigmoid_accurate_far_out(submission):
    """stays accurate, not just finite, far out: sigmoid(-40) is about 4.2e-18, not 0"""
    z = np.array([-40.0, -60.0, -100.0, -300.0, -700.0, 40.0, 60.0])
    got = checks.as_array(submission.sigmoid(z), "sigmoid(z)", shape=z.shape)
    checks.assert_close(got, reference.sigmoid(z), "sigmoid(z)", rtol=1e-6, atol=1e-300,
                        inputs="z far below 0, where 1 - 1 / (1 + e^z) cancels to 0 but e^z / (1 + e^z) does not")


@pytest.mark.graded("sigmoid", points=0.5, states=[
    "Return a float for a scalar input.",
    "a float for scalar ``z``.",
    "for a float or an array."])
def test_sigmoid_types(submission):
    """returns a float for a scalar input, and floats for an integer array"""
    for z in (0.5, -2.0, 3):
        got = checks.assert_float(submission.sigmoid(z), f"sigmoid({z!r})")
        checks.assert_close(got, reference.sigmoid(z), f"sigmoid({z!r})", rtol=1e-12)
    z = np.array([0, 1, -2, 3])
    checks.assert_close(submission.sigmoid(z), reference.sigmoid(z), "sigmoid(z) for the integer array [0, 1, -2, 3]",
                        rtol=1e-12, inputs="an array of integers (the result holds floats, not 0 and 1)")


# ----------------------------------------------------------------------------------- logistic_loss
@pytest.mark.graded("logistic_loss", points=0.5, states=[
    "Write `logistic_loss(W, X, y)`, returning the float $\\mathcal{L} = -\\sum_i \\big[y_i \\log p_i + (1 - "
    "y_i)\\log(1 - p_i)\\big]$ with $p = \\sigma(XW)$.",
    "Return ``sum_i -[y_i log p_i + (1 - y_i) log(1 - p_i)]`` with ``p = sigmoid(X @ W)``."])
@pytest.mark.parametrize("seed, n, d", [(11, 25, 3), (12, 60, 5)], ids=["n=25,d=3", "n=60,d=5"])
def test_loss_values(stable_sigmoid, seed, n, d):
    """computes sum_i -[y_i log p_i + (1 - y_i) log(1 - p_i)] with p = sigmoid(X @ W)"""
    X, y, W = classification_problem(seed, n, d)

    def check(sub):
        got = checks.as_float(sub.logistic_loss(W, X, y), "logistic_loss(W, X, y)")
        checks.assert_close(got, reference.logistic_loss(W, X, y), "logistic_loss(W, X, y)", rtol=1e-8,
                            inputs=describe_z(X, W) + " (a sum over the points, not a mean)")

    stable_sigmoid.check(check)


@pytest.mark.graded("logistic_loss", points=0.5, states=[
    "returning the float",
    "`y` holds 0/1 labels (lists are allowed too)."])
def test_loss_is_a_float_and_takes_lists(stable_sigmoid):
    """returns a float, with y given as a list of 0/1 labels too"""
    X, y, W = classification_problem(17, 12, 3)
    expected = reference.logistic_loss(W, X, y)

    def check(sub):
        for labels, kind in ((y, "an array"), ([int(label) for label in y], "a list of 0/1 ints")):
            got = checks.assert_float(sub.logistic_loss(W, X, labels), f"logistic_loss(W, X, y) with y {kind}")
            checks.assert_close(got, expected, f"logistic_loss(W, X, y) with y {kind}", rtol=1e-8)

    stable_sigmoid.check(check)


@pytest.mark.graded("logistic_loss", points=0.5, states=[
    "with $p = \\sigma(XW)$.",
    "`X` has one example per row, `W` one weight per column of `X`"])
def test_loss_at_zero_is_n_log_2(stable_sigmoid):
    """equals n log 2 at W = 0"""
    X, y, _ = classification_problem(13, 33, 4)

    def check(sub):
        got = checks.as_float(sub.logistic_loss(np.zeros(4), X, y), "logistic_loss(zeros(4), X, y)")
        checks.assert_close(got, reference.logistic_loss(np.zeros(4), X, y), "logistic_loss at W = 0", rtol=1e-10,
                            inputs="33 points (p = 0.5 for every point, so the loss is 33 log 2)")

    stable_sigmoid.check(check)


@pytest.mark.graded("logistic_loss", points=0.5, states=[
    "Use the stable forms above: the loss must stay finite and accurate where $|XW| = 1000$."])
@pytest.mark.parametrize("labels", ["mixed", "mostly right"], ids=["misclassified points", "large margins"])
def test_loss_stable_for_large_margins(stable_sigmoid, labels):
    """is finite and correct when |X @ W| reaches 1000"""
    X, y, W = saturated_problem(14 if labels == "mixed" else 15, labels)
    expected = reference.logistic_loss(W, X, y)

    def check(sub):
        got = checks.as_float(sub.logistic_loss(W, X, y), "logistic_loss(W, X, y)")
        assert np.isfinite(got), (
            f"logistic_loss(W, X, y) returned {got} for {describe_z(X, W)}; the loss there is {expected:.10g}. "
            "log(sigmoid(z)) and log(1 - sigmoid(z)) reach log(0) for large |z|; write -log p = log(1 + exp(-z)) "
            "and -log(1 - p) = log(1 + exp(z)) and compute them stably (np.logaddexp(0, z), for example).")
        checks.assert_close(got, expected, "logistic_loss(W, X, y)", rtol=1e-6,
                            inputs=describe_z(X, W) + "; a point misclassified with margin |z| costs about |z|")

    stable_sigmoid.check(check)


# ------------------------------------------------------------------------------ logistic_loss_grad
@pytest.mark.graded("logistic_loss_grad", points=0.5, states=[
    "Write `logistic_loss_grad(W, X, y)`, returning the gradient $X^T(\\sigma(XW) - y)$ derived above, an array "
    "with the shape of `W`."])
@pytest.mark.parametrize("seed, n, d, scale", [(21, 30, 3, 1.0), (22, 50, 5, 0.5), (23, 40, 4, 3.0)],
                         ids=["n=30,d=3", "n=50,d=5", "n=40,d=4,|z|~10"])
def test_grad_matches_finite_differences(stable_sigmoid, feedback, seed, n, d, scale):
    """is the derivative of the logistic loss (checked by finite differences, weights and intercept apart)"""
    X, y, W = classification_problem(seed, n, d, scale)

    def check(sub):
        errors = {}
        try:
            # Differences of OUR loss: a wrong loss with a matching wrong gradient must still fail.
            checks.check_gradient(lambda w: reference.logistic_loss(w, X, y),
                                  lambda w: sub.logistic_loss_grad(w, X, y), W,
                                  rng=np.random.default_rng(seed + 100), what="logistic_loss_grad(W, X, y)",
                                  blocks={"feature weights": slice(0, d - 1), "intercept weight": [d - 1]},
                                  errors=errors)
        finally:
            if errors:  # shown whether the check passed or not: how far off each block is
                feedback.gradient_errors(errors, tolerance=1e-6, title="logistic_loss_grad against finite "
                                         "differences: relative error per parameter block")

    stable_sigmoid.check(check)


@pytest.mark.graded("logistic_loss_grad", points=0.5, visibility="after_due_date", states=[
    "returning the gradient $X^T(\\sigma(XW) - y)$ derived above",
    "Return the gradient ``X.T @ (sigmoid(X @ W) - y)`` of ``logistic_loss`` with respect to ``W``."])
def test_grad_values(stable_sigmoid):
    """equals X.T @ (sigmoid(X @ W) - y)"""
    X, y, W = classification_problem(24, 45, 4)

    def check(sub):
        checks.assert_close(sub.logistic_loss_grad(W, X, y), reference.logistic_loss_grad(W, X, y),
                            "logistic_loss_grad(W, X, y)", rtol=1e-8, atol=1e-12 * np.abs(X).sum(),
                            inputs=describe_z(X, W))

    stable_sigmoid.check(check)


@pytest.mark.graded("logistic_loss_grad", points=0.5, states=[
    "returning the gradient $X^T(\\sigma(XW) - y)$ derived above"])
def test_grad_stable_for_large_margins(stable_sigmoid):
    """is finite and correct when |X @ W| reaches 1000"""
    X, y, W = saturated_problem(25, "mixed")
    expected = reference.logistic_loss_grad(W, X, y)

    def check(sub):
        got = checks.as_array(sub.logistic_loss_grad(W, X, y), "logistic_loss_grad(W, X, y)", shape=W.shape)
        assert np.all(np.isfinite(got)), (
            f"logistic_loss_grad(W, X, y) returned {got} for {describe_z(X, W)}; the gradient there is "
            f"{expected}. exp(z) / (1 + exp(z)) is inf / inf = nan for large z.")
        checks.assert_close(got, expected, "logistic_loss_grad(W, X, y)", rtol=1e-6,
                            atol=1e-10 * np.abs(X).sum(), inputs=describe_z(X, W))

    stable_sigmoid.check(check)


# ------------------------------------------------------------------------------ numerical_gradient
def numgrad_problem(problems, name: str):
    """(f, its analytic gradient, the point W) for one test function.

    The logistic loss is the grader's (the worker calls it back): it is an answer of this assignment.
    The others are bound in problems.py and rebuilt in the worker; their gradients stay here, in the
    grader, so that no student code can find them next to the function it is asked to differentiate.
    """
    rng = np.random.default_rng({"logistic loss": 31, "tanh network": 32, "rosenbrock": 33}[name])
    if name == "logistic loss":
        X, y, W = classification_problem(34, 30, 4)
        return (lambda w: reference.logistic_loss(w, X, y), lambda w: reference.logistic_loss_grad(w, X, y), W)
    if name == "tanh network":
        data = {"X": rng.standard_normal((10, 3)), "v": rng.standard_normal(4), "y": rng.standard_normal(10)}
        return (problems.bind("tanh_net_loss", **data), functools.partial(reference.tanh_net_grad, **data),
                rng.standard_normal((3, 4)))
    data = {"a": 1.0, "b": 100.0}
    return (problems.bind("rosenbrock", **data), functools.partial(reference.rosenbrock_grad, **data),
            rng.uniform(-1.5, 1.5, 3))


def missing_difference_points(points, W, h) -> list[str]:
    """The points W + h e_i and W - h e_i that f was never evaluated at."""
    missing = []
    for i in np.ndindex(W.shape):
        for sign, label in ((1.0, "+"), (-1.0, "-")):
            target = W.copy()
            target[i] += sign * h
            if not any(p.shape == W.shape and np.allclose(p, target, rtol=0, atol=1e-3 * h) for p in points):
                missing.append(f"W {label} h e_{i[0] if len(i) == 1 else i}")
    return missing


@pytest.mark.graded("numerical_gradient", points=0.5, states=[
    "which estimates the gradient of the function `f` at `W` by central differences",
    "`W` may be a float, a vector or a matrix; the result has the shape of `W`",
    "and each element must be back at its original value before the next one is perturbed."])
@pytest.mark.parametrize("name", ["logistic loss", "tanh network", "rosenbrock"])
def test_numgrad_matches_analytic(submission, problems, name):
    """approximates the gradient of f (vector and matrix W)"""
    f, gradient, W = numgrad_problem(problems, name)
    got = submission.numerical_gradient(f, W)
    what = f"numerical_gradient(f, W) for f = {name}, W of shape {W.shape}"
    got = checks.as_array(got, what, shape=W.shape)
    # Central differences with h = 1e-6 are accurate to round-off, eps |f| / h, plus h^2 |f'''|.
    checks.assert_close(got, gradient(W), what, rtol=1e-6, atol=1e-7 * max(1.0, abs(f(W))),
                        inputs="the default h")


@pytest.mark.graded("numerical_gradient", points=0.5, states=[
    "by central differences, $(f(W + h e_j) - f(W - h e_j)) / (2h)$ for every element $j$ of `W`.",
    "Estimate the gradient of ``f`` at ``W`` by central differences, one element at a time."])
def test_numgrad_central_differences_with_h(submission, problems):
    """uses central differences (f(W + h e_i) - f(W - h e_i)) / 2h with the given h"""
    f, _, W = numgrad_problem(problems, "tanh network")
    h = 1e-3  # large enough that a forward difference is wrong by about 1e-3
    recorder = checks.Recorder(f)
    got = submission.numerical_gradient(recorder, W, h=h)
    what = "numerical_gradient(f, W, h=1e-3) for a 3x4 matrix W"
    missing = missing_difference_points(recorder.points, W, h)
    assert not missing, (f"{what} never evaluated f at {', '.join(missing[:4])}"
                         f"{' ...' if len(missing) > 4 else ''} ({len(missing)} of {2 * W.size} points); "
                         "central differences need f at W + h e_i and W - h e_i for every entry i.")
    expected = reference.numerical_gradient(f, W, h=h)
    checks.assert_close(got, expected, what, rtol=1e-9, atol=100 * EPS * max(1.0, abs(f(W))) / h)


@pytest.mark.graded("numerical_gradient", points=0.5, visibility="after_due_date", states=[
    "Write `numerical_gradient(f, W, h=1e-6)`"])
def test_numgrad_default_step(submission, problems):
    """uses h = 1e-6 when h is not given"""
    f, _, W = numgrad_problem(problems, "logistic loss")
    recorder = checks.Recorder(f)
    got = submission.numerical_gradient(recorder, W)
    missing = missing_difference_points(recorder.points, W, 1e-6)
    assert not missing, (f"numerical_gradient(f, W) without h never evaluated f at {', '.join(missing[:4])}"
                         f"{' ...' if len(missing) > 4 else ''} with h = 1e-6 ({len(missing)} of {2 * W.size} "
                         "points); the default step is h=1e-6.")
    # The points go with the value: evaluating f at the right points and returning anything else earns nothing.
    checks.assert_close(got, reference.numerical_gradient(f, W, h=1e-6), "numerical_gradient(f, W)", rtol=1e-6,
                        atol=1e-7 * max(1.0, abs(f(W))), inputs="the default h = 1e-6")


@pytest.mark.graded("numerical_gradient", points=0.5, states=[
    "(a float for a float `W`).",
    "Work on a float copy of `W`: the caller's `W` must be unchanged afterwards (even if it holds integers)"])
def test_numgrad_float_and_integer_w(submission, problems):
    """gives a float for a float W, and works on a float copy of an integer W"""
    cube = problems.bind("sum_of_cubes")
    got = checks.assert_float(submission.numerical_gradient(cube, 1.5), "numerical_gradient(f, 1.5)")
    checks.assert_close(got, 3 * 1.5**2, "numerical_gradient(f, 1.5) for f(w) = w^3", rtol=1e-6)
    W = np.array([1, -2, 3])
    got = submission.numerical_gradient(cube, W)
    mutated = submission.last_call.mutated
    assert not mutated, f"numerical_gradient changed the integer W it was given ({', '.join(mutated)})."
    checks.assert_close(got, 3.0 * W**2, "numerical_gradient(f, W) for f(W) = sum(W^3) and W = [1, -2, 3] (integers)",
                        rtol=1e-6, inputs="an integer W: perturbing it by h = 1e-6 needs a float copy")


@pytest.mark.graded("numerical_gradient", points=0.5, states=[
    "Pass `f` a fresh copy each time (`f(work.copy())`), so a function that keeps or modifies its argument cannot "
    "disturb the other evaluations."])
def test_numgrad_passes_fresh_copies(submission, problems):
    """passes f a fresh copy each time, so a function that modifies its argument cannot disturb the others"""
    scribbling = problems.bind("sum_of_squares_then_scribble")
    W = np.array([[0.5, -1.0], [2.0, 0.25]])
    got = submission.numerical_gradient(scribbling, W)
    checks.assert_close(got, 2 * W, "numerical_gradient(f, W) for an f that zeroes its argument after reading it",
                        rtol=1e-6, inputs="f(W) = sum(W^2), which then sets W[...] = 0: pass f(work.copy())")


@pytest.mark.graded("numerical_gradient", points=0.5, states=["the caller's `W` must be unchanged afterwards"])
def test_numgrad_leaves_w_unchanged(submission, problems):
    """leaves W holding its original values"""
    f, _, W = numgrad_problem(problems, "tanh network")
    # Entries and h are powers of two, so a W changed and changed back by +h, -2h, +h is restored exactly.
    W = np.round(W * 8) / 8
    got = submission.numerical_gradient(f, W, h=2.0**-10)
    mutated = submission.last_call.mutated
    assert not mutated, (f"numerical_gradient changed {', '.join(mutated)}: after the call it no longer holds "
                         "its original values. Perturb a copy, or put each original entry back.")
    checks.assert_close(got, reference.numerical_gradient(f, W, h=2.0**-10), "numerical_gradient(f, W, h)",
                        rtol=1e-9, atol=1e-9 * max(1.0, abs(f(W))), inputs="h = 2^-10")


# ------------------------------------------------------------------------------------ fit_logistic
@pytest.mark.graded("fit_logistic", points=1, states=[
    "which starts from `W = 0` (one zero per column of `X`), takes exactly `n_iters` gradient-descent steps `W = W "
    "- lr * logistic_loss_grad(W, X, y)` (no early stop)"])
def test_fit_reaches_optimum(isolated_fit):
    """reaches the optimum of logistic regression on non-separable data"""
    X, y = fitting_problem(42, mixing=MILDLY_CORRELATED)
    optimum = reference_optimum(X, y)
    # Near the optimum the error shrinks by about 1 - mu/L per step with lr = 1/L (mu: the smallest
    # curvature there; L/mu is about 9), so 25 L/mu steps end about e^-25 ~ 1e-11 from the optimum,
    # far inside the tolerance. (Every step calls the reference gradient and loss back in the grader.)
    mu = float(np.linalg.eigvalsh(reference.logistic_loss_hessian(optimum, X, y)).min())
    lr, n_iters = 1.0 / smoothness(X), int(np.ceil(25.0 * smoothness(X) / mu))
    what = f"fit_logistic(X, y, lr=1/L, n_iters={n_iters})"

    def check(sub):
        W, losses = fit_result(sub.fit_logistic(X, y, lr, n_iters), what, X.shape[1])
        checks.assert_close(W, optimum, f"the W returned by {what}", rtol=0,
                            atol=1e-7 * max(1.0, np.abs(optimum).max()),
                            inputs="120 points that are not linearly separable (optimum found by Newton's method)")
        losses = checks.assert_losses_list(losses, f"the losses returned by {what}", length=n_iters + 1)
        checks.assert_close(losses[-1], reference.logistic_loss(optimum, X, y), f"the last loss of {what}",
                            rtol=1e-9)

    isolated_fit.check(check)


@pytest.mark.graded("fit_logistic", points=0.5, states=[
    "and returns `(W, losses)`, where `losses` is a list of `n_iters + 1` floats: the loss at the zero start, then "
    "the loss after each step.",
    "Take ``n_iters`` gradient steps on ``logistic_loss`` from ``W = 0``; return ``(W, losses)``."])
@pytest.mark.parametrize("n_iters", [0, 9])
def test_fit_takes_exactly_n_iters_steps(isolated_fit, n_iters):
    """takes exactly n_iters steps from W = 0 and returns n_iters + 1 losses, losses[0] = n log 2"""
    X, y = fitting_problem(43, n=70)
    lr = 0.5 / smoothness(X)
    expected_W, expected_losses = reference_fit(X, y, lr, n_iters)
    what = f"fit_logistic(X, y, lr, n_iters={n_iters})"

    def check(sub):
        W, losses = fit_result(sub.fit_logistic(X, y, lr, n_iters), what, X.shape[1])
        checks.assert_list_of_floats(losses, f"the losses returned by {what}")
        losses = checks.assert_losses_list(losses, f"the losses returned by {what}", length=n_iters + 1)
        checks.assert_close(losses[0], 70 * np.log(2.0), f"losses[0] of {what} (the loss at W = 0 is n log 2)",
                            rtol=1e-10, inputs="n = 70 points")
        checks.assert_close(W, expected_W, f"the W returned by {what}", rtol=1e-10, atol=1e-12,
                            inputs=f"lr = 0.5/L, {n_iters} gradient steps from W = zeros(4)")
        checks.assert_close(losses, expected_losses, f"the losses returned by {what}", rtol=1e-10,
                            inputs="losses[t] = logistic_loss after t steps")

    isolated_fit.check(check)


@pytest.mark.graded("fit_logistic", points=0.5, visibility="after_due_date", states=[
    "takes exactly `n_iters` gradient-descent steps `W = W - lr * logistic_loss_grad(W, X, y)` (no early stop)"])
def test_fit_losses_never_increase(isolated_fit, feedback):
    """never increases the loss for lr < 2/L"""
    X, y = fitting_problem(44, n=90)
    lr, n_iters = 1.9 / smoothness(X), 200
    _, expected_losses = reference_fit(X, y, lr, n_iters)
    what = "fit_logistic(X, y, lr=1.9/L, n_iters=200)"

    def check(sub):
        _, losses = fit_result(sub.fit_logistic(X, y, lr, n_iters), what, X.shape[1])
        feedback.loss_trace(student=losses, reference=expected_losses, student_label="your fit_logistic",
                            label="loss per step of fit_logistic with lr = 1.9/L on 90 points")
        losses = checks.assert_losses_list(losses, f"the losses returned by {what}", length=n_iters + 1)
        checks.assert_nonincreasing(losses, what)
        checks.assert_close(losses, expected_losses, f"the losses returned by {what}", rtol=1e-8, atol=1e-12)

    isolated_fit.check(check)


