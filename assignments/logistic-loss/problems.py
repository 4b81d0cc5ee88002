"""Problem functions that graders hand to student code; workers rebuild them from data.

This file runs in the student's process, so it holds no answer to a graded function: only test
problems for ``numerical_gradient``. (The reference sigmoid, loss and gradient that are swapped in
while ``fit_logistic`` is graded stay in the grader and are called back.)
"""

import numpy as np


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
