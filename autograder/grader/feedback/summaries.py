"""Artifacts in words: the lines under a plot, the alt text of its image, and the terminal's view."""

from __future__ import annotations

import math
from typing import Any

from autograder.grader.artifacts import Number, as_float


def value_text(value: Number) -> str:
    if value is None:
        return "not a number"
    if isinstance(value, str):
        return value
    return f"{value:.4g}"


def _curve(x: list[int], y: list[Number]) -> str:
    if not y:
        return "no values"
    count = (x[-1] + 1) if x else len(y)
    text = f"{count} value{'s' if count != 1 else ''}, first {value_text(y[0])}, last {value_text(y[-1])}"
    bad = next((step for step, value in zip(x, y, strict=False) if not math.isfinite(as_float(value))), None)
    if bad is not None:
        text += f" (not finite from step {bad})"
    return text


def _points(line: dict[str, Any]) -> str:
    """A line of a student's figure: how many points it has, its first and last y (x may be anything)."""
    y = line["y"]
    if not y:
        return "no values"
    count = int(line.get("points", len(y)))
    return f"{count} value{'s' if count != 1 else ''}, first {value_text(y[0])}, last {value_text(y[-1])}"


def describe(artifact: dict[str, Any]) -> list[str]:
    """One line per curve, bar group or panel."""
    try:
        return _describe(artifact)
    except Exception:  # stored data that is not what it should be (a hand-edited results.json, say)
        return ["(the data of this plot could not be read)"]


def _describe(artifact: dict[str, Any]) -> list[str]:
    kind = artifact.get("kind")
    if kind == "lines":
        return [f"{s['label']}: {_curve(s['x'], s['y'])}" for s in artifact["series"]]
    if kind == "panels":
        lines = [f"{p['title']}: {_curve(p['x'], p['y'])}" for p in artifact["panels"]]
        if artifact.get("total", 0) > len(artifact["panels"]):
            lines.append(f"(the first {len(artifact['panels'])} of {artifact['total']} shown)")
        return lines
    if kind == "figure":
        lines = []
        for number, axes in enumerate(artifact["axes"], start=1):
            about = f"axes {number}" + (f" ({axes['title']})" if axes["title"] else "")
            legend = "no legend" if axes["legend"] is None else f"legend {', '.join(axes['legend']) or '(empty)'}"
            lines.append(f"{about}: {axes['y_scale']} y scale, x label {axes['x_label'] or '(none)'}, y label "
                         f"{axes['y_label'] or '(none)'}, {legend}")
            for line in axes["lines"]:
                lines.append(f"  {line['label'] or '(no label)'}: {_points(line)}")
        return lines or ["no axes"]
    if kind == "bars":
        return [f"{s['label']}: " + ", ".join(f"{c} {value_text(v)}" for c, v in
                                             zip(artifact["categories"], s["values"], strict=False))
                for s in artifact["series"]] + (
            [f"{artifact['threshold']['label'] or 'threshold'}: {value_text(artifact['threshold']['value'])}"]
            if artifact.get("threshold") else [])
    return []


def table(artifact: dict[str, Any]) -> tuple[list[str], list[list[str]]] | None:
    """A bar chart as a table (header, rows), for formats that show tables better than lines."""
    if artifact.get("kind") != "bars":
        return None
    try:
        header = ["", *(str(s["label"]) for s in artifact["series"])]
        rows = [[str(category), *(value_text(s["values"][i]) for s in artifact["series"])]
                for i, category in enumerate(artifact["categories"])]
    except Exception:  # unreadable data: the caller falls back to describe()
        return None
    return header, rows
