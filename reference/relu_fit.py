"""Fitting a single ReLU unit ``relu(m * x + b)`` to 1-D data by gradient descent.

This is the smallest model with a kink: points whose pre-activation is negative give no gradient at
all. The derivative at exactly zero is taken to be 0 (as in most deep-learning libraries), so that a
point sitting on the kink does not move the parameters; gradient checks must therefore keep every
pre-activation away from zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["fit_relu", "relu", "relu_loss", "relu_loss_grad", "relu_model"]


def relu(z: Any) -> float | np.ndarray:
    """Return ``max(z, 0)`` elementwise; a float for scalar input (a numpy float, as ``np.maximum(z, 0.0)``
    gives: it is swapped in for the student's relu, so it behaves like the natural implementation). NaN
    stays NaN."""
    out = np.maximum(np.asarray(z, dtype=float), 0.0)
    return out[()] if out.ndim == 0 else out


def relu_model(x: Any, m: float, b: float) -> float | np.ndarray:
    """Return the model's predictions ``relu(m * x + b)``."""
    return relu(float(m) * np.asarray(x, dtype=float) + float(b))


def _unpack(params: Any) -> tuple[float, float]:
    """Split ``params = [m, b]``, insisting on exactly two numbers so a mix-up fails loudly."""
    p = np.asarray(params, dtype=float)
    if p.shape != (2,):
        raise ValueError(f"params must be [m, b] (shape (2,)), got shape {p.shape}")
    return float(p[0]), float(p[1])


def relu_loss(params: Any, x: Any, y: Any) -> float:
    """Return the sum of squared errors ``sum_k (relu(m x_k + b) - y_k)^2`` with ``params = [m, b]``."""
    m, b = _unpack(params)
    residual = np.asarray(relu_model(x, m, b)) - np.asarray(y, dtype=float)
    return float(np.sum(residual**2))


def relu_loss_grad(params: Any, x: Any, y: Any) -> np.ndarray:
    """Return ``[dL/dm, dL/db]`` of :func:`relu_loss`, using ``relu'(0) = 0``.

    With ``z_k = m x_k + b`` and ``r_k = relu(z_k) - y_k``: ``dL/dm = 2 sum r_k [z_k > 0] x_k`` and
    ``dL/db = 2 sum r_k [z_k > 0]``. The strict inequality is the ``relu'(0) = 0`` convention.
    """
    m, b = _unpack(params)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    z = m * x + b
    active = z > 0
    r = np.where(active, z, 0.0) - y
    back = 2.0 * r * active
    return np.array([np.sum(back * x), np.sum(back)])


def fit_relu(x: Any, y: Any, lr: float, n_iters: int, params0: Any) -> tuple[np.ndarray, list[float]]:
    """Take exactly ``n_iters`` plain gradient steps on :func:`relu_loss` from ``params0``.

    Returns ``(params, losses)`` with ``losses[0]`` at ``params0`` and one entry per step
    (``n_iters + 1`` in all). ``params0`` is copied, never modified.
    """
    params = np.array(params0, dtype=float, copy=True)
    _unpack(params)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    losses = [relu_loss(params, x, y)]
    for _ in range(int(n_iters)):
        params = params - lr * relu_loss_grad(params, x, y)
        losses.append(relu_loss(params, x, y))
    return params, losses
