"""Public checks for random-restarts: quick sanity checks a student can run before submitting.

They are the same checks as the notebook's ``grader.check(...)`` cells; passing them does not
guarantee full marks.
"""

import numpy as np
import pytest

from autograder import checks


@pytest.mark.graded("random_restarts", points=1)
def test_double_well_picks_validation_well(submission, problems):
    """random_restarts on the double well returns 8 validation losses and the well validation prefers"""
    # Training loss (w^2 - 1)^2 + 0.5 w prefers the left well; validation (w^2 - 1)^2 - 0.5 w the right
    # one, whose minimum is the largest root of 4 w^3 - 4 w - 0.5 = 0.
    train_loss = problems.bind("double_well_loss", tilt=0.5)
    train_grad = problems.bind("double_well_grad", tilt=0.5)
    val_loss = problems.bind("double_well_loss", tilt=-0.5)
    init = problems.bind("uniform_init", low=-2.0, high=2.0, size=1)
    result = submission.random_restarts(train_loss, train_grad, val_loss, init, 8, 0.05, 200, seed=1)
    assert isinstance(result, tuple | list) and len(result) == 2, "random_restarts should return (best_w, val_losses)"
    checks.assert_losses_list(result[1], "val_losses", length=8)
    right_minimum = float(np.roots([4.0, 0.0, -4.0, 0.5]).real.max())
    checks.assert_close(result[0], [right_minimum], "best_w (the right-hand minimum, chosen by validation loss)",
                        rtol=1e-6)


@pytest.mark.graded("random_restarts", points=1)
def test_starts_come_from_the_seed(submission, problems):
    """with n_iters=0, val_losses are val_loss at init_fn(rng) for rng = np.random.default_rng(seed)"""
    train_loss = problems.bind("double_well_loss", tilt=0.5)
    train_grad = problems.bind("double_well_grad", tilt=0.5)
    val_loss = problems.bind("double_well_loss", tilt=-0.5)
    init = problems.bind("uniform_init", low=-2.0, high=2.0, size=1)
    rng = np.random.default_rng(7)
    expected = [val_loss(init(rng)) for _ in range(5)]
    _, val_losses = submission.random_restarts(train_loss, train_grad, val_loss, init, 5, 0.05, 0, seed=7)
    checks.assert_close(val_losses, expected, "val_losses with n_iters=0 and seed=7", rtol=1e-10)
