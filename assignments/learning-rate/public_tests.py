"""Public checks for learning-rate: quick sanity checks a student can run before submitting.

They mirror the checks in the notebook's test cells; passing them does not guarantee full marks.
"""

import numpy as np
import pytest

from autograder import checks

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
