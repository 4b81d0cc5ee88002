"""Public checks for random-restarts: quick sanity checks a student can run before submitting.

They are the same checks as the notebook's ``grader.check(...)`` cells; passing them does not
guarantee full marks.

Every expected value here follows by hand from what the notebook states, or from the student's own
results (all runs from one start end alike; best_w has the lowest of the returned validation losses).
"""

import numpy as np
import pytest

from autograder import checks
from autograder.grader.session import StudentCodeError


def pair(result, what):
    if not (isinstance(result, tuple | list) and len(result) == 2):
        raise AssertionError(f"{what} should return a pair (best_w, val_losses); got {result!r:.200}.")
    if isinstance(result[1], list | tuple):  # entries may be 0-d arrays, which arrive with shape (1,)
        return result[0], [checks.as_float(v, f"val_losses[{i}]") for i, v in enumerate(result[1])]
    return result


@pytest.mark.graded("random_restarts", points=1, states=["`best_w` is the final point with the lowest validation loss"])
def test_double_well_picks_validation_well(submission, problems):
    """random_restarts on the double well returns 8 validation losses and the well validation prefers"""
    # Training loss (w^2 - 1)^2 + 0.5 w prefers the left well; validation (w^2 - 1)^2 - 0.5 w the right
    # one, whose minimum is the largest root of 4 w^3 - 4 w - 0.5 = 0.
    train_loss = problems.bind("double_well_loss", tilt=0.5)
    train_grad = problems.bind("double_well_grad", tilt=0.5)
    val_loss = problems.bind("double_well_loss", tilt=-0.5)
    # Fixed starts on both sides (the seed has its own check): a notebook that ignores the seed still
    # gets the same verdict and message every time it runs this check.
    init = cycling_init(problems, [[-1.8], [-1.3], [-0.7], [-0.2], [0.3], [0.8], [1.4], [1.9]])
    result = submission.random_restarts(train_loss, train_grad, val_loss, init, 8, 0.05, 200, seed=1)
    best_w, val_losses = pair(result, "random_restarts(..., n_restarts=8, lr=0.05, n_iters=200, seed=1)")
    val_losses = checks.assert_losses_list(val_losses, "val_losses", length=8)
    minima = np.sort(np.roots([4.0, 0.0, -4.0, 0.5]).real)[[0, 2]]
    # After 200 steps every run sits at one of the two training minima, so every validation loss is
    # the validation loss at one of them.
    at_minima = [val_loss(np.array([m])) for m in minima]
    off = [i for i, v in enumerate(val_losses) if min(abs(v - m) for m in at_minima) > 1e-6]
    assert not off, (f"val_losses {np.round(val_losses, 6).tolist()}: entries {off} are not the validation loss "
                     f"at a trained point (one of {np.round(at_minima, 6).tolist()}); evaluate val_loss after "
                     "the n_iters steps.")
    checks.assert_close(best_w, [minima[1]], "best_w (the right-hand minimum, chosen by validation loss)",
                        rtol=1e-6)


@pytest.mark.graded("random_restarts", points=1, states=[
    "draw the start `w = init_fn(rng)`.",
    "so the starts depend only on `seed`.",
    "`val_losses[i]` is `val_loss` (a float) at the final point of run `i`."])
def test_starts_come_from_the_seed(submission, problems):
    """with n_iters=0, val_losses are val_loss at init_fn(rng) for rng = np.random.default_rng(seed)"""
    train_loss = problems.bind("double_well_loss", tilt=0.5)
    train_grad = problems.bind("double_well_grad", tilt=0.5)
    val_loss = problems.bind("double_well_loss", tilt=-0.5)
    init = problems.bind("uniform_init", low=-2.0, high=2.0, size=1)
    rng = np.random.default_rng(7)
    expected = [val_loss(init(rng)) for _ in range(5)]
    what = "random_restarts(..., n_restarts=5, lr=0.05, n_iters=0, seed=7)"
    _, val_losses = pair(submission.random_restarts(train_loss, train_grad, val_loss, init, 5, 0.05, 0, seed=7), what)
    # Starts that do not come from the seed differ from call to call: say so, rather than show numbers
    # that change every time the check runs.
    _, again = pair(submission.random_restarts(train_loss, train_grad, val_loss, init, 5, 0.05, 0, seed=7), what)
    first = checks.assert_losses_list(val_losses, f"val_losses of {what}", length=5)
    second = checks.assert_losses_list(again, f"val_losses of {what}", length=5)
    assert np.array_equal(first, second, equal_nan=True), (
        f"two calls of {what} returned different val_losses, so the starts do not depend only on seed: create one "
        "generator rng = np.random.default_rng(seed) and draw every start with init_fn(rng).")
    checks.assert_close(val_losses, expected, "val_losses with n_iters=0 and seed=7", rtol=1e-10)


def cycling_init(problems, points):
    """An init_fn handing out ``points`` in turn (it ignores the generator); bind a fresh one for every call."""
    return problems.bind("cycling_init", points=np.array(points, dtype=float), counter=[0])


def slope_one_loss(w):
    """sum(w): its gradient is 1 everywhere, so every step w - lr * grad moves each entry down by exactly lr."""
    return float(np.sum(w))


def slope_one_grad(w):
    return np.ones(np.shape(w))


@pytest.mark.graded("random_restarts", points=1, states=[
    "From each start take exactly `n_iters` plain gradient steps `w = w - lr * train_grad(w)` (no early stop).",
    "`val_losses[i]` is `val_loss` (a float) at the final point of run `i`."])
def test_exactly_n_iters_steps_by_hand(submission, problems):
    """with a gradient of 1 everywhere, 3 steps of lr=0.1 take the starts 0.5 and 1.5 to 0.2 and 1.2, then validate"""
    val_loss = problems.bind("double_well_loss", tilt=0.0)  # (w^2 - 1)^2
    what = ("random_restarts(sum(w), gradient 1, val_loss (w^2 - 1)^2, init_fn giving [0.5] then [1.5], "
            "n_restarts=2, lr=0.1, n_iters=3)")
    result = submission.random_restarts(slope_one_loss, slope_one_grad, val_loss,
                                        cycling_init(problems, [[0.5], [1.5]]), 2, 0.1, 3)
    best_w, val_losses = pair(result, what)
    val_losses = checks.assert_losses_list(val_losses, f"val_losses of {what}", length=2)
    finals = [np.array([0.5 - 0.1 - 0.1 - 0.1]), np.array([1.5 - 0.1 - 0.1 - 0.1])]  # 0.2 and 1.2
    checks.assert_close(val_losses, [val_loss(w) for w in finals], f"val_losses of {what}", rtol=1e-9,
                        inputs="3 steps of w - 0.1 * 1 from 0.5 and 1.5 end at 0.2 and 1.2, where (w^2 - 1)^2 is "
                               "0.9216 and 0.1936")
    checks.assert_close(best_w, finals[1], f"best_w of {what} (the trained point 1.2, the lower validation loss)",
                        rtol=1e-9)


@pytest.mark.graded("random_restarts", points=1, states=[
    "Never modify an array that `init_fn` returned in place (`w = w - ...`, not `w -= ...`)."])
def test_runs_from_one_start_end_alike(submission, problems):
    """when init_fn returns the same array every time, every run starts there, so all val_losses are equal"""
    # An update in place (w -= ...) would move the shared start, so a later run would start elsewhere.
    train_loss = problems.bind("double_well_loss", tilt=0.5)
    train_grad = problems.bind("double_well_grad", tilt=0.5)
    val_loss = problems.bind("double_well_loss", tilt=-0.5)
    init = problems.bind("fixed_init", start=np.array([0.3]))
    what = "random_restarts(..., init_fn returning the same array [0.3] each time, n_restarts=3, lr=0.05, n_iters=5)"
    _, val_losses = pair(submission.random_restarts(train_loss, train_grad, val_loss, init, 3, 0.05, 5), what)
    val_losses = checks.assert_losses_list(val_losses, f"val_losses of {what}", length=3)
    assert np.allclose(val_losses, val_losses[0], rtol=1e-12, atol=0, equal_nan=True), (
        f"val_losses of {what} are {checks.brief(val_losses)}; all three runs start from the same array [0.3] and "
        "take the same steps, so they should all be equal. A later run started somewhere else: update with "
        "w = w - lr * g, never w -= lr * g, which moves the array init_fn returned (the start of every later run).")


@pytest.mark.graded("random_restarts", points=1, states=[
    "Weights may be floats or arrays: return a float `best_w` when the starts are floats."])
def test_float_starts_give_a_float(submission, problems):
    """returns a float best_w when init_fn returns floats"""
    train_loss = problems.bind("double_well_loss", tilt=0.5)
    train_grad = problems.bind("double_well_grad", tilt=0.5)
    val_loss = problems.bind("double_well_loss", tilt=-0.5)
    init = problems.bind("cycling_float_init", points=np.array([0.4, -1.3, 1.1]), counter=[0])
    what = "random_restarts(..., init_fn giving the floats 0.4, -1.3, 1.1, n_restarts=3, lr=0.05, n_iters=5)"
    best_w, _ = pair(submission.random_restarts(train_loss, train_grad, val_loss, init, 3, 0.05, 5), what)
    checks.assert_float(best_w, f"{what} (its best_w)")


@pytest.mark.graded("random_restarts", points=1, states=[
    "and a NaN validation loss counts as worse than any number."])
def test_nan_validation_loss_is_never_best(submission, problems):
    """a run whose validation loss is NaN is never chosen, even the first one"""
    # Runs 0 and 2 stay left of 0, where this validation loss is NaN; run 1 stays right of 0.
    train_loss = problems.bind("double_well_loss", tilt=0.5)
    train_grad = problems.bind("double_well_grad", tilt=0.5)
    val_loss = problems.bind("double_well_loss_nan_left", tilt=-0.5)
    what = ("random_restarts(..., val_loss NaN for w < 0, init_fn giving [-1.0], [1.0], [-0.5], n_restarts=3, "
            "lr=0.05, n_iters=5)")
    init = cycling_init(problems, [[-1.0], [1.0], [-0.5]])
    result = submission.random_restarts(train_loss, train_grad, val_loss, init, 3, 0.05, 5)
    best_w, val_losses = pair(result, what)
    val_losses = checks.assert_losses_list(val_losses, f"val_losses of {what}", length=3)
    best_w = checks.as_array(best_w, f"best_w of {what}", shape=(1,))
    best_loss = val_loss(best_w)
    assert not np.isnan(best_loss), (
        f"best_w of {what} is {checks.brief(best_w)}, whose validation loss is NaN; a NaN validation loss counts as "
        "worse than any number, so best_w should be the trained point of the run with the lowest validation loss "
        f"that is a number (val_losses are {checks.brief(val_losses)}).")
    numbers = val_losses[~np.isnan(val_losses)]
    lowest = float(numbers.min()) if numbers.size else float("nan")
    checks.assert_close(best_loss, lowest, f"the validation loss of best_w of {what}", rtol=1e-12,
                        inputs="the lowest of your val_losses that is not NaN")


@pytest.mark.graded("random_restarts", points=1, states=["Raise a `ValueError` if `n_restarts < 1`."])
def test_fewer_than_one_restart_is_refused(submission, problems):
    """raises a ValueError if n_restarts < 1"""
    train_loss = problems.bind("double_well_loss", tilt=0.5)
    train_grad = problems.bind("double_well_grad", tilt=0.5)
    val_loss = problems.bind("double_well_loss", tilt=-0.5)
    init = problems.bind("uniform_init", low=-2.0, high=2.0, size=1)
    for n_restarts in (0, -1):
        what = f"random_restarts(..., n_restarts={n_restarts}, lr=0.05, n_iters=5)"
        try:
            got = submission.random_restarts(train_loss, train_grad, val_loss, init, n_restarts, 0.05, 5)
        except StudentCodeError as error:
            assert "raised ValueError" in str(error), f"{what} raised something other than a ValueError: {error}"
            continue
        raise AssertionError(f"{what} returned {checks.brief(got)}; it should raise a ValueError.")
