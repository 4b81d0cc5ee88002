"""Public checks for random-restarts: quick sanity checks a student can run before submitting.

They are the same checks as the notebook's ``grader.check(...)`` cells; passing them does not
guarantee full marks.
"""

import numpy as np
import pytest

from autograder import checks


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
    init = problems.bind("uniform_init", low=-2.0, high=2.0, size=1)
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
    "`val_losses[i]` is `val_loss` (a float) at the final point of run `i`."])
def test_starts_come_from_the_seed(submission, problems):
    """with n_iters=0, val_losses are val_loss at init_fn(rng) for rng = np.random.default_rng(seed)"""
    train_loss = problems.bind("double_well_loss", tilt=0.5)
    train_grad = problems.bind("double_well_grad", tilt=0.5)
    val_loss = problems.bind("double_well_loss", tilt=-0.5)
    init = problems.bind("uniform_init", low=-2.0, high=2.0, size=1)
    rng = np.random.default_rng(7)
    expected = [val_loss(init(rng)) for _ in range(5)]
    result = submission.random_restarts(train_loss, train_grad, val_loss, init, 5, 0.05, 0, seed=7)
    _, val_losses = pair(result, "random_restarts(..., n_restarts=5, lr=0.05, n_iters=0, seed=7)")
    checks.assert_close(val_losses, expected, "val_losses with n_iters=0 and seed=7", rtol=1e-10)
