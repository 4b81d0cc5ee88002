"""The figures a notebook drew, read from what its worker sent, and the facts hidden tests check on them.

The worker sends plain data only (:mod:`autograder.worker.figures`): per figure its axes, per axes its
lines as numeric arrays, its scales, title, axis labels and legend texts. Everything here treats that
data as hostile: every field is checked for its type, strings are cut and made printable, arrays are
copied as float64 and held to the same limits the worker applies; what does not fit is left out, and
reading never raises. The facts a test grades (is the y axis logarithmic, does a line hold these
losses, does the legend name this rate) are all decided here, from those numbers and strings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.grader.escaping import printable
from autograder.worker.figures import LIMITS, SCALES


@dataclass(frozen=True, eq=False)  # compared by identity: they hold arrays
class PlottedLine:
    label: str
    x: np.ndarray  # float64, at most LIMITS.max_points
    y: np.ndarray
    points: int  # the line's full length (x and y may have been cut)

    @property
    def complete(self) -> bool:
        return self.points == self.y.size


@dataclass(frozen=True, eq=False)  # compared by identity: they hold arrays
class PlottedAxes:
    title: str
    x_label: str
    y_label: str
    x_scale: str
    y_scale: str
    legend: tuple[str, ...] | None  # the texts of the axes' legend; None when it has none
    lines: tuple[PlottedLine, ...]


@dataclass(frozen=True, eq=False)  # compared by identity: they hold arrays
class PlottedFigure:
    number: int | None
    title: str
    legend: tuple[str, ...] | None  # a figure-level legend (fig.legend())
    axes: tuple[PlottedAxes, ...]

    def legend_texts(self, axes: PlottedAxes) -> tuple[str, ...]:
        """What the legends a reader sees beside ``axes`` say: its own and the figure's."""
        return (axes.legend or ()) + (self.legend or ())


def read_figures(data: Any) -> tuple[PlottedFigure, ...]:
    """The figures in a worker's ``figures`` message; anything malformed is left out, never an error."""
    figures = data.get("figures") if isinstance(data, dict) else None
    if not isinstance(figures, list):
        return ()
    budget = {"lines": LIMITS.max_lines_total, "points": LIMITS.max_points_total}
    found = []
    for item in figures[: LIMITS.max_figures]:
        figure = _figure(item, budget)
        if figure is not None:
            found.append(figure)
    return tuple(found)


def _text(value: Any) -> str:
    return printable(value[: LIMITS.max_text]) if isinstance(value, str) else ""


def _legend(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(_text(entry) for entry in value[: LIMITS.max_legend])


def _scale(value: Any) -> str:
    return value if isinstance(value, str) and value in SCALES else "other"


def _figure(item: Any, budget: dict[str, int]) -> PlottedFigure | None:
    if not isinstance(item, dict) or not isinstance(item.get("axes"), list):
        return None
    number = item.get("number")
    axes = [_axes(entry, budget) for entry in item["axes"][: LIMITS.max_axes]]
    return PlottedFigure(number if type(number) is int else None, _text(item.get("title")), _legend(item.get("legend")),
                         tuple(a for a in axes if a is not None))


def _axes(item: Any, budget: dict[str, int]) -> PlottedAxes | None:
    if not isinstance(item, dict):
        return None
    lines = []
    for entry in item.get("lines", [])[: LIMITS.max_lines] if isinstance(item.get("lines"), list) else []:
        line = _line(entry, budget)
        if line is not None:
            lines.append(line)
    return PlottedAxes(_text(item.get("title")), _text(item.get("x_label")), _text(item.get("y_label")),
                       _scale(item.get("x_scale")), _scale(item.get("y_scale")), _legend(item.get("legend")),
                       tuple(lines))


def _numbers(value: Any) -> np.ndarray | None:
    if not isinstance(value, np.ndarray) or value.ndim != 1 or value.dtype.kind not in "biuf":
        return None
    return value.astype(np.float64, copy=True)


def _line(item: Any, budget: dict[str, int]) -> PlottedLine | None:
    if not isinstance(item, dict) or budget["lines"] <= 0:
        return None
    x, y, points = _numbers(item.get("x")), _numbers(item.get("y")), item.get("points")
    if x is None or y is None or x.size != y.size:
        return None
    if type(points) is not int or not x.size <= points <= 10**12:  # a length the worker could not have counted
        points = x.size
    size = min(x.size, LIMITS.max_points, budget["points"])
    if size < x.size:
        x, y = x[:size], y[:size]
    budget["lines"] -= 1
    budget["points"] -= size
    return PlottedLine(_text(item.get("label")), x, y, points)


# ---------------------------------------------------------------------------------------- facts
def all_axes(figures: Sequence[PlottedFigure]) -> list[tuple[PlottedFigure, PlottedAxes]]:
    return [(figure, axes) for figure in figures for axes in figure.axes]


def holds_values(line: PlottedLine, expected: Sequence[float] | np.ndarray, *, rtol: float = 1e-7) -> bool:
    """Whether ``line``'s y values are ``expected``, in order, all of them (NaN and inf where they are)."""
    want = np.asarray(expected, dtype=np.float64)
    if not line.complete or line.y.shape != want.shape:
        return False
    finite = np.isfinite(want)
    if not np.array_equal(np.isfinite(line.y), finite) or not np.array_equal(line.y[~finite], want[~finite],
                                                                             equal_nan=True):
        return False
    return bool(np.allclose(line.y[finite], want[finite], rtol=rtol, atol=0.0))


def increasing(values: np.ndarray) -> bool:
    return bool(values.size and np.all(np.isfinite(values)) and np.all(np.diff(values) > 0))


_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def names_number(label: str, value: float, *, rtol: float = 1e-9) -> bool:
    """Whether ``label`` writes ``value`` as a number (``"lr = 0.08"``, ``"η=8e-2"``, ``"0.08 (good)"``)."""
    for match in _NUMBER.findall(label[: LIMITS.max_text]):
        try:
            found = float(match)
        except ValueError:
            continue
        if math.isclose(found, value, rel_tol=rtol, abs_tol=0.0):
            return True
    return False


def describe(figures: Sequence[PlottedFigure]) -> str:
    """The figures in a sentence, for a failure message: what the grader saw."""
    if not figures:
        return "The notebook drew no figure with pyplot."
    parts = []
    for figure in figures[:4]:
        shapes = ", ".join(f"{len(a.lines)} line{'s' if len(a.lines) != 1 else ''} ({a.y_scale} y scale)"
                           for a in figure.axes[:4]) or "no axes"
        parts.append(f"figure {figure.number if figure.number is not None else '?'}: {shapes}")
    more = f" and {len(figures) - 4} more" if len(figures) > 4 else ""
    return f"The notebook drew {len(figures)} figure{'s' if len(figures) != 1 else ''} ({'; '.join(parts)}{more})."
