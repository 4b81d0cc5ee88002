"""Problem functions that graders hand to student code; workers rebuild them from data.

This file runs in the student's process, so it holds no answer to a graded function: only the test
functions ``numerical_gradient`` differentiates, and not their gradients, which would be that answer
(student code can find anything defined here from the function it is given). Their gradients are in
``reference/logistic_loss.py``. (The reference sigmoid, loss and gradient that are swapped in while
``fit_logistic`` is graded stay in the grader and are called back.)
"""

import numpy as np


def tanh_net_loss(W, X, v, y):
    """0.5 ||tanh(X @ W) @ v - y||^2: a 2-layer network as a function of its first-layer matrix W."""
    r = np.tanh(X @ np.asarray(W, dtype=float)) @ v - y
    return float(0.5 * r @ r)


def rosenbrock(W, a, b):
    """sum_i b (w_{i+1} - w_i^2)^2 + (a - w_i)^2: curved valleys, large third derivatives."""
    w = np.asarray(W, dtype=float)
    return float(np.sum(b * (w[1:] - w[:-1] ** 2) ** 2 + (a - w[:-1]) ** 2))


def sum_of_cubes(W):
    """sum(W^3): its gradient 3 W^2 is exact to round-off with central differences."""
    return float(np.sum(np.asarray(W, dtype=float) ** 3))


def sum_of_squares_then_scribble(W):
    """sum(W^2), after which it overwrites its argument with zeros: a function that modifies what it is given."""
    value = float(np.sum(np.asarray(W, dtype=float) ** 2))
    if isinstance(W, np.ndarray) and W.flags.writeable:
        W[...] = 0.0
    return value
