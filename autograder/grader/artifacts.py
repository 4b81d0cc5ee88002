"""Plot data that a hidden test attaches to its result: plain JSON, capped, never the test's source.

An artifact is a small dict that the feedback pages turn into a plot (and a text summary). Three
kinds exist, each built by one function here from whatever a test hands over, student values
included, so nothing in this module may raise on odd data:

* ``lines``: curves over steps (loss traces), ``{"series": [{"label", "x", "y"}]}``;
* ``bars``: values per named category, one bar per series, with an optional threshold line;
* ``panels``: small separate curves, each with its own title (traces a function misread);
* ``figure``: a figure the student's notebook drew, as the grader read it (its axes, their scales,
  labels and legends, and their lines' x and y), redrawn by the grader from those numbers alone.

Numbers are rounded to 7 significant digits; inf and nan become the strings ``"inf"``, ``"-inf"``
and ``"nan"`` (JSON has no such numbers, and Gradescope rejects invalid JSON), and values that are
not numbers at all become ``None``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from autograder.grader.escaping import printable
from autograder.grader.figures import PlottedFigure

MAX_POINTS = 600  # per curve: enough to see a trace's shape, far less than a 10,000-step run
MAX_SERIES = 8
MAX_CATEGORIES = 40
MAX_PANELS = 6
MAX_TEXT = 160
MAX_ARTIFACTS_PER_TEST = 6
MAX_JSON_PER_TEST = 60_000  # characters of JSON for all artifacts of one test
MAX_FIGURE_AXES = 6
MAX_FIGURE_POINTS = 2_000  # all lines of one student figure together, so its JSON fits a test's budget

Number = float | str | None


def number(value: Any) -> Number:
    """A JSON-safe number: a rounded float, "inf"/"-inf"/"nan", or None for anything else."""
    if isinstance(value, str | bytes):  # "1.5" from a student is not a number it computed
        return None
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if math.isnan(result):
        return "nan"
    if math.isinf(result):
        return "inf" if result > 0 else "-inf"
    return float(f"{result:.7g}")


def as_float(value: Number) -> float:
    """Back from the stored form: None and the special strings become floats (nan for None)."""
    if value is None:
        return math.nan
    return float(value)


def text(value: Any, limit: int = MAX_TEXT) -> str:
    shown = printable(str(value))
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def numbers(values: Any, limit: int = MAX_POINTS) -> tuple[list[int], list[Number]]:
    """Step indices and values of a sequence of numbers, evenly thinned to at most ``limit`` points
    (first and last kept). A single number counts as a sequence of one; anything else is empty."""
    flat = _flatten(values)
    if flat is None:
        return [], []
    steps = thinned(len(flat), limit)
    return steps, [number(flat[i]) for i in steps]


def thinned(size: int, limit: int) -> list[int]:
    """At most ``limit`` positions of ``size``, evenly spread, first and last kept."""
    if size <= limit:
        return list(range(size))
    stride = (size - 1) / (max(limit, 2) - 1)
    return sorted({round(k * stride) for k in range(max(limit, 2))})


def _flatten(values: Any) -> list[Any] | None:
    if values is None or isinstance(values, str | bytes):
        return None
    if hasattr(values, "tolist"):  # numpy arrays and scalars
        try:
            values = values.tolist()
        except Exception:
            return None
    if isinstance(values, int | float):
        return [values]
    if not isinstance(values, Iterable):
        return None
    try:
        items = list(values)
    except Exception:
        return None
    flat = []
    for item in items[: 100 * MAX_POINTS]:  # a student's list may be huge; the plot thins it anyway
        if hasattr(item, "tolist"):
            item = item.tolist()
        if isinstance(item, list | tuple) and len(item) == 1:  # a 0-d array that became [x]
            item = item[0]
        flat.append(item)
    return flat


def lines(title: str, series: Sequence[tuple[str, Any]], *, x_label: str = "step", y_label: str = "loss",
          log_y: bool = False) -> dict[str, Any]:
    curves = []
    for label, values in list(series)[:MAX_SERIES]:
        x, y = numbers(values)
        curves.append({"label": text(label), "x": x, "y": y})
    return {"kind": "lines", "title": text(title), "x_label": text(x_label), "y_label": text(y_label),
            "log_y": bool(log_y), "series": curves}


def bars(title: str, categories: Sequence[Any] | None, series: Sequence[tuple[str, Any]], *, y_label: str = "",
         log_y: bool = False, threshold: float | None = None, threshold_label: str = "") -> dict[str, Any]:
    """``categories`` None: numbered 0, 1, ... as far as the longest series goes."""
    if categories is None:
        longest = max((len(_flatten(values) or []) for _, values in series), default=0)
        categories = [str(i) for i in range(min(longest, MAX_CATEGORIES))]
    names = [text(c, 40) for c in list(categories)[:MAX_CATEGORIES]]
    groups = []
    for label, values in list(series)[:MAX_SERIES]:
        if isinstance(values, Mapping):
            row = [number(values.get(c)) for c in list(categories)[:MAX_CATEGORIES]]
        else:
            _, flat = numbers(values, limit=10 * MAX_CATEGORIES)
            row = [flat[i] if i < len(flat) else None for i in range(len(names))]
        groups.append({"label": text(label), "values": row})
    artifact: dict[str, Any] = {"kind": "bars", "title": text(title), "categories": names, "series": groups,
                                "y_label": text(y_label), "log_y": bool(log_y)}
    if threshold is not None:
        artifact["threshold"] = {"value": number(threshold), "label": text(threshold_label)}
    return artifact


def panels(title: str, curves: Sequence[tuple[str, Any]], *, log_y: bool = False, total: int | None = None
           ) -> dict[str, Any]:
    """``total``: how many curves there were before the first few were kept (said in the feedback)."""
    shown = []
    for label, values in list(curves)[:MAX_PANELS]:
        x, y = numbers(values, limit=MAX_POINTS // 2)
        shown.append({"title": text(label), "x": x, "y": y})
    return {"kind": "panels", "title": text(title), "log_y": bool(log_y), "panels": shown,
            "total": len(curves) if total is None else int(total)}


def figure(title: str, plotted: PlottedFigure) -> dict[str, Any]:
    """A figure the notebook drew (read by :mod:`autograder.grader.figures`), thinned to fit a test's budget."""
    kept = [(axes, axes.lines[:MAX_SERIES]) for axes in plotted.axes[:MAX_FIGURE_AXES]]
    per_line = max(20, MAX_FIGURE_POINTS // max(1, sum(len(lines) for _, lines in kept)))
    shown = []
    for axes, lines in kept:
        curves = []
        for line in lines:
            steps = thinned(min(line.x.size, line.y.size), per_line)
            curves.append({"label": text(line.label), "x": [number(line.x[i]) for i in steps],
                           "y": [number(line.y[i]) for i in steps], "points": int(line.points)})
        legend = axes.legend if axes.legend is not None else plotted.legend
        shown.append({"title": text(axes.title), "x_label": text(axes.x_label), "y_label": text(axes.y_label),
                      "x_scale": text(axes.x_scale, 20), "y_scale": text(axes.y_scale, 20),
                      "legend": None if legend is None else [text(entry) for entry in legend[:MAX_SERIES]],
                      "lines": curves})
    return {"kind": "figure", "title": text(title), "axes": shown, "total_axes": len(plotted.axes)}


def within_limits(artifacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The artifacts that fit in one test's budget, in order (later ones are dropped)."""
    kept, size = [], 0
    for artifact in artifacts[:MAX_ARTIFACTS_PER_TEST]:
        cost = len(json.dumps(artifact, allow_nan=False))
        if size + cost > MAX_JSON_PER_TEST:
            break
        kept.append(artifact)
        size += cost
    return kept


def is_artifact(value: Any) -> bool:
    return isinstance(value, dict) and value.get("kind") in ("lines", "bars", "panels", "figure")
