"""The figures a notebook draws, captured as plain data (runs inside the worker, beside student code).

A hidden test may grade a plot: three loss traces on one log-scale axes, say. The worker never renders
anything and never sends an object: per figure it extracts numbers and short strings only, as far as
:data:`LIMITS` allow, and the grader decides every fact from them (:mod:`autograder.grader.figures`)::

    {"number": 1, "title": "...", "legend": ["..."] or None,
     "axes": [{"title", "x_label", "y_label", "x_scale", "y_scale", "legend": [...] or None,
               "lines": [{"label": "...", "x": float64 array, "y": float64 array, "points": n}]}]}

Figures are captured as Jupyter's inline backend shows them: at the end of every cell (and whenever the
notebook calls ``plt.show()``), so a figure closed right after it was shown is still seen. A figure
captured again replaces its earlier capture. Only ``Line2D`` lines (``plot``, ``semilogy``, ``loglog``)
are read; ``x`` and ``y`` are the line's data as matplotlib draws it (units converted, masked points
NaN), cut to ``max_points``, with ``points`` the line's full length.

Student code may have replaced any method of any matplotlib object, so every value read here is
checked for its exact type (a ``str`` subclass or an object with ``__array__`` is not a string or an
array), and anything that cannot be read is left out. What the helpers rely on is bound at import.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

_array, _float64, _ndarray = np.array, np.float64, np.ndarray
_ascontiguousarray = np.ascontiguousarray
_type, _str, _int, _len, _list, _id, _min, _range = type, str, int, len, list, id, min, range


@dataclass(frozen=True)
class FigureLimits:
    """What one notebook's figures may hold once captured (the grader holds decoded data to the same)."""

    max_figures: int = 8
    max_axes: int = 12  # per figure
    max_lines: int = 16  # per axes
    # All lines of all figures: each line is two arrays in the frame, far under the wire's 1,024 arrays.
    max_lines_total: int = 96
    max_points: int = 5_000  # per line
    max_points_total: int = 200_000
    max_text: int = 200  # characters of a title, an axis label or a legend entry
    max_legend: int = 32  # entries of one legend


LIMITS = FigureLimits()
SCALES = ("linear", "log", "symlog", "logit", "function", "functionlog", "asinh")


def text(value: Any, limit: int = LIMITS.max_text) -> str:
    """``value`` if it is exactly a ``str`` (cut to ``limit``), else the empty string."""
    if _type(value) is not _str:
        return ""
    return value[:limit]


class FigureRecorder:
    """The figures of one notebook, captured after each cell and at each ``plt.show()``."""

    def __init__(self, limits: FigureLimits = LIMITS) -> None:
        self.limits = limits
        # id(figure) -> (figure, its data): the figure is kept so its id is not reused by another one.
        self._captured: dict[int, tuple[Any, dict[str, Any]]] = {}
        self.dropped = 0  # figures not captured because max_figures were already held

    def watch_show(self) -> None:
        """Capture the open figures whenever the notebook calls ``plt.show()`` (a notebook may close a
        figure right after showing it). Only pyplot as already imported (the zygote preloads it)."""
        pyplot = sys.modules.get("matplotlib.pyplot")
        original = getattr(pyplot, "show", None)
        if pyplot is None or not callable(original):
            return

        def show(*args: Any, **kwargs: Any) -> Any:
            self.capture_open()
            return original(*args, **kwargs)

        pyplot.show = show

    def capture_open(self) -> None:
        """Capture every figure pyplot holds open now. Never raises: student code runs in here (methods
        of matplotlib objects it may have replaced), and a figure it breaks is simply left out."""
        try:
            helpers = sys.modules.get("matplotlib._pylab_helpers")
            if helpers is None:
                return
            managers = _list(helpers.Gcf.get_all_fig_managers())
        except BaseException:  # student code may raise anything, SystemExit included
            return
        for manager in managers[: 4 * self.limits.max_figures]:
            try:
                figure = manager.canvas.figure
                key = _id(figure)
                if key not in self._captured and _len(self._captured) >= self.limits.max_figures:
                    self.dropped += 1
                    continue
                # A figure captured again keeps its place; its earlier capture no longer counts against the budget.
                self._captured[key] = (figure, self._figure(figure, manager, key))
            except BaseException:  # see above
                continue

    def data(self) -> list[dict[str, Any]]:
        """What was captured, in the order figures were first drawn."""
        return [data for _, data in self._captured.values()]

    # ---------------------------------------------------------------------------------- extraction
    def _budget_used(self, excluded: int) -> tuple[int, int]:
        lines = points = 0
        for key, (_, data) in self._captured.items():
            if key == excluded:
                continue
            for axes in data["axes"]:
                lines += _len(axes["lines"])
                points += sum(line["x"].size for line in axes["lines"])
        return lines, points

    def _figure(self, figure: Any, manager: Any, key: int) -> dict[str, Any]:
        number = getattr(manager, "num", None)
        suptitle = getattr(figure, "_suptitle", None)
        lines_used, points_used = self._budget_used(key)
        budget = {"lines": self.limits.max_lines_total - lines_used,
                  "points": self.limits.max_points_total - points_used}
        axes = []
        for ax in _list(figure.get_axes())[: self.limits.max_axes]:
            try:
                axes.append(self._axes(ax, budget))
            except Exception:  # an axes student code broke is left out
                continue
        return {"number": number if _type(number) is _int else None,
                "title": text(suptitle.get_text()) if suptitle is not None else "",
                "legend": self._legends(getattr(figure, "legends", None)), "axes": axes}

    def _axes(self, ax: Any, budget: dict[str, int]) -> dict[str, Any]:
        titles = [text(ax.get_title(loc=place)) for place in ("center", "left", "right")]
        lines = []
        for line in _list(ax.get_lines())[: self.limits.max_lines]:
            if budget["lines"] <= 0 or budget["points"] <= 0:
                break
            try:
                captured = self._line(line, budget["points"])
            except Exception:  # a line whose data cannot be read as numbers is left out
                continue
            budget["lines"] -= 1
            budget["points"] -= captured["x"].size
            lines.append(captured)
        legend = ax.get_legend()
        return {"title": " ".join(t for t in titles if t), "x_label": text(ax.get_xlabel()),
                "y_label": text(ax.get_ylabel()), "x_scale": self._scale(ax.get_xscale()),
                "y_scale": self._scale(ax.get_yscale()),
                "legend": self._legends([legend]) if legend is not None else None, "lines": lines}

    def _line(self, line: Any, points_left: int) -> dict[str, Any]:
        # get_xydata: the numbers matplotlib draws, units converted, masked points as NaN.
        xy = _array(line.get_xydata(), dtype=_float64)
        if _type(xy) is not _ndarray or xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError("not a line of (x, y) points")
        kept = xy[: _min(self.limits.max_points, points_left)]
        return {"label": text(line.get_label()), "x": _ascontiguousarray(kept[:, 0]),
                "y": _ascontiguousarray(kept[:, 1]), "points": _int(xy.shape[0])}

    def _legends(self, legends: Any) -> list[str] | None:
        """The texts of these legends, or None when there is none."""
        if not legends:
            return None
        entries: list[str] = []
        for legend in _list(legends)[:8]:
            for item in _list(legend.get_texts())[: self.limits.max_legend]:
                if _len(entries) < self.limits.max_legend:
                    entries.append(text(item.get_text()))
        return entries

    @staticmethod
    def _scale(value: Any) -> str:
        name = text(value, 20)
        return name if name in SCALES else "linear" if not name else "other"
