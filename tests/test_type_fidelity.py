"""Swapped-in reference helpers behave like the natural implementation the notebook asks for, in the grader
and through the wire, for every kind of value correct student code passes them.

While one graded function is graded, the suites swap the reference in for another the student wrote
(``with_reference(gradient_step=reference.gradient_step)``), and the student's code calls it back over
the wire. A correct gradient_descent that copies a float w0 with ``np.array(w0, dtype=float)`` passes a
0-d array and may use ``.ndim`` on what comes back: the helper's result must have the type, shape
and dtype that the natural implementation (``w - lr * grad``) gives, and the wire must carry it
unchanged.
"""

from __future__ import annotations

import numpy as np
import pytest

from reference import gradient_descent as gd
from reference import logistic_loss as ll
from reference import relu_fit as rf
from tests.test_session import FAST, start  # noqa: F401 - the fixture

SCALARS = {"float": 0.75, "int": 2, "numpy float": np.float64(-0.5), "0-d array": np.array(1.25)}
ARRAYS = {"vector": np.array([0.5, -1.0, 2.0]), "matrix": np.array([[0.5, -1.0], [2.0, 0.25]])}
VALUES = SCALARS | ARRAYS

# Each helper with the one-line implementation its sentence in the notebook describes.
NATURAL = {
    "gradient_step": (gd.gradient_step, lambda w: (w, w, 0.1), lambda w, g, lr: w - lr * g),
    "sigmoid": (ll.sigmoid, lambda z: (z,), lambda z: 1 / (1 + np.exp(-z))),
    "relu": (rf.relu, lambda z: (z,), lambda z: np.maximum(z, 0.0)),
}


def describe(value) -> tuple[type, tuple[int, ...], str]:
    return type(value), np.shape(value), str(np.asarray(value).dtype)


@pytest.mark.parametrize("helper", NATURAL)
@pytest.mark.parametrize("kind", VALUES)
def test_each_helper_in_the_grader_gives_what_the_natural_implementation_gives(helper, kind):
    reference, arguments, natural = NATURAL[helper]
    value = VALUES[kind]
    got, expected = reference(*arguments(value)), natural(*arguments(value))
    assert describe(got) == describe(expected)
    assert np.allclose(got, expected)


PROBE = """
import numpy as np
def probe(helper, value):
    result = helper(*value)
    return type(result).__name__, np.ndim(result), str(np.asarray(result).dtype), result
"""


@pytest.mark.parametrize("helper", NATURAL)
@pytest.mark.parametrize("kind", VALUES)
def test_each_helper_called_back_from_a_worker_gives_the_same(start, helper, kind):  # noqa: F811
    reference, arguments, natural = NATURAL[helper]
    session = start(PROBE)
    value = VALUES[kind]
    name, ndim, dtype, result = session.call("probe", (reference, arguments(value)), {}).value
    expected = natural(*arguments(value))
    assert (name, ndim, dtype) == (type(expected).__name__, np.ndim(expected), str(np.asarray(expected).dtype))
    assert type(result) is type(expected) and np.allclose(result, expected)


def test_a_correct_gradient_descent_that_uses_ndim_runs_with_the_swapped_in_step(start):  # noqa: F811
    """The case that lost a correct notebook three tests: w0 a float, copied to a 0-d array, .ndim used."""
    session = start("""
import numpy as np
def gradient_step(w, grad, lr):
    return w - lr * grad
def gradient_descent(loss_fn, grad_fn, w0, lr, max_iters=1000, tol=1e-10):
    w = np.array(w0, dtype=float)
    losses = [loss_fn(w)]
    for _ in range(max_iters):
        w = gradient_step(w, grad_fn(w), lr)
        assert w.ndim == 0
        losses.append(loss_fn(w))
        if abs(losses[-2] - losses[-1]) < tol:
            break
    return w, losses
""")
    overrides = {"gradient_step": gd.gradient_step}
    w, losses = session.call("gradient_descent", (lambda w: float(w) ** 2, lambda w: 2 * w, 1.5, 0.25),
                             {"max_iters": 3, "tol": 0.0}, overrides).value
    assert np.isclose(float(w), 1.5 * 0.5**3) and len(losses) == 4
