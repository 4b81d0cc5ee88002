"""Artifacts drawn as PNG images with matplotlib's Agg renderer (runs in the grading process only).

Feedback and reports draw curves, panels and bars as SVG (:mod:`autograder.grader.feedback.svg_plots`);
here a student's own figure is redrawn, and the curve, panel and bar drawings stay as the measured
"before" of the benchmark's section 5 (``benchmarks/named_costs.py``).

Figures are built with ``matplotlib.figure.Figure`` and an Agg canvas directly, not with pyplot, so
no global backend is switched and nothing depends on a display.
"""

from __future__ import annotations

import io
import math
import textwrap
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

from autograder.grader.artifacts import Number, as_float
from autograder.grader.feedback.svg_plots import OTHERS, STUDENT  # one palette for both renderers

DPI = 96
STYLES = ["-", "--", ":", "-.", (0, (5, 1)), (0, (1, 1)), (0, (3, 1, 1, 1)), "-"]


def render_png(artifact: dict[str, Any]) -> bytes | None:
    """The artifact as PNG bytes, or None if it cannot be drawn (the page then shows its numbers only)."""
    try:
        figure = _draw(artifact)
        if figure is None:
            return None
        buffer = io.BytesIO()
        FigureCanvasAgg(figure).print_png(buffer)
    except Exception:  # stored data we cannot draw (a damaged results.json, say): words only, not a crash
        return None
    return buffer.getvalue()


def _draw(artifact: dict[str, Any]) -> Figure | None:
    kind = artifact.get("kind")
    if kind == "lines":
        return _lines(artifact)
    if kind == "bars":
        return _bars(artifact)
    if kind == "panels":
        return _panels(artifact)
    if kind == "figure":
        return _student_figure(artifact)
    return None


def _floats(values: list[Number]) -> list[float]:
    return [as_float(v) for v in values]


def _title(axes: Any, title: str, width: int, size: float) -> None:
    axes.set_title("\n".join(textwrap.wrap(title, width)) or " ", fontsize=size)


def _decade(value: float, _position: Any = None) -> str:
    return f"{value:.0e}".replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")


def _use_log(axes: Any, groups: list[list[float]], pad: int = 0) -> bool:
    """Log scale needs some positive finite value; values <= 0 are then left out of the drawing.

    Limits and ticks are set here, in whole decades: matplotlib's own choice fails (and its minor
    ticks and math-text labels take most of the drawing time) for ranges reaching the largest
    floats, which diverging runs do. ``pad`` decades of room above and below (bars and lines at the
    very edge would not be seen).
    """
    positive = [v for group in groups for v in group if math.isfinite(v) and v > 0]
    if not positive:
        return False
    axes.set_yscale("log")
    low = max(-300, math.floor(math.log10(min(positive))) - pad)
    high = min(300, max(math.ceil(math.log10(max(positive))) + pad, low + 1))
    step = max(1, math.ceil((high - low) / 6))
    axes.set_ylim(10.0**low, 10.0**high)
    axes.yaxis.set_major_locator(FixedLocator([10.0**k for k in range(low, high + 1, step)]))
    axes.yaxis.set_major_formatter(FuncFormatter(_decade))
    axes.yaxis.set_minor_locator(NullLocator())
    return True


def _curve(axes: Any, x: list[int], y: list[float], log: bool, **style: Any) -> int | None:
    """Draw the finite part; return the first step whose value is not finite (marked with a line)."""
    shown = [v if math.isfinite(v) and (v > 0 or not log) else math.nan for v in y]
    axes.plot(x, shown, **style)
    bad = next((step for step, v in zip(x, y, strict=False) if not math.isfinite(v)), None)
    if bad is not None:
        axes.axvline(bad, color=style.get("color", "k"), linestyle=":", linewidth=1)
    return bad


def _fixed_margins(figure: Figure, width: float, height: float, *, bottom: float = 0.55,
                   title_lines: int = 1) -> None:
    """Margins in inches, room for tick labels, axis labels and a wrapped title. The constrained
    layout engine would fit them exactly but cost more than drawing the whole plot."""
    top = 0.2 + 0.2 * max(1, title_lines)
    figure.subplots_adjust(left=0.85 / width, right=1 - 0.15 / width, bottom=bottom / height, top=1 - top / height)


def _lines(artifact: dict[str, Any]) -> Figure:
    figure = Figure(figsize=(6.4, 3.6), dpi=DPI)
    _fixed_margins(figure, 6.4, 3.6, title_lines=len(textwrap.wrap(artifact.get("title", ""), 80)))
    axes = figure.add_subplot()
    series = artifact["series"]
    values = [_floats(s["y"]) for s in series]
    log = artifact.get("log_y") and _use_log(axes, values)
    # The student's curve (the first) is drawn last, thin and solid, over the others' wide pale ones:
    # where they agree it runs inside them, where they differ both are seen.
    for index in reversed(range(len(series))):
        s = series[index]
        color = STUDENT if index == 0 else OTHERS[(index - 1) % len(OTHERS)]
        style = ({"linewidth": 1.8} if index == 0 else
                 {"linewidth": 5, "alpha": 0.35, "linestyle": STYLES[(index - 1) % len(STYLES)]})
        bad = _curve(axes, s["x"], values[index], bool(log), color=color, label=s["label"], zorder=3 - index / 10,
                     **style)
        if bad is not None:
            axes.annotate(f"{s['label']}: not finite from step {bad}", xy=(0.01, 0.02 + 0.07 * index),
                          xycoords="axes fraction", fontsize=8, color=color)
    axes.set_xlabel(artifact.get("x_label", ""))
    axes.set_ylabel(artifact.get("y_label", "") + (" (log scale)" if log else ""))
    axes.grid(True, alpha=0.3)
    if series:
        handles, labels = axes.get_legend_handles_labels()
        axes.legend(handles[::-1], labels[::-1], fontsize=8)  # in the artifact's order: the student's first
    _title(axes, artifact.get("title", ""), 80, 10)
    return figure


def _bars(artifact: dict[str, Any]) -> Figure:
    categories = artifact["categories"]
    series = artifact["series"]
    width = max(6.4, min(12.0, 0.5 * len(categories) * max(1, len(series)) + 2))
    rotated = len(categories) > 8
    longest = max((len(str(c)) for c in categories), default=0)
    figure = Figure(figsize=(width, 3.6 + (0.045 * min(longest, 30) if rotated else 0)), dpi=DPI)
    _fixed_margins(figure, width, figure.get_figheight(),
                   bottom=0.45 + (0.055 * min(longest, 30) if rotated else 0),
                   title_lines=len(textwrap.wrap(artifact.get("title", ""), 90)))
    axes = figure.add_subplot()
    values = [_floats(s["values"]) for s in series]
    threshold = artifact.get("threshold")
    limit = as_float(threshold["value"]) if threshold else math.nan
    log = artifact.get("log_y") and _use_log(axes, [*values, [limit]], pad=1)
    bar_width = 0.8 / max(1, len(series))
    for index, (s, row) in enumerate(zip(series, values, strict=False)):
        color = STUDENT if index == 0 else OTHERS[(index - 1) % len(OTHERS)]
        positions = [i + (index - (len(series) - 1) / 2) * bar_width for i in range(len(row))]
        heights = [v if math.isfinite(v) and (v > 0 or not log) else math.nan for v in row]
        axes.bar(positions, heights, bar_width, color=color, label=s["label"], hatch=None if index == 0 else "//",
                 edgecolor="white" if index == 0 else color, alpha=0.9 if index == 0 else 0.55)
        for position, raw, height in zip(positions, s["values"], heights, strict=False):
            if math.isnan(height):  # say what could not be drawn: inf, nan, 0 on a log scale, no value
                label = "0" if raw == 0 else ("-" if raw is None else str(raw))
                axes.annotate(label, xy=(position, 0.02), xycoords=("data", "axes fraction"), ha="center",
                              fontsize=8, color=color)
    if threshold and math.isfinite(limit):
        axes.axhline(limit, color="#c0392b", linestyle="--", linewidth=1.2, label=threshold.get("label") or "threshold")
    axes.set_xticks(range(len(categories)), categories, rotation=0 if len(categories) <= 8 else 45,
                    ha="center" if len(categories) <= 8 else "right", fontsize=8)
    axes.set_ylabel(artifact.get("y_label", "") + (" (log scale)" if log else ""))
    if not log and all(v.is_integer() for row in values for v in row if math.isfinite(v)):
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no ticks at 2.5 submissions
    axes.grid(True, axis="y", alpha=0.3)
    if len(series) > 1 or threshold:  # one series needs no legend: the axis label names it
        axes.legend(fontsize=8)
    _title(axes, artifact.get("title", ""), 90, 10)
    return figure


def _grid(count: int, width: float, height: float, hspace: float) -> tuple[Figure, list[Axes]]:
    """A figure with ``count`` panels of ``width`` x ``height`` inches, at most three in a row; the
    panels past ``count`` in the last row are hidden."""
    columns = min(3, max(1, count))
    rows = max(1, math.ceil(count / columns))
    # Fixed margins: the constrained layout engine costs more than drawing the curves themselves.
    total_height = height * rows + 0.6
    figure = Figure(figsize=(width * columns, total_height), dpi=DPI)
    figure.subplots_adjust(left=0.8 / (width * columns), right=0.98, bottom=0.55 / total_height,
                           top=1 - 0.65 / total_height, wspace=0.35, hspace=hspace)
    grid = list(figure.subplots(rows, columns, squeeze=False).flat)
    for hidden in grid[count:]:
        hidden.set_visible(False)
    return figure, grid[:count]


def _panels(artifact: dict[str, Any]) -> Figure:
    panels = artifact["panels"]
    figure, grid = _grid(len(panels), width=3.2, height=2.6, hspace=0.75)
    for axes, panel in zip(grid, panels, strict=True):
        values = _floats(panel["y"])
        log = artifact.get("log_y") and _use_log(axes, [values])
        bad = _curve(axes, panel["x"], values, bool(log), color=STUDENT, linewidth=1.6)
        if bad is not None:
            axes.annotate(f"not finite from step {bad}", xy=(0.02, 0.03), xycoords="axes fraction", fontsize=7,
                          color="#c0392b")
        axes.tick_params(labelsize=7)
        axes.set_xlabel("step", fontsize=7)
        axes.grid(True, alpha=0.3)
        _title(axes, panel["title"], 40, 8)
    total = artifact.get("total", len(panels))
    suffix = f" (first {len(panels)} of {total})" if total > len(panels) else ""
    figure.suptitle("\n".join(textwrap.wrap(artifact.get("title", "") + suffix, 100)), fontsize=10)
    return figure


def _student_figure(artifact: dict[str, Any]) -> Figure:
    """A figure the student's notebook drew, redrawn from the numbers and strings the grader read: each of
    its axes with its lines, scales, title, axis labels and legend. Student text is drawn as plain text
    (``parse_math=False``: a ``$`` is a dollar sign, never math markup for the renderer to parse)."""
    panels = artifact["axes"]
    figure, grid = _grid(len(panels), width=4.2, height=3.0, hspace=0.8)
    for axes, panel in zip(grid, panels, strict=True):
        _student_axes(axes, panel)
    total = artifact.get("total_axes", len(panels))
    suffix = f" (first {len(panels)} of {total} axes)" if total > len(panels) else ""
    figure.suptitle("\n".join(textwrap.wrap(artifact.get("title", "") + suffix, 100)), fontsize=10)
    return figure


def _student_axes(axes: Any, panel: dict[str, Any]) -> None:
    values = [_floats(line["y"]) for line in panel["lines"]]
    log = panel.get("y_scale") == "log" and _use_log(axes, values)
    for index, (line, y) in enumerate(zip(panel["lines"], values, strict=False)):
        x = _floats(line["x"])
        shown = [v if math.isfinite(v) and math.isfinite(u) and (v > 0 or not log) else math.nan
                 for u, v in zip(x, y, strict=False)]
        label = str(line["label"])
        axes.plot([u if math.isfinite(u) else math.nan for u in x], shown, linewidth=1.5,
                  color=([STUDENT, *OTHERS])[index % (len(OTHERS) + 1)],
                  label=label if label and not label.startswith("_") else None)
    if panel.get("x_scale") == "log" and any(math.isfinite(u) and u > 0 for line in panel["lines"]
                                             for u in _floats(line["x"])):
        axes.set_xscale("log")
    axes.set_title("\n".join(textwrap.wrap(str(panel.get("title", "")), 45)), fontsize=8, parse_math=False)
    axes.set_xlabel(str(panel.get("x_label", "")), fontsize=8, parse_math=False)
    axes.set_ylabel(str(panel.get("y_label", "")), fontsize=8, parse_math=False)
    axes.tick_params(labelsize=7)
    axes.grid(True, alpha=0.3)
    if panel.get("legend") is not None and axes.get_legend_handles_labels()[0]:
        legend = axes.legend(fontsize=7)
        for entry in legend.get_texts():
            entry.set_parse_math(False)
