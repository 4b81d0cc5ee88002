"""Checks for hidden-suite authors, with failure messages a student can act on.

Every check raises ``AssertionError`` whose message says what was checked, what was expected, what
came back, and where they differ. Examples::

    w = checks.as_array(submission.gradient_step(w0, g, 0.1), "gradient_step(w, grad, lr)", shape=(3,))
    checks.assert_close(w, reference.gradient_step(w0, g, 0.1), "gradient_step(w, grad, lr)")

    # gradient of the student's function against central differences of OUR loss, per block
    checks.check_gradient(lambda W: ref.logistic_loss(W, X, y),
                          lambda W: submission.logistic_loss_grad(W, X, y), W0,
                          rng=np.random.default_rng(3), what="logistic_loss_grad(W, X, y)")

    calls = checks.Recorder(problem_grad)          # a grader-side callable that logs its inputs
    submission.gradient_descent(loss, calls, w0, lr, max_iters=5)
    checks.assert_gradient_path(calls.points, lr, problem_grad, "gradient_descent")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

_EPS = np.finfo(float).eps


# ------------------------------------------------------------------------------- values and shapes
def brief(value: Any, limit: int = 160) -> str:
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=6, threshold=12, edgeitems=3, linewidth=200):
            text = np.array2string(value, separator=", ")
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_array(value: Any, what: str, *, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``value`` as a float64 array (lists and tuples of numbers accepted), or a clear failure."""
    if value is None:
        raise AssertionError(f"{what} returned None; did the function forget to `return` its result?")
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError(f"{what} returned {brief(value)}, which is not an array of numbers.") from None
    if shape is not None and array.shape != shape:
        raise AssertionError(f"{what} returned an array of shape {array.shape}; expected shape {shape}.")
    return array


def as_float(value: Any, what: str) -> float:
    """``value`` as a float: a float, int, numpy scalar or 0-d (or single-element) array."""
    array = as_array(value, what)
    if array.size != 1:
        raise AssertionError(f"{what} returned {brief(value)} (shape {array.shape}); expected a single number.")
    return float(array.reshape(()))


def assert_float(value: Any, what: str) -> float:
    """``value`` is a float: a Python float or a numpy floating scalar, not a 0-d array, list or int."""
    if not isinstance(value, float | np.floating):
        raise AssertionError(f"{what} returned {brief(value)} of type {type(value).__name__}; it should be a float "
                             "(float(...) turns a one-element array or a numpy number into one).")
    return float(value)


def assert_list_of_floats(values: Any, what: str) -> list[float]:
    """``values`` is a Python list whose entries are floats (see :func:`assert_float`)."""
    if not isinstance(values, list):
        raise AssertionError(f"{what} is a {type(values).__name__}; it should be a list of floats "
                             "(build it with losses.append(float(...)), or convert with list(...)).")
    return [assert_float(value, f"{what}[{index}]") for index, value in enumerate(values)]


def assert_close(actual: Any, expected: Any, what: str, *, rtol: float = 1e-7, atol: float = 1e-10,
                 inputs: str | None = None) -> None:
    """``actual`` equals ``expected`` elementwise within ``atol + rtol * |expected|`` (NaN equals NaN)."""
    expected_array = np.asarray(expected, dtype=float)
    got = as_array(actual, what, shape=expected_array.shape)
    close = np.isclose(got, expected_array, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return
    context = f" for {inputs}" if inputs else ""
    if got.ndim == 0:
        raise AssertionError(f"{what}{context}: expected {float(expected_array):.10g}, got {float(got):.10g}.")
    with np.errstate(invalid="ignore"):
        error = np.where(close, 0.0, np.abs(got - expected_array))
    worst = np.unravel_index(int(np.nanargmax(np.nan_to_num(error, nan=np.inf))), got.shape)
    index = int(worst[0]) if len(worst) == 1 else tuple(int(i) for i in worst)
    raise AssertionError(
        f"{what}{context}: {int((~close).sum())} of {got.size} entries differ; at index {index} expected "
        f"{expected_array[worst]:.10g}, got {got[worst]:.10g}.\n  expected {brief(expected_array)}\n"
        f"  got      {brief(got)}")


def assert_losses_list(losses: Any, what: str, *, length: int | None = None) -> np.ndarray:
    """A sequence of finite-or-not numbers, optionally of a given length, as a 1-D float array."""
    array = as_array(losses, what)
    if array.ndim != 1:
        raise AssertionError(f"{what} should be a list of numbers; got shape {array.shape}.")
    if length is not None and array.size != length:
        raise AssertionError(f"{what} has {array.size} entries; expected {length}.")
    return array


# ---------------------------------------------------------------------------------- gradient check
def check_gradient(loss: Callable[[np.ndarray], float], gradient: Callable[[np.ndarray], Any],
                   point: np.ndarray, *, rng: np.random.Generator, what: str,
                   blocks: Mapping[str, Any] | None = None, directions: int = 4, rtol: float = 1e-6,
                   retries: int = 2, errors: dict[str, float] | None = None) -> None:
    """Check ``gradient`` (usually the student's) against central differences of ``loss`` (ours).

    Along ``directions`` random unit directions inside each parameter block (a name -> index into
    the flattened parameters), the directional derivative ``g . v`` must match
    ``(L(w + h v) - L(w - h v)) / 2h``. A failing block is confirmed before it is reported: retried
    with fresh directions and Richardson extrapolation, then at a slightly moved point.

    ``errors``, if given, receives the relative error of every block in the attempt that decided the
    outcome (for feedback plots; the tolerance is ``rtol``).
    """
    point = np.asarray(point, dtype=float)
    blocks = blocks or {"all parameters": slice(None)}
    failure = _gradient_mismatch(loss, gradient, point, rng, blocks, directions, rtol, richardson=False, what=what,
                                 errors=errors)
    for attempt in range(retries):
        if failure is None:
            return
        moved = point if attempt == 0 else point + 1e-3 * rng.standard_normal(point.shape)
        confirmation = _gradient_mismatch(loss, gradient, moved, rng, blocks, directions, rtol,
                                          richardson=True, what=what, errors=errors)
        if confirmation is None:
            return
    if failure is not None:
        raise AssertionError(failure)


def _gradient_mismatch(loss: Callable[[np.ndarray], float], gradient: Callable[[np.ndarray], Any],
                       point: np.ndarray, rng: np.random.Generator, blocks: Mapping[str, Any],
                       directions: int, rtol: float, *, richardson: bool, what: str,
                       errors: dict[str, float] | None = None) -> str | None:
    if errors is not None:
        errors.clear()
    analytic = as_array(gradient(point.copy()), what, shape=point.shape).ravel()
    if not np.all(np.isfinite(analytic)):
        return f"{what} returned non-finite values {brief(analytic)} at a point where the gradient is finite."
    flat = point.ravel()
    h = 1e-5 * max(1.0, float(np.sqrt(np.mean(flat**2))))
    value = abs(float(loss(point)))

    def central(direction: np.ndarray, step: float) -> float:
        forward = loss((flat + step * direction).reshape(point.shape))
        backward = loss((flat - step * direction).reshape(point.shape))
        return (float(forward) - float(backward)) / (2 * step)

    failure = None
    for name, index in blocks.items():
        if failure is not None and errors is None:
            break
        # Blocks after a failing one are measured only for the feedback, with their own directions, so
        # the generator that decides the outcome is drawn exactly as often as without feedback.
        draw = rng if failure is None else np.random.default_rng(len(errors or ()))
        size = np.zeros(flat.size)[index].size
        found, numeric = np.empty(directions), np.empty(directions)
        for k in range(directions):
            direction = np.zeros(flat.size)
            piece = draw.standard_normal(size)
            direction[index] = piece / np.linalg.norm(piece)
            found[k] = analytic @ direction
            numeric[k] = central(direction, h)
            if richardson:
                numeric[k] = (4 * central(direction, h / 2) - numeric[k]) / 3
        difference = float(np.linalg.norm(found - numeric))
        scale = float(np.linalg.norm(found) + np.linalg.norm(numeric))
        floor = 4 * _EPS * max(value, 1.0) / h * np.sqrt(directions)  # round-off of the differences
        relative = difference / scale if scale else (0.0 if difference == 0 else float("inf"))
        if errors is not None:
            errors[str(name)] = relative
        if failure is None and difference > max(rtol * scale, floor):
            label = "" if name == "all parameters" else f" for the block {name!r}"
            failure = (f"{what} does not match the derivative of the loss{label}: along {directions} random "
                       f"directions it gives {brief(found)}, while finite differences of the loss give "
                       f"{brief(numeric)} (relative error {relative:.2e}).")
    return failure


# -------------------------------------------------------------------------------- gradient descent
class CallBudgetExceeded(RuntimeError):
    """A recorded function was called more often, or with more data, than any correct solution needs."""


class Recorder:
    """A grader-side function that keeps a copy of every argument it was called with.

    It keeps at most ``max_calls`` points and ``max_numbers`` numbers in all (student code decides how
    often it calls): past either, it raises :class:`CallBudgetExceeded`, which the student's function
    sees as an error from the function it was given, so the test fails saying so.
    """

    def __init__(self, function: Callable[[np.ndarray], Any], *, max_calls: int = 20_000,
                 max_numbers: int = 4_000_000) -> None:
        self.function = function
        self.points: list[np.ndarray] = []
        self.max_calls = max_calls
        self._numbers_left = max_numbers

    def __call__(self, w: Any) -> Any:
        point = np.array(w, dtype=float, copy=True)
        self._numbers_left -= point.size
        if len(self.points) >= self.max_calls or self._numbers_left < 0:
            raise CallBudgetExceeded(f"this function was called {len(self.points) + 1:,} times or with more data "
                                     f"than a correct solution needs (at most {self.max_calls:,} calls); stop "
                                     "calling it once you have what you need")
        self.points.append(point)
        return self.function(point.copy())


def distinct_points(points: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The points with immediate repeats removed (evaluating twice at one point is not a step)."""
    kept: list[np.ndarray] = []
    for point in points:
        if not kept or not np.array_equal(point, kept[-1]):
            kept.append(point)
    return kept


def assert_gradient_path(points: Sequence[np.ndarray], lr: float, grad: Callable[[np.ndarray], Any],
                         what: str, *, start: Any | None = None) -> None:
    """Consecutive distinct gradient evaluations follow ``w[t+1] = w[t] - lr * grad(w[t])``.

    This holds for any problem, so it catches off-by-one steps, stale gradients, decayed learning
    rates and clipping without knowing the optimum.
    """
    points = distinct_points(points)
    if start is not None and points:
        assert_close(points[0], np.asarray(start, dtype=float), f"{what}: the first gradient evaluation",
                     rtol=0, atol=1e-12, inputs="the starting point w0")
    for t in range(len(points) - 1):
        expected = points[t] - lr * np.asarray(grad(points[t]), dtype=float)
        if not np.allclose(points[t + 1], expected, rtol=1e-10, atol=1e-12):
            raise AssertionError(
                f"{what}: gradient evaluation {t + 2} was at {brief(points[t + 1])}, but one step "
                f"w - lr * grad(w) from the previous point {brief(points[t])} leads to {brief(expected)}.")


def assert_nonincreasing(losses: np.ndarray, what: str, *, rtol: float = 1e-12) -> None:
    """No loss is larger than the one before it (beyond round-off)."""
    losses = np.asarray(losses, dtype=float)
    slack = rtol * np.maximum(np.abs(losses[:-1]), 1e-300) + 1e-15
    increases = np.flatnonzero(losses[1:] > losses[:-1] + slack)
    if increases.size:
        t = int(increases[0])
        raise AssertionError(f"{what}: the loss went up from {losses[t]:.10g} (step {t}) to "
                             f"{losses[t + 1]:.10g} (step {t + 1}); with this learning rate it never should.")


def quadratic_iterate(hessian: np.ndarray, optimum: np.ndarray, w0: np.ndarray, lr: float, steps: int
                      ) -> np.ndarray:
    """Closed form of ``steps`` gradient steps on ``0.5 (w - w*)^T H (w - w*)``: no loop, no drift."""
    eigenvalues, vectors = np.linalg.eigh(hessian)
    contraction = (1 - lr * eigenvalues) ** steps
    return optimum + vectors @ (contraction * (vectors.T @ (np.asarray(w0, dtype=float) - optimum)))
