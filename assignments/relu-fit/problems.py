"""Problem functions that graders hand to student code; workers rebuild them from data.

This file is public. ``relu``, ``relu_loss`` and ``relu_loss_grad`` are the model of the test
problem (``relu(m x + b)`` with the sum of squared errors and ``relu'(0) = 0``): they are swapped in
for the student's own only while another graded function is checked (the loss and gradient with
this ``relu``, ``fit_relu`` with all three), so that one bug costs the points of one function.
"""

import numpy as np


def relu(z):
    """max(z, 0) elementwise; a float for scalar input."""
    out = np.maximum(np.asarray(z, dtype=float), 0.0)
    return float(out) if out.ndim == 0 else out


def relu_loss(params, x, y):
    """sum_k (relu(m x_k + b) - y_k)^2 with params = [m, b]."""
    m, b = np.asarray(params, dtype=float)
    r = relu(m * np.asarray(x, dtype=float) + b) - np.asarray(y, dtype=float)
    return float(np.sum(r**2))


def relu_loss_grad(params, x, y):
    """[dL/dm, dL/db] = 2 sum_k r_k [z_k > 0] [x_k, 1], with z = m x + b and r = relu(z) - y."""
    m, b = np.asarray(params, dtype=float)
    x = np.asarray(x, dtype=float)
    z = m * x + b
    active = z > 0
    back = 2.0 * (np.where(active, z, 0.0) - np.asarray(y, dtype=float)) * active
    return np.array([np.sum(back * x), np.sum(back)])
