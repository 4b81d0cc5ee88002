"""Problem functions that graders hand to student code; workers rebuild them from data.

This file is public. ``sigmoid``, ``logistic_loss`` and ``logistic_loss_grad`` are stable versions
of the logistic loss: they are the loss of the test problem, swapped in for the student's own only
while ``fit_logistic`` (or a function built on ``sigmoid``) is graded, so that one bug costs the
points of one function. The other functions are test problems for ``numerical_gradient``.
"""

import numpy as np


def sigmoid(z):
    """1 / (1 + exp(-z)), exponentiating only -|z| so that no z overflows."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    out = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return float(out) if out.ndim == 0 else out


def logistic_loss(W, X, y):
    """sum_i -[y_i log p_i + (1 - y_i) log(1 - p_i)], p = sigmoid(X @ W), via softplus."""
    z = np.asarray(X, dtype=float) @ np.asarray(W, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(np.sum((1.0 - y) * np.logaddexp(0.0, z) + y * np.logaddexp(0.0, -z)))


def logistic_loss_grad(W, X, y):
    """X^T (sigmoid(X @ W) - y)."""
    X = np.asarray(X, dtype=float)
    return X.T @ (sigmoid(X @ np.asarray(W, dtype=float)) - np.asarray(y, dtype=float))


def tanh_net_loss(W, X, v, y):
    """0.5 ||tanh(X @ W) @ v - y||^2: a 2-layer network as a function of its first-layer matrix W."""
    r = np.tanh(X @ np.asarray(W, dtype=float)) @ v - y
    return float(0.5 * r @ r)


def tanh_net_grad(W, X, v, y):
    hidden = np.tanh(X @ np.asarray(W, dtype=float))
    r = hidden @ v - y
    return X.T @ (np.outer(r, v) * (1.0 - hidden**2))


def rosenbrock(W, a, b):
    """sum_i b (w_{i+1} - w_i^2)^2 + (a - w_i)^2: curved valleys, large third derivatives."""
    w = np.asarray(W, dtype=float)
    return float(np.sum(b * (w[1:] - w[:-1] ** 2) ** 2 + (a - w[:-1]) ** 2))


def rosenbrock_grad(W, a, b):
    w = np.asarray(W, dtype=float)
    g = np.zeros_like(w)
    g[:-1] = -4.0 * b * w[:-1] * (w[1:] - w[:-1] ** 2) - 2.0 * (a - w[:-1])
    g[1:] += 2.0 * b * (w[1:] - w[:-1] ** 2)
    return g
