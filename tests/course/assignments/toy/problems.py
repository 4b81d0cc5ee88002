import numpy as np


def scale(x, factor):
    return factor * np.asarray(x, dtype=float)
