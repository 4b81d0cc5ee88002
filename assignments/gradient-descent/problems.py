"""Problem functions that graders hand to student code; workers rebuild them from data.

This file is public: it holds losses and gradients of test problems, never an answer.
"""

import numpy as np


def quadratic_loss(w, hessian, optimum):
    """0.5 (w - w*)^T H (w - w*)."""
    d = np.asarray(w, dtype=float) - optimum
    return float(0.5 * d @ hessian @ d)


def quadratic_grad(w, hessian, optimum):
    return hessian @ (np.asarray(w, dtype=float) - optimum)


def parabola_loss(w, curvature, optimum):
    """0.5 a (w - c)^2 for a single float weight."""
    return 0.5 * curvature * (w - optimum) ** 2


def parabola_grad(w, curvature, optimum):
    return curvature * (w - optimum)


def least_squares_loss(w, X, y):
    """0.5 ||X w - y||^2."""
    r = X @ np.asarray(w, dtype=float) - y
    return float(0.5 * r @ r)


def least_squares_grad(w, X, y):
    return X.T @ (X @ np.asarray(w, dtype=float) - y)
