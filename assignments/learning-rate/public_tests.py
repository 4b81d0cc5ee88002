"""Public checks for learning-rate: quick sanity checks a student can run before submitting.

They mirror the checks in the notebook's test cells; passing them does not guarantee full marks.
"""

import numpy as np
import pytest

from autograder import checks
from autograder.grader.session import StudentCodeError

# The lecture's ill-conditioned quadratic 0.5 w^T A w with curvatures 10 and 0.5 (L = 10, mu = 0.5).
CURVATURES = np.array([10.0, 0.5])


def quadratic_trace(lr: float, steps: int) -> list[float]:
    """The losses of gradient descent from w0 = [1, 1]: each coordinate shrinks by (1 - lr a) per step."""
    t = np.arange(steps + 1)[:, None]
    return (0.5 * (CURVATURES * (1 - lr * CURVATURES) ** (2 * t)).sum(axis=1)).tolist()


@pytest.mark.graded("diagnose_trace", points=1, states=[
    "which labels a loss trace (a list or 1-D array of at least two losses, one per step) as `\"too_large\"`, "
    "`\"too_small\"` or `\"good\"`"])
@pytest.mark.parametrize(("lr", "steps", "label"), [(0.0005, 60, "too_small"), (0.08, 300, "good"),
                                                    (0.25, 60, "too_large")],
                         ids=["lr=0.0005", "lr=0.08", "lr=0.25"])
def test_diagnose_three_runs(submission, lr, steps, label):
    """names the three runs of the lecture's quadratic"""
    # lr L = 0.005 over 60 steps barely dents the loss; lr L = 0.8 for 300 steps shrinks even the
    # flat direction by (1 - 0.04)^600; lr L = 2.5 multiplies the steep direction by -1.5 per step.
    got = submission.diagnose_trace(quadratic_trace(lr, steps))
    assert got == label, (f"diagnose_trace on the losses of {steps} steps with lr = {lr} on 0.5 w^T A w, "
                          f"A = diag(10, 0.5): expected {label!r}, got {got!r}.")


@pytest.mark.graded("pick_learning_rate", points=1, states=[
    "returns the candidate whose final loss `loss_fn(w)` is the lowest;"])
def test_pick_on_the_lecture_quadratic(submission, problems):
    """picks lr = 0.19 among [0.001, 0.01, 0.1, 0.19, 0.3] on the lecture's quadratic"""
    # After 100 steps the flat direction dominates: lr = 0.19 shrinks it fastest among the rates that
    # do not blow up the steep one (0.3 > 2/L does).
    loss = problems.bind("quadratic_loss", hessian=np.diag(CURVATURES), optimum=np.zeros(2))
    grad = problems.bind("quadratic_grad", hessian=np.diag(CURVATURES), optimum=np.zeros(2))
    candidates = [0.001, 0.01, 0.1, 0.19, 0.3]
    got = submission.pick_learning_rate(loss, grad, np.array([1.0, 1.0]), candidates, 100)
    assert got is not None, "pick_learning_rate returned None; expected the learning rate 0.19."
    checks.assert_close(checks.as_float(got, "pick_learning_rate"), 0.19,
                        f"pick_learning_rate(loss_fn, grad_fn, [1, 1], {candidates}, 100) (the learning rate "
                        "itself, not its position)", rtol=1e-12)


@pytest.mark.graded("pick_learning_rate", points=1, states=["returns the first of equally good candidates"])
def test_pick_first_of_a_tie(submission, problems):
    """returns the first of two learning rates whose runs end at the same loss"""
    # On 0.5 ||w||^2 a step multiplies w by (1 - lr): 0.5 and 1.5 give 0.5^t w0 and (-0.5)^t w0.
    loss = problems.bind("quadratic_loss", hessian=np.eye(2), optimum=np.zeros(2))
    grad = problems.bind("quadratic_grad", hessian=np.eye(2), optimum=np.zeros(2))
    for candidates, expected in (([0.5, 1.5], 0.5), ([1.5, 0.5], 1.5)):
        got = submission.pick_learning_rate(loss, grad, np.array([5.0, -3.0]), candidates, 20)
        assert got is not None, f"pick_learning_rate returned None; expected the learning rate {expected}."
        checks.assert_close(checks.as_float(got, "pick_learning_rate"), expected,
                            f"pick_learning_rate(loss_fn, grad_fn, [5, -3], {candidates}, 20) on 0.5 ||w||^2 "
                            "(a tie: the first candidate wins)", rtol=1e-12)


@pytest.mark.graded("diagnose_trace", points=1, states=[
    "so the label does not change if the losses are multiplied by a positive constant, shifted by a constant"])
@pytest.mark.parametrize(("lr", "steps", "label"), [(0.0005, 60, "too_small"), (0.08, 300, "good"),
                                                    (0.25, 60, "too_large")],
                         ids=["lr=0.0005", "lr=0.08", "lr=0.25"])
def test_diagnose_units_do_not_matter(submission, lr, steps, label):
    """gives the lecture's runs the same label when their losses are scaled or shifted"""
    losses = np.array(quadratic_trace(lr, steps))
    for change, changed in (("multiplied by 1e-4", losses * 1e-4), ("multiplied by 1e4", losses * 1e4),
                            ("shifted by +50", losses + 50.0)):
        got = submission.diagnose_trace(changed)
        assert got == label, (f"diagnose_trace on the losses of {steps} steps with lr = {lr} on 0.5 w^T A w, "
                              f"{change}: expected {label!r} (the label of the unchanged trace), got {got!r}. "
                              "Compare loss differences with loss differences, not with a fixed number.")


@pytest.mark.graded("diagnose_trace", points=1, states=["`\"too_large\"` if any loss is NaN or infinite"])
def test_diagnose_non_finite_losses(submission):
    """labels a trace holding a NaN or an infinite loss 'too_large'"""
    for losses in ([4.0, 2.0, float("nan"), 1.0], [4.0, 2.0, 1.0, float("inf")]):
        got = submission.diagnose_trace(losses)
        assert got == "too_large", (f"diagnose_trace({losses}): expected 'too_large' (a loss is NaN or infinite), "
                                    f"got {got!r}. Comparisons with nan are always False: test np.isfinite first.")


@pytest.mark.graded("diagnose_trace", points=1, states=[
    "or if the loss ever rises above the lowest value reached before it by more than `RISE_SHARE = 0.01` of the "
    "trace's range (`max(losses) - min(losses)`)."])
def test_diagnose_rises(submission):
    """measures a rise from the lowest loss before it, in shares of the trace's range"""
    # Range 15, so 0.01 of it is 0.15: each step up is only 0.0625, but the loss ends 0.25 above its low of 1.
    creep = [16.0, 8.0, 4.0, 2.0, 1.0, 1.0625, 1.125, 1.1875, 1.25]
    got = submission.diagnose_trace(creep)
    assert got == "too_large", (f"diagnose_trace({creep}): expected 'too_large', got {got!r}. The last loss is 0.25 "
                                "above the lowest value reached before it (1.0), more than 0.01 * (16 - 1) = 0.15, "
                                "even though no single step rises that much and no loss is above the first.")
    # Range 1000, so 0.01 of it is 10: the blip from 0 to 5 is no rise, and the trace has levelled off.
    blip = [1000.0, 400.0, 100.0, 10.0, 2.0, 0.0, 5.0, 0.0, 0.0, 0.0, 0.0]
    got = submission.diagnose_trace(blip)
    assert got == "good", (f"diagnose_trace({blip}): expected 'good', got {got!r}. The blip from 0 to 5 is not more "
                           "than 0.01 of the range (0.01 * 1000 = 10), so it is no rise; the tail (the last 2 steps) "
                           "holds none of the decrease.")


@pytest.mark.graded("diagnose_trace", points=1, states=[
    "or it did not move at all (a flat trace has not decreased, so it is not `\"good\"`)."])
def test_diagnose_flat_trace(submission):
    """labels a flat trace 'too_small'"""
    losses = [2.0, 2.0, 2.0, 2.0, 2.0]
    got = submission.diagnose_trace(losses)
    assert got == "too_small", (f"diagnose_trace({losses}): expected 'too_small' (a flat trace never rises and has "
                                f"not decreased, so it is neither 'too_large' nor 'good'), got {got!r}.")


@pytest.mark.graded("diagnose_trace", points=1, states=[
    "Let the tail be the last `TAIL_FRACTION = 0.2` of the steps: `tail_steps = max(1, ceil(0.2 * (n - 1)))` for a "
    "trace of `n` losses.",
    "`losses[n - 1 - tail_steps] - losses[-1] <= 0.05 * (losses[0] - losses[-1])`."])
def test_diagnose_tail(submission):
    """takes the tail as the last ceil(0.2 (n - 1)) steps, from losses[n - 1 - tail_steps]"""
    # 7 losses: tail_steps = ceil(0.2 * 6) = 2, so the tail runs from losses[4]; 0.05 of the decrease is 5.
    for losses, label, why in (
            ([100.0, 40.0, 10.0, 2.0, 1.0, 0.5, 0.0], "good", "losses[4] - losses[6] = 1 <= 5"),
            ([100.0, 60.0, 30.0, 20.0, 10.0, 1.0, 0.0], "too_small", "losses[4] - losses[6] = 10 > 5")):
        got = submission.diagnose_trace(losses)
        assert got == label, (f"diagnose_trace({losses}): expected {label!r}, got {got!r}. For 7 losses tail_steps = "
                              f"ceil(0.2 * 6) = 2, and {why} = 0.05 * (losses[0] - losses[-1]).")


@pytest.mark.graded("diagnose_trace", points=1, states=[
    "Raise a `ValueError` if `losses` is not one-dimensional or has fewer than two entries."])
def test_diagnose_refuses_a_single_loss(submission):
    """raises a ValueError for a single loss"""
    try:
        got = submission.diagnose_trace([1.0])
    except StudentCodeError as error:
        assert "raised ValueError" in str(error), (
            f"diagnose_trace([1.0]) raised something other than a ValueError: {error}")
        return
    raise AssertionError(f"diagnose_trace([1.0]) returned {checks.brief(got)}; it should raise a ValueError (a trace "
                         "needs at least two losses).")


def unit_quadratic(problems):
    """0.5 ||w||^2, on which a step with rate lr multiplies w by (1 - lr)."""
    return (problems.bind("quadratic_loss", hessian=np.eye(2), optimum=np.zeros(2)),
            problems.bind("quadratic_grad", hessian=np.eye(2), optimum=np.zeros(2)))


@pytest.mark.graded("pick_learning_rate", points=1, states=[
    "ignores a run whose final loss is NaN or infinite (large rates are expected to blow up: that is the point of "
    "trying them)"])
def test_pick_ignores_blown_up_runs(submission, problems):
    """ignores a run whose final loss is infinite or NaN"""
    # On 0.5 ||w||^2 lr = 1e10 multiplies w by about -1e10 per step: after 20 steps the loss overflows to inf,
    # after 40 w itself has become nan.
    loss, grad = unit_quadratic(problems)
    for n_iters, ending in ((20, "inf"), (40, "nan")):
        candidates = [1e10, 0.5]
        got = submission.pick_learning_rate(loss, grad, np.array([1.0, -1.0]), candidates, n_iters)
        assert got is not None, "pick_learning_rate returned None; expected the learning rate 0.5."
        checks.assert_close(checks.as_float(got, "pick_learning_rate"), 0.5,
                            f"pick_learning_rate(loss_fn, grad_fn, [1, -1], {candidates}, {n_iters}) on 0.5 ||w||^2 "
                            f"(the run with lr = 1e10 ends at a loss of {ending}, so it must be ignored)", rtol=1e-12)


@pytest.mark.graded("pick_learning_rate", points=1, states=["and returns `None` if every run diverged."])
def test_pick_none_when_every_run_diverged(submission, problems):
    """returns None when every run ends at an infinite or NaN loss"""
    loss, grad = unit_quadratic(problems)
    for n_iters, ending in ((20, "inf"), (40, "nan")):
        candidates = [1e10, 3e10]
        got = submission.pick_learning_rate(loss, grad, np.array([1.0, -1.0]), candidates, n_iters)
        assert got is None, (f"pick_learning_rate(loss_fn, grad_fn, [1, -1], {candidates}, {n_iters}) on 0.5 ||w||^2 "
                             f"returned {checks.brief(got)}, but both runs end at a loss of {ending}; it should return "
                             "None.")


@pytest.mark.graded("pick_learning_rate", points=1, states=[
    "Overflow is an expected outcome here, not an error: wrap the runs in `with np.errstate(all=\"ignore\"):` so "
    "numpy does not warn about it."])
def test_pick_no_warning_on_overflow(submission, problems):
    """gives no numpy warning when a run overflows"""
    loss, grad = unit_quadratic(problems)
    submission.pick_learning_rate(loss, grad, np.array([1.0, -1.0]), [1e10, 0.5], 40)
    warned = submission.last_call.warnings
    assert not warned, ("pick_learning_rate(loss_fn, grad_fn, [1, -1], [1e10, 0.5], 40), whose first run overflows, "
                        f"gave the warning {warned[0]!r}; wrap the runs in `with np.errstate(all=\"ignore\"):`.")


@pytest.mark.graded("pick_learning_rate", points=1, states=[
    "runs exactly `n_iters` plain gradient steps `w = w - lr * grad_fn(w)` from `w0`", "`w0` itself unchanged);"])
def test_pick_runs_n_iters_steps_from_w0(submission, problems):
    """runs exactly n_iters steps from w0 (evaluating loss_fn where they end) and leaves w0 unchanged"""
    # On 0.5 ||w||^2 a step with lr = 0.5 halves w: 3 steps from [8, -4] end at [1, -0.5].
    problem_loss, grad = unit_quadratic(problems)
    loss = checks.Recorder(problem_loss, max_calls=1000)
    w0 = np.array([8.0, -4.0])
    got = submission.pick_learning_rate(loss, grad, w0, [0.5], 3)
    mutated = submission.last_call.mutated_among(2, "w0")
    assert not mutated, ("pick_learning_rate changed w0 in place; each run must start from the original w0 "
                         "(w = np.array(w0, dtype=float), then w = w - lr * grad_fn(w)).")
    end = np.array([1.0, -0.5])
    assert any(np.allclose(point, end, rtol=1e-12, atol=0.0) for point in loss.points), (
        "pick_learning_rate(loss_fn, grad_fn, [8, -4], [0.5], 3) on 0.5 ||w||^2 never evaluated loss_fn at [1, -0.5], "
        "where exactly 3 steps w = w - 0.5 * grad_fn(w) from [8, -4] end (each halves w). It evaluated loss_fn at "
        f"{', '.join(checks.brief(point) for point in loss.points[:6])}.")
    assert got is not None, "pick_learning_rate returned None; expected the learning rate 0.5 (the only candidate)."
    checks.assert_close(checks.as_float(got, "pick_learning_rate"), 0.5,
                        "pick_learning_rate(loss_fn, grad_fn, [8, -4], [0.5], 3)", rtol=1e-12)
