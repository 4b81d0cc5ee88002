"""Hidden suite: gradient_step and gradient_descent.

Expected values come from ``reference.gradient_descent`` and from closed forms computed here at test
time. ``gradient_descent`` is always graded with the reference ``gradient_step`` swapped in, so a bug
in the student's step costs the step's points only. That step runs here, in the grader: the worker
calls it back, so the answer never enters the student's process.
"""

import numpy as np
import pytest

from autograder import checks
from autograder.grader.once_per_process import remembered
from reference import gradient_descent as reference

# The reference's answers on the grader's own problems are the same for every submission: computed once
# per grading process (for plain-data arguments only; see autograder.grader.once_per_process).
reference_descent = remembered(reference.gradient_descent)



def random_quadratic(rng: np.random.Generator, dimension: int, condition: float):
    """A rotated quadratic with eigenvalues spread over [L / condition, L], L = 1, and a start that
    excites every eigenvector (so no direction converges by accident)."""
    rotation, _ = np.linalg.qr(rng.standard_normal((dimension, dimension)))
    eigenvalues = np.geomspace(1.0 / condition, 1.0, dimension)
    hessian = rotation @ np.diag(eigenvalues) @ rotation.T
    hessian = (hessian + hessian.T) / 2
    optimum = rng.standard_normal(dimension)
    w0 = optimum + rotation @ (rng.uniform(1.0, 2.0, dimension) * rng.choice([-1.0, 1.0], dimension))
    return hessian, optimum, w0


@pytest.fixture
def isolated(submission):
    """The student's gradient_descent, with the reference gradient_step (a callback) in place of theirs."""
    return submission.with_reference(gradient_step=reference.gradient_step)


def quadratic(problems, hessian, optimum):
    return (problems.bind("quadratic_loss", hessian=hessian, optimum=optimum),
            problems.bind("quadratic_grad", hessian=hessian, optimum=optimum))


# ----------------------------------------------------------------------------------- gradient_step
@pytest.mark.graded("gradient_step", points=1.5, states=[
    "which returns the weights after one gradient-descent step, $w - \\eta \\cdot \\text{grad}$ with $\\eta$ = `lr`.",
    "`w` and `grad` are either two floats or two numpy arrays of the same shape (vectors or matrices).",
    "Return the weights after one gradient-descent step, ``w - lr * grad``, as a new value.",
    "``w`` and ``grad`` are floats or arrays of the same shape"])
@pytest.mark.parametrize("shape", [(4,), (3, 2)], ids=["vector", "matrix"])
def test_step_on_arrays(submission, shape):
    """computes w - lr * grad for arrays"""
    rng = np.random.default_rng(11)
    w, grad, lr = rng.standard_normal(shape), rng.standard_normal(shape), 0.37
    got = submission.gradient_step(w, grad, lr)
    checks.assert_close(got, reference.gradient_step(w, grad, lr), "gradient_step(w, grad, lr)",
                        rtol=1e-12, inputs=f"w of shape {shape}, lr = {lr}")


@pytest.mark.graded("gradient_step", points=0.5, states=[
    "For float inputs, return a float.",
    "a float ``w`` gives a float back."])
def test_step_on_floats(submission):
    """computes w - lr * grad for plain floats, and returns a float"""
    got = checks.assert_float(submission.gradient_step(2.5, -0.75, 0.2), "gradient_step(2.5, -0.75, 0.2)")
    checks.assert_close(got, reference.gradient_step(2.5, -0.75, 0.2), "gradient_step(2.5, -0.75, 0.2)",
                        rtol=1e-12)


@pytest.mark.graded("gradient_step", points=1, states=[
    "Return a new value and leave `w` unchanged: write `w - lr * grad`, never `w -= lr * grad`, which would "
    "overwrite the caller's array.",
    "``w`` itself is never modified."])
def test_step_leaves_w_unchanged(submission):
    """returns a new value and leaves w unchanged"""
    w, grad = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.5, 0.5])
    result = submission.gradient_step(w, grad, 0.1)
    mutated = submission.last_call.mutated
    assert not mutated, (f"gradient_step changed its argument {', '.join(mutated)} in place (for example with "
                         "w -= ...); compute and return a new array instead.")
    # The points go with the value: returning anything unchanged-looking (zeros, say) earns nothing.
    checks.assert_close(result, reference.gradient_step(w, grad, 0.1), "gradient_step(w, grad, lr)", rtol=1e-12)


# -------------------------------------------------------------------------------- gradient_descent
@pytest.mark.graded("gradient_descent", points=1.5, states=[
    "which repeats the update rule from the starting point `w0` and returns `(w, losses)`:",
    "`losses[0]` is the loss at `w0`, and every step appends the loss at the new point",
    "Run gradient descent from ``w0``; return ``(w, losses)`` with ``losses[0] = loss_fn(w0)``."])
def test_descent_matches_closed_form(isolated, problems, feedback):
    """reaches the closed-form iterate on an ill-conditioned quadratic"""
    hessian, optimum, w0 = random_quadratic(np.random.default_rng(21), 6, 50.0)
    loss, grad = quadratic(problems, hessian, optimum)
    steps, lr = 300, 1.0  # lr = 1 / L
    w, losses = isolated.gradient_descent(loss, grad, w0, lr, max_iters=steps, tol=0.0)
    _, reference_losses = reference_descent(loss, grad, w0, lr, max_iters=steps, tol=0.0)
    feedback.loss_trace(student=losses, reference=reference_losses, student_label="your gradient_descent",
                        label="loss per step on a 6-dimensional quadratic (condition number 50, lr = 1/L)")
    expected_w = checks.quadratic_iterate(hessian, optimum, w0, lr, steps)
    what = "gradient_descent(loss_fn, grad_fn, w0, lr, max_iters=300, tol=0.0)"
    checks.assert_close(w, expected_w, f"the w returned by {what}", rtol=1e-8, atol=1e-10,
                        inputs="a 6-dimensional quadratic with condition number 50, lr = 1/L")
    losses = checks.assert_losses_list(losses, f"the losses returned by {what}", length=steps + 1)
    expected = [loss(checks.quadratic_iterate(hessian, optimum, w0, lr, t)) for t in (0, 1, steps // 2, steps)]
    checks.assert_close(losses[[0, 1, steps // 2, steps]], expected, "losses[0], losses[1], losses[150], "
                        "losses[300]", rtol=1e-8, atol=1e-12)


@pytest.mark.graded("gradient_descent", points=1, visibility="after_due_date", states=[
    "which repeats the update rule from the starting point `w0` and returns `(w, losses)`:",
    "`loss_fn(w)` returns the loss at `w` and `grad_fn(w)` its gradient; `w0` is a float or an array."])
def test_descent_solves_least_squares(isolated, problems):
    """converges to the least-squares solution"""
    rng = np.random.default_rng(22)
    X = rng.standard_normal((60, 4)) @ np.diag([1.0, 1.5, 1.2, 2.0])
    y = X @ rng.standard_normal(4) + 0.1 * rng.standard_normal(60)
    optimum = np.linalg.lstsq(X, y, rcond=None)[0]
    curvatures = np.linalg.eigvalsh(X.T @ X)
    lr = 1.0 / curvatures.max()
    # With lr = 1/L the error shrinks by at least 1 - mu/L per step (L/mu is about 7 here), so
    # 25 L/mu steps shrink it by e^-25, about 1e-11: converged far inside the tolerance. (Every step
    # calls the reference gradient_step back in the grader, so the run is not made longer than that,
    # and the problem is conditioned well enough that it takes under 200 steps; the ill-conditioned
    # case is the closed-form test's.)
    steps = int(np.ceil(25.0 * curvatures.max() / curvatures.min()))
    loss = problems.bind("least_squares_loss", X=X, y=y)
    grad = problems.bind("least_squares_grad", X=X, y=y)
    w, _ = isolated.gradient_descent(loss, grad, np.zeros(4), lr, max_iters=steps, tol=0.0)
    checks.assert_close(w, optimum, f"gradient_descent on least squares ({steps:,} steps, lr = 1/L)",
                        rtol=1e-6, atol=1e-8)


@pytest.mark.graded("gradient_descent", points=1, states=[
    "Each step is `w = gradient_step(w, grad_fn(w), lr)`: one gradient evaluation, at the current `w`."])
def test_descent_follows_update_rule(isolated, problems):
    """steps by w - lr * grad_fn(w), from w0, once per step"""
    hessian, optimum, w0 = random_quadratic(np.random.default_rng(23), 3, 5.0)
    loss, grad = quadratic(problems, hessian, optimum)
    recorded = checks.Recorder(grad)
    lr, steps = 0.4, 8
    w, losses = isolated.gradient_descent(loss, recorded, w0, lr, max_iters=steps, tol=0.0)
    what = "gradient_descent (the points where it called grad_fn)"
    checks.assert_gradient_path(recorded.points, lr, grad, what, start=w0)
    distinct = checks.distinct_points(recorded.points)
    assert len(distinct) >= steps, (f"gradient_descent with max_iters={steps} and tol=0 evaluated grad_fn at "
                                    f"{len(distinct)} different points; each of the {steps} steps needs one.")
    checks.assert_close(w, checks.quadratic_iterate(hessian, optimum, w0, lr, steps),
                        f"the w returned after {steps} steps", rtol=1e-10)
    expected = [loss(checks.quadratic_iterate(hessian, optimum, w0, lr, t)) for t in range(steps + 1)]
    checks.assert_close(checks.assert_losses_list(losses, "losses", length=steps + 1), expected,
                        "losses (loss_fn at w0 and after each step)", rtol=1e-10, atol=1e-14)


@pytest.mark.graded("gradient_descent", points=1, states=[
    "Stop after `max_iters` steps, or right after the first step whose improvement `abs(losses[-2] - losses[-1])` "
    "is below `tol` (\"no more improvement\").",
    "Stops after ``max_iters`` steps, or right after the first step that improves the loss by less than ``tol`` "
    "(in absolute value)."])
@pytest.mark.parametrize("tol", [1e-3, 1e-6], ids=["tol=1e-3", "tol=1e-6"])
def test_descent_stopping_rule(isolated, problems, feedback, tol):
    """stops right after the first step whose improvement is below tol"""
    # On a parabola the improvements shrink by (1 - lr a)^2 = 0.64 per step, so no improvement is
    # within a factor 0.64 of tol by accident: the right stopping step is unambiguous.
    loss = problems.bind("parabola_loss", curvature=2.0, optimum=1.0)
    grad = problems.bind("parabola_grad", curvature=2.0, optimum=1.0)
    expected_w, expected_losses = reference_descent(loss, grad, 4.0, 0.1, max_iters=1000, tol=tol)
    w, losses = isolated.gradient_descent(loss, grad, 4.0, 0.1, max_iters=1000, tol=tol)
    feedback.loss_trace(student=losses, reference=expected_losses, student_label="your gradient_descent",
                        label=f"loss per step on a parabola with tol={tol} (where each run stopped)")
    losses = checks.assert_losses_list(losses, f"the losses with tol={tol}")
    improvements = np.abs(np.diff(expected_losses))
    assert losses.size == len(expected_losses), (
        f"with tol={tol}, gradient_descent took {losses.size - 1} steps; the first step whose improvement "
        f"|losses[-2] - losses[-1]| is below tol is step {len(expected_losses) - 1} (improvement "
        f"{improvements[-1]:.3g}, previous {improvements[-2]:.3g}), and it should stop right after it.")
    checks.assert_close(w, expected_w, f"the w returned with tol={tol}", rtol=1e-10)


@pytest.mark.graded("gradient_descent", points=0.5, states=[
    "Stop after `max_iters` steps",
    "so after $k$ steps `len(losses)` is $k + 1$."])
def test_descent_honours_max_iters(isolated, problems):
    """takes exactly max_iters steps when tol is never reached"""
    hessian, optimum, w0 = random_quadratic(np.random.default_rng(24), 3, 100.0)
    loss, grad = quadratic(problems, hessian, optimum)
    w, losses = isolated.gradient_descent(loss, grad, w0, 0.01, max_iters=37, tol=0.0)
    checks.assert_losses_list(losses, "losses with max_iters=37 and tol=0", length=38)
    checks.assert_close(w, checks.quadratic_iterate(hessian, optimum, w0, 0.01, 37),
                        "the w returned after max_iters=37 steps", rtol=1e-10)


@pytest.mark.graded("gradient_descent", points=0.5, states=[
    "Write `gradient_descent(loss_fn, grad_fn, w0, lr, max_iters=1000, tol=1e-10)`"])
def test_descent_default_limits(isolated, problems):
    """uses max_iters=1000 and tol=1e-10 when they are not given"""
    # Slow: every improvement stays far above 1e-10, so only max_iters stops it (after 1000 steps).
    slow_loss = problems.bind("parabola_loss", curvature=1.0, optimum=0.0)
    slow_grad = problems.bind("parabola_grad", curvature=1.0, optimum=0.0)
    # Fast: the loss shrinks 4x per step, so tol stops it, later with 1e-10 than with a larger tol.
    for loss, grad, lr, case in ((slow_loss, slow_grad, 1e-3, "a run that needs more than 1000 steps"),
                                 (slow_loss, slow_grad, 0.5, "a run that tol stops")):
        w, losses = isolated.gradient_descent(loss, grad, 1.0, lr)
        expected_w, expected_losses = reference_descent(loss, grad, 1.0, lr, max_iters=1000, tol=1e-10)
        losses = checks.assert_losses_list(losses, f"losses of gradient_descent(loss_fn, grad_fn, 1.0, {lr})")
        assert losses.size == len(expected_losses), (
            f"gradient_descent(loss_fn, grad_fn, 1.0, {lr}) without max_iters and tol took {losses.size - 1} steps on "
            f"{case}; with the defaults max_iters=1000 and tol=1e-10 it takes {len(expected_losses) - 1}.")
        checks.assert_close(w, expected_w, f"the w of gradient_descent(loss_fn, grad_fn, 1.0, {lr})", rtol=1e-10)


@pytest.mark.graded("gradient_descent", points=0.5, states=["`losses` is a list of floats"])
def test_descent_losses_are_a_list_of_floats(isolated, problems):
    """returns losses as a list of floats"""
    hessian, optimum, w0 = random_quadratic(np.random.default_rng(28), 3, 10.0)
    loss, grad = quadratic(problems, hessian, optimum)
    _, losses = isolated.gradient_descent(loss, grad, w0, 0.1, max_iters=4, tol=0.0)
    got = checks.assert_list_of_floats(losses, "the losses returned by gradient_descent")
    checks.assert_close(got, reference_descent(loss, grad, w0, 0.1, max_iters=4, tol=0.0)[1],
                        "the losses of 4 steps", rtol=1e-10)


@pytest.mark.graded("gradient_descent", points=0.5, states=[
    "right after the first step whose improvement `abs(losses[-2] - losses[-1])` is below `tol`"])
def test_descent_improvement_equal_to_tol_is_not_below_it(isolated, problems):
    """keeps going when an improvement equals tol (only one below tol stops it)"""
    # With lr = 1 / curvature the first step lands exactly on the optimum; every later improvement is 0,
    # which is not below tol = 0, so all max_iters steps are taken.
    loss = problems.bind("parabola_loss", curvature=2.0, optimum=1.0)
    grad = problems.bind("parabola_grad", curvature=2.0, optimum=1.0)
    _, losses = isolated.gradient_descent(loss, grad, 4.0, 0.5, max_iters=6, tol=0.0)
    losses = checks.assert_losses_list(losses, "the losses with tol=0")
    expected = reference_descent(loss, grad, 4.0, 0.5, max_iters=6, tol=0.0)[1]
    assert losses.size == 7, (
        f"gradient_descent(loss_fn, grad_fn, 4.0, 0.5, max_iters=6, tol=0.0) took {losses.size - 1} steps; the "
        "improvements after the first step are exactly 0, which is not below tol = 0, so it should take all 6 "
        "(stop on improvement < tol, not <= tol).")
    checks.assert_close(losses, expected, "the losses with tol=0", rtol=1e-12, atol=1e-15)  # the points go with them


@pytest.mark.graded("gradient_descent", points=0.5, states=["With `max_iters=0`, return `w0` and `[loss_fn(w0)]`."])
def test_descent_zero_iterations(isolated, problems):
    """max_iters=0 returns w0 and [loss_fn(w0)]"""
    hessian, optimum, w0 = random_quadratic(np.random.default_rng(25), 3, 10.0)
    loss, grad = quadratic(problems, hessian, optimum)
    w, losses = isolated.gradient_descent(loss, grad, w0, 0.1, max_iters=0)
    checks.assert_close(w, w0, "the w returned with max_iters=0", rtol=0, atol=0)
    checks.assert_close(checks.assert_losses_list(losses, "losses with max_iters=0", length=1), [loss(w0)],
                        "losses with max_iters=0", rtol=1e-12)


@pytest.mark.graded("gradient_descent", points=0.5, states=[
    "Return a float `w` when `w0` is a float.",
    "`w0` is a float or an array."])
def test_descent_with_float_start(isolated, problems):
    """works with a float w0"""
    loss = problems.bind("parabola_loss", curvature=3.0, optimum=-2.0)
    grad = problems.bind("parabola_grad", curvature=3.0, optimum=-2.0)
    w, losses = isolated.gradient_descent(loss, grad, 1.5, 0.05, max_iters=25, tol=0.0)
    expected_w, expected_losses = reference_descent(loss, grad, 1.5, 0.05, max_iters=25, tol=0.0)
    checks.assert_close(checks.assert_float(w, "gradient_descent with w0 = 1.5 (its w)"), expected_w,
                        "the w returned for w0 = 1.5", rtol=1e-10)
    checks.assert_close(losses, expected_losses, "the losses for w0 = 1.5", rtol=1e-10)


@pytest.mark.graded("gradient_descent", points=0.5, states=["Do not modify `w0`."])
def test_descent_leaves_w0_unchanged(isolated, problems):
    """leaves w0 unchanged"""
    hessian, optimum, w0 = random_quadratic(np.random.default_rng(26), 3, 10.0)
    loss, grad = quadratic(problems, hessian, optimum)
    result = isolated.gradient_descent(loss, grad, w0, 0.1, max_iters=5)
    assert isinstance(result, tuple | list) and len(result) == 2, "gradient_descent should return a pair (w, losses)."
    mutated = isolated.last_call.mutated
    assert not mutated, (f"gradient_descent changed {', '.join(mutated)} in place; copy w0 first "
                         "(w = np.array(w0, dtype=float)) or use w = w - lr * g rather than w -= lr * g.")
    # The points go with the values: a function that returns w0 untouched without descending earns nothing.
    expected_w, expected_losses = reference_descent(loss, grad, w0, 0.1, max_iters=5)
    checks.assert_close(result[0], expected_w, "the w returned after 5 steps", rtol=1e-10)
    checks.assert_close(result[1], expected_losses, "the losses of 5 steps", rtol=1e-10)


@pytest.mark.graded("gradient_descent", points=0.5, states=[
    "which repeats the update rule from the starting point `w0`"])
@pytest.mark.parametrize("lr_times_L", [1.9, 2.5], ids=["lr=1.9/L", "lr=2.5/L"])
def test_descent_stable_and_divergent_rates(isolated, problems, feedback, lr_times_L):
    """never increases the loss for lr < 2/L, and reports divergence for lr > 2/L"""
    hessian, optimum, w0 = random_quadratic(np.random.default_rng(27), 4, 20.0)
    loss, grad = quadratic(problems, hessian, optimum)
    steps = 60
    _, losses = isolated.gradient_descent(loss, grad, w0, lr_times_L, max_iters=steps, tol=0.0)
    expected = [loss(checks.quadratic_iterate(hessian, optimum, w0, lr_times_L, t)) for t in range(steps + 1)]
    feedback.loss_trace(student=losses, reference=expected, student_label="your gradient_descent",
                        label=f"loss per step with lr = {lr_times_L}/L on a 4-dimensional quadratic")
    losses = checks.assert_losses_list(losses, f"the losses for lr = {lr_times_L}/L", length=steps + 1)
    checks.assert_close(losses, expected, f"the losses for lr = {lr_times_L}/L", rtol=1e-8, atol=1e-12)
    if lr_times_L < 2:
        checks.assert_nonincreasing(losses, f"gradient_descent with lr = {lr_times_L}/L")
    else:
        assert losses[-1] > 1e6 * losses[0], "with lr = 2.5/L the returned losses should show divergence."
