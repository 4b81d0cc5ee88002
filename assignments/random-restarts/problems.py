"""Problem functions that graders hand to student code; workers rebuild them from data.

This file is public: it holds losses, gradients and start-point generators of test problems, never
an answer. Init functions take the generator first (``init_fn(rng)``) and their data as keywords.
"""

import numpy as np


# ----------------------------------------------------------------------------------- double well
def double_well_loss(w, tilt):
    """(w^2 - 1)^2 + tilt * w, summed over the entries of w (one entry in the tests)."""
    w = np.asarray(w, dtype=float)
    return float(np.sum((w**2 - 1.0) ** 2 + tilt * w))


def double_well_grad(w, tilt):
    w = np.asarray(w, dtype=float)
    return 4.0 * w * (w**2 - 1.0) + tilt


# ---------------------------------------------------------------------------------- start points
def uniform_init(rng, low, high, size, report=None):
    """A start drawn from U[low, high]; ``report``, when given, is told every start drawn."""
    w = rng.uniform(low, high, size)
    if report is not None:
        report(w)
    return w


def normal_init(rng, scale, size):
    """A start drawn from N(0, scale^2), entry by entry."""
    return rng.normal(0.0, scale, size)


def cycling_init(rng, points, counter):
    """Hands out points[0], points[1], ... in turn, ignoring the generator.

    ``counter`` (a one-entry list) holds the index of the next point; it starts at 0 in
    every call a grader makes, so the starts are known whatever the code does with its generator.
    """
    index = int(counter[0])
    counter[0] = index + 1
    return np.array(points[index % len(points)], dtype=float)


def cycling_float_init(rng, points, counter):
    """Like cycling_init, for float weights: hands out the floats points[0], points[1], ... in turn."""
    index = int(counter[0])
    counter[0] = index + 1
    return float(points[index % len(points)])


def fixed_init(rng, start):
    """Hands out the very same array object at every call (an init_fn may; the runs must not change it)."""
    return start


def double_well_loss_nan_left(w, tilt):
    """The double-well loss, but NaN for a point in the left well (w < 0): a validation loss that fails."""
    w = np.asarray(w, dtype=float)
    return float("nan") if float(np.sum(w)) < 0 else float(np.sum((w**2 - 1.0) ** 2 + tilt * w))


def _xor_unpack(w):
    w = np.asarray(w, dtype=float)
    return w[0:4].reshape(2, 2), w[4:6], w[6:8], w[8]


def _xor_forward(w, X):
    W1, b1, w2, b2 = _xor_unpack(w)
    hidden = np.tanh(X @ W1 + b1)
    return hidden, hidden @ w2 + b2


def xor_loss(w, X, y):
    """Mean squared error / 2 of the 2-2-1 tanh network with flat parameters (W1, b1, w2, b2).

    W1 is row-major 2x2 (input by hidden), the output is linear: hidden @ w2 + b2.
    """
    _, output = _xor_forward(w, X)
    r = output - y
    return float(0.5 * np.mean(r**2))


def xor_grad(w, X, y):
    w2 = _xor_unpack(w)[2]
    hidden, output = _xor_forward(w, X)
    d_output = (output - y) / len(y)
    d_hidden = np.outer(d_output, w2) * (1.0 - hidden**2)
    return np.concatenate([(X.T @ d_hidden).ravel(), d_hidden.sum(axis=0), hidden.T @ d_output,
                           [d_output.sum()]])
