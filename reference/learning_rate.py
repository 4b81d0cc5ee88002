"""Reading a loss trace, and choosing a learning rate by trying several.

The lecture's three trace plots (still falling, oscillating or blowing up, fallen and flat) are what
:func:`diagnose_trace` names. A label must not depend on the units of the loss, on a constant added
to it, or on how often it was logged, so every quantity the rule looks at is a ratio of loss
differences measured in fractions of the trace's length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np

__all__ = ["diagnose_trace", "pick_learning_rate"]

TraceLabel = Literal["too_small", "too_large", "good"]

#: A rise above the lowest loss seen so far larger than this share of the trace's range is an
#: overshoot. Gradient descent with a step below 2/L never raises the loss of an L-smooth function,
#: so a healthy trace shows no rise at all beyond round-off; a diverging one rises by its whole range.
RISE_SHARE = 0.01

#: The last TAIL_FRACTION of the trace (by position, so subsampling keeps its meaning) is the tail.
TAIL_FRACTION = 0.2

#: A trace whose tail still accounts for more than this share of the total decrease has not levelled
#: off. A straight line puts 20% of its decrease in the last 20%; the slowest "too small" run, one
#: whose fastest mode has decayed by at most a factor e, still puts about 13% there; a converged run
#: puts essentially none there.
TAIL_SHARE = 0.05


def diagnose_trace(losses: Sequence[float] | np.ndarray) -> TraceLabel:
    """Label a gradient-descent loss trace as ``"too_large"``, ``"too_small"`` or ``"good"``.

    1. ``too_large`` if any loss is NaN or infinite, or if the loss ever climbs above the lowest
       value reached before it by more than ``RISE_SHARE`` of the trace's range (max - min): that is
       overshooting, oscillation or divergence.
    2. Otherwise the trace (essentially) never rises. ``good`` if it decreased overall and its last
       ``TAIL_FRACTION`` holds at most ``TAIL_SHARE`` of the total decrease ``losses[0] -
       losses[-1]``: it has levelled off.
    3. Otherwise ``too_small``: it is still falling steadily, or it did not move at all (a learning
       rate of zero gives a flat trace, which has not "decreased", so it cannot be ``good``).

    Both tests compare loss differences with loss differences, so multiplying the trace by a
    positive constant or adding a constant leaves the label unchanged, and positions are fractions
    of the length, so keeping every k-th point keeps the label of a clear-cut trace.
    """
    trace = np.asarray(losses, dtype=float)
    if trace.ndim != 1:
        raise ValueError(f"losses must be one-dimensional, got shape {trace.shape}")
    n = trace.size
    if n < 2:
        raise ValueError("a trace needs at least two losses to be diagnosed")
    if not np.all(np.isfinite(trace)):
        return "too_large"

    with np.errstate(over="ignore", invalid="ignore"):
        # Finite values near the float limit can still overflow a difference; inf here is a rise.
        span = float(np.max(trace) - np.min(trace))
        rise = float(np.max(trace - np.minimum.accumulate(trace)))
    if not np.isfinite(span):
        return "too_large"
    if rise > RISE_SHARE * span:
        return "too_large"

    total_decrease = trace[0] - trace[-1]
    if total_decrease <= 0.0:
        return "too_small"
    tail_steps = max(1, int(np.ceil(TAIL_FRACTION * (n - 1))))
    tail_decrease = trace[n - 1 - tail_steps] - trace[-1]
    if tail_decrease <= TAIL_SHARE * total_decrease:
        return "good"
    return "too_small"


def pick_learning_rate(
    loss_fn: Callable[[np.ndarray], Any],
    grad_fn: Callable[[np.ndarray], Any],
    w0: Any,
    candidates: Sequence[float],
    n_iters: int,
) -> float | None:
    """Return the candidate whose ``n_iters`` plain gradient steps from ``w0`` end at the lowest loss.

    Each candidate gets the same fixed budget and no early stop, so the comparison is fair. A run
    whose final loss is NaN or infinite is ignored (large rates are expected to blow up; that is the
    point of trying them), the first candidate wins a tie, and ``None`` means every run diverged.
    Overflow is silenced because it is an expected outcome here, not an error.
    """
    start = np.array(w0, dtype=float, copy=True)
    best_lr: float | None = None
    best_loss = np.inf
    with np.errstate(all="ignore"):
        for lr in candidates:
            w = start.copy()
            for _ in range(int(n_iters)):
                w = w - lr * np.asarray(grad_fn(w.copy()), dtype=float)
            final = float(loss_fn(w.copy()))
            if np.isfinite(final) and final < best_loss:
                best_lr, best_loss = lr, final
    return best_lr
