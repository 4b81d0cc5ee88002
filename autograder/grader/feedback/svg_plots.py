"""Line plots and panels of curves as SVG text, written directly (runs in the grading process only).

Every failed check of a run (a loss curve against the reference's, the traces of several learning
rates) carries one of these. Drawn with matplotlib they cost 60-260 ms each, most of it building
axes and tick objects; the same picture as SVG text costs about a millisecond, so a batch of buggy
notebooks is not paced by its feedback. Redrawn student figures stay with matplotlib
(:mod:`autograder.grader.feedback.plots`): a student's own axes can hold anything matplotlib draws.

Text in a picture (titles, labels) is escaped for XML; pictures are shown through ``<img>``, where a
browser runs no script in them anyway.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from html import escape
from typing import Any

from autograder.grader.artifacts import as_float
from autograder.grader.escaping import printable

STUDENT = "#1f5fbf"
OTHERS = ["#4d4d4d", "#d9730d", "#2a9d4a", "#8e44ad", "#c0392b", "#7f8c8d", "#16a085"]
DASHES = ["", "8 3", "2 3", "8 3 2 3", "6 2", "2 2", "4 2 2 2", ""]
FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'
CHARACTER_WIDTH = 0.6  # of the font size: room for tick labels and wrapped titles


def render_svg(artifact: dict[str, Any]) -> bytes | None:
    """The artifact as SVG bytes, or None for a kind drawn elsewhere or data that cannot be drawn."""
    try:
        kind = artifact.get("kind")
        if kind == "lines":
            return _lines(artifact).encode("utf-8")
        if kind == "panels":
            return _panels(artifact).encode("utf-8")
        if kind == "bars":
            return _bars(artifact).encode("utf-8")
    except (KeyError, TypeError, ValueError, AttributeError):  # a damaged results.json: words only, not a crash
        return None
    return None


def _text(value: Any) -> str:
    return escape(printable(str(value)), quote=True)


def _number(value: float) -> str:
    return f"{value:.1f}"


@dataclass
class _Scale:
    """A value range drawn over a pixel span; ``log`` draws log10 of the values."""

    low: float
    high: float
    start: float  # pixel of ``low``
    end: float  # pixel of ``high``
    log: bool = False
    integer: bool = False  # ticks on whole numbers only (counts)

    def pixel(self, value: float) -> float:
        if self.log:
            value = math.log10(value)
        # Halves: a diverging run spans nearly the whole float range, whose difference would overflow.
        share = (value * 0.5 - self.low * 0.5) / (self.high * 0.5 - self.low * 0.5)
        return self.start + share * (self.end - self.start)

    def ticks(self) -> list[tuple[float, str]]:
        if self.log:
            step = max(1, math.ceil((self.high - self.low) / 6))
            return [(10.0**k, _decade(k)) for k in range(math.ceil(self.low), math.floor(self.high) + 1, step)]
        span = self.high - self.low
        if not math.isfinite(span):
            return [(value, _tick_label(value, abs(value))) for value in (self.low, self.high)]
        step = _nice_step(span / 5)
        if self.integer:
            step = max(1.0, round(step))
        first = math.ceil(self.low / step - 1e-9)
        values = [(first + i) * step for i in range(int((self.high - self.low) / step + 1e-9) + 2)]
        return [(v, _tick_label(v, step)) for v in values if self.low - step * 1e-9 <= v <= self.high + step * 1e-9]


def _nice_step(rough: float) -> float:
    if not math.isfinite(rough) or rough <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(rough))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)


def _tick_label(value: float, step: float) -> str:
    if abs(value) < step * 1e-6:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.1e}".replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")
    decimals = max(0, -math.floor(math.log10(step)))
    return f"{value:.{decimals}f}"


def _decade(exponent: int) -> str:
    return f"1e{exponent}"


def _range(values: list[float], log: bool) -> tuple[float, float]:
    """The drawn range of the finite values (logs for a log scale), with room at both ends."""
    shown = [math.log10(v) if log else v for v in values if math.isfinite(v) and (v > 0 or not log)]
    if not shown:
        return (0.0, 1.0)
    low, high = min(shown), max(shown)
    if log:
        return (max(-300.0, math.floor(low)), min(300.0, max(math.ceil(high), math.floor(low) + 1)))
    if high == low:
        pad = abs(high) * 0.1 or 1.0
        return (max(low - pad, -1.7e308), min(high + pad, 1.7e308))
    pad = (high * 0.5 - low * 0.5) * 0.1
    return (max(low - pad, -1.7e308), min(high + pad, 1.7e308))


def _uses_log(artifact: dict[str, Any], groups: list[list[float]]) -> bool:
    """Log scale needs some positive finite value; values <= 0 are then left out of the drawing."""
    return bool(artifact.get("log_y")) and any(math.isfinite(v) and v > 0 for group in groups for v in group)


def _wrapped(text: str, width: int) -> list[str]:
    return textwrap.wrap(printable(text), width) or [""]


def _path(xs: list[float], ys: list[float], x_scale: _Scale, y_scale: _Scale) -> str:
    """Path data for the drawable points; a value that cannot be drawn breaks the line, as in matplotlib."""
    commands, pen_down = [], False
    for x, y in zip(xs, ys, strict=False):
        if not (math.isfinite(x) and math.isfinite(y) and (y > 0 or not y_scale.log)):
            pen_down = False
            continue
        px, py = x_scale.pixel(x), y_scale.pixel(y)
        if not (math.isfinite(px) and math.isfinite(py)):
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{_number(px)} {_number(py)}")
        pen_down = True
    return "".join(commands)


def _axes(x_scale: _Scale, y_scale: _Scale, *, size: int, x_label: str, y_label: str,
          x_ticks: bool = True) -> list[str]:
    """Frame, grid, ticks and their labels, and axis labels of one plot area."""
    left, right, top, bottom = x_scale.start, x_scale.end, y_scale.end, y_scale.start
    parts = [f'<rect x="{_number(left)}" y="{_number(top)}" width="{_number(right - left)}" '
             f'height="{_number(bottom - top)}" fill="white" stroke="#333" stroke-width="0.8"/>']
    for value, label in y_scale.ticks():
        y = _number(y_scale.pixel(value))
        parts.append(f'<line x1="{_number(left)}" x2="{_number(right)}" y1="{y}" y2="{y}" stroke="#ddd"/>')
        parts.append(f'<text x="{_number(left - 4)}" y="{y}" font-size="{size}" text-anchor="end" '
                     f'dominant-baseline="middle">{_text(label)}</text>')
    for value, label in x_scale.ticks() if x_ticks else []:
        x = _number(x_scale.pixel(value))
        parts.append(f'<line x1="{x}" x2="{x}" y1="{_number(top)}" y2="{_number(bottom)}" stroke="#ddd"/>')
        parts.append(f'<text x="{x}" y="{_number(bottom + size + 3)}" font-size="{size}" '
                     f'text-anchor="middle">{_text(label)}</text>')
    if x_label:
        parts.append(f'<text x="{_number((left + right) / 2)}" y="{_number(bottom + 2 * size + 8)}" '
                     f'font-size="{size}" text-anchor="middle">{_text(x_label)}</text>')
    if y_label:
        middle = _number((top + bottom) / 2)
        x = _number(left - 4 - size * CHARACTER_WIDTH * 7 - 6)
        parts.append(f'<text transform="translate({x} {middle}) rotate(-90)" font-size="{size}" '
                     f'text-anchor="middle">{_text(y_label)}</text>')
    return parts


def _document(width: int, height: int, parts: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" {FONT} role="img"><title>{_text(title)}</title>'
            f'<rect width="{width}" height="{height}" fill="white"/>{"".join(parts)}</svg>')


def _title_lines(lines: list[str], x: float, y: float, size: int, weight: str = "normal") -> str:
    spans = "".join(f'<tspan x="{_number(x)}" dy="{0 if i == 0 else size + 2}">{_text(line)}</tspan>'
                    for i, line in enumerate(lines))
    return f'<text x="{_number(x)}" y="{_number(y)}" font-size="{size}" font-weight="{weight}" ' \
           f'text-anchor="middle">{spans}</text>'


def _first_bad(xs: list[float], ys: list[float]) -> float | None:
    return next((x for x, y in zip(xs, ys, strict=False) if not math.isfinite(y)), None)


def _lines(artifact: dict[str, Any]) -> str:
    series = artifact["series"]
    values = [[as_float(v) for v in s["y"]] for s in series]
    steps = [[as_float(v) for v in s["x"]] for s in series]
    log = _uses_log(artifact, values)
    title = _wrapped(str(artifact.get("title", "")), 80)
    width, height = 640, 340 + 14 * (len(title) - 1)
    top = 18 + 14 * len(title)
    x_low, x_high = _range([x for xs in steps for x in xs], False) if any(steps) else (0.0, 1.0)
    y_low, y_high = _range([y for ys in values for y in ys], log)
    x_scale = _Scale(x_low, x_high, 86, width - 16)
    y_scale = _Scale(y_low, y_high, height - 52, top, log)
    parts = [_title_lines(title, width / 2, 20, 13)]
    parts += _axes(x_scale, y_scale, size=10, x_label=str(artifact.get("x_label", "")),
                   y_label=str(artifact.get("y_label", "")) + (" (log scale)" if log else ""))
    # The student's curve (the first) is drawn last, thin and solid, over the others' wide pale ones:
    # where they agree it runs inside them, where they differ both are seen.
    for index in reversed(range(len(series))):
        color = STUDENT if index == 0 else OTHERS[(index - 1) % len(OTHERS)]
        style = ('stroke-width="1.8"' if index == 0 else
                 f'stroke-width="5" stroke-opacity="0.35" stroke-dasharray="{DASHES[(index - 1) % len(DASHES)]}"')
        parts.append(f'<path d="{_path(steps[index], values[index], x_scale, y_scale)}" fill="none" '
                     f'stroke="{color}" {style} stroke-linejoin="round"/>')
        bad = _first_bad(steps[index], values[index])
        if bad is not None and x_low <= bad <= x_high:
            x = _number(x_scale.pixel(bad))
            parts.append(f'<line x1="{x}" x2="{x}" y1="{_number(top)}" y2="{_number(y_scale.start)}" '
                         f'stroke="{color}" stroke-dasharray="2 3"/>')
            parts.append(f'<text x="{_number(x_scale.start + 6)}" y="{_number(y_scale.start - 8 - 14 * index)}" '
                         f'font-size="10" fill="{color}">{_text(series[index]["label"])}: not finite from step '
                         f'{_text(_tick_label(bad, 1.0))}</text>')
    parts += _legend(series, x_scale.end - 8, top + 8)
    return _document(width, height, parts, " ".join(title))


def _legend(series: list[dict[str, Any]], right: float, top: float) -> list[str]:
    if not series:
        return []
    labels = [printable(str(s["label"])) for s in series]
    width = 34 + CHARACTER_WIDTH * 10 * max(len(label) for label in labels)
    left = right - width
    parts = [f'<rect x="{_number(left)}" y="{_number(top)}" width="{_number(width)}" '
             f'height="{6 + 15 * len(series)}" fill="white" fill-opacity="0.85" stroke="#ccc"/>']
    for index, label in enumerate(labels):
        y = top + 12 + 15 * index
        color = series[index].get("color") or (STUDENT if index == 0 else OTHERS[(index - 1) % len(OTHERS)])
        pattern = series[index].get("dash") or ("" if index == 0 else DASHES[(index - 1) % len(DASHES)])
        dash = f' stroke-dasharray="{pattern}" stroke-opacity="0.5"' if index else f' stroke-dasharray="{pattern}"'
        parts.append(f'<line x1="{_number(left + 6)}" x2="{_number(left + 26)}" y1="{_number(y - 3)}" '
                     f'y2="{_number(y - 3)}" stroke="{color}" stroke-width="{1.8 if index == 0 else 4}"{dash}/>')
        parts.append(f'<text x="{_number(left + 30)}" y="{_number(y)}" font-size="10">{_text(label)}</text>')
    return parts


def _bars(artifact: dict[str, Any]) -> str:
    categories = [printable(str(c)) for c in artifact["categories"]]
    series = artifact["series"]
    values = [[as_float(v) for v in s["values"]] for s in series]
    threshold = artifact.get("threshold")
    limit = as_float(threshold["value"]) if threshold else math.nan
    log = _uses_log(artifact, [*values, [limit]])
    rotated = len(categories) > 8
    longest = max((len(c) for c in categories), default=0)
    title = _wrapped(str(artifact.get("title", "")), 90)
    width = int(max(640, min(1150, 48 * len(categories) * max(1, len(series)) + 190)))
    below = 5.5 * min(longest, 30) + 10 if rotated else 24
    top = 18 + 14 * len(title)
    height = int(top + 260 + below)
    drawable = [v for row in values for v in row] + ([limit] if math.isfinite(limit) else [])
    low, high = _range(drawable, log)
    if log:  # a decade of room: a bar or threshold at the very edge would not be seen
        low, high = max(-300.0, low - 1), min(300.0, high + 1)
    else:  # bars stand on zero
        low, high = min(low, 0.0), max(high, 0.0)
    y_scale = _Scale(low, high, top + 260, top, log)
    x_scale = _Scale(-0.5, len(categories) - 0.5, 86, width - 16)
    if not log and all(v.is_integer() for v in drawable if math.isfinite(v)):  # counts: no ticks at 2.5
        y_scale.integer = True
    parts = [_title_lines(title, width / 2, 20, 13)]
    parts += _axes(x_scale, y_scale, size=10, x_label="", y_label=str(artifact.get("y_label", ""))
                   + (" (log scale)" if log else ""), x_ticks=False)
    base = y_scale.pixel(10.0**low if log else 0.0)
    slot = 0.8 / max(1, len(series))
    for index, (entry, row) in enumerate(zip(series, values, strict=False)):
        color = STUDENT if index == 0 else OTHERS[(index - 1) % len(OTHERS)]
        for position, (raw, value) in enumerate(zip(entry["values"], row, strict=False)):
            center = position + (index - (len(series) - 1) / 2) * slot
            left, right = x_scale.pixel(center - slot / 2), x_scale.pixel(center + slot / 2)
            if not (math.isfinite(value) and (value > 0 or not log)):
                # Say what could not be drawn: inf, nan, 0 on a log scale, no value.
                label = "0" if raw == 0 else ("-" if raw is None else str(raw))
                parts.append(f'<text x="{_number((left + right) / 2)}" y="{_number(y_scale.start - 4)}" '
                             f'font-size="8" text-anchor="middle" fill="{color}">{_text(label)}</text>')
                continue
            y = y_scale.pixel(value)
            style = f'fill="{color}"' if index == 0 else f'fill="{color}" fill-opacity="0.55"'
            parts.append(f'<rect x="{_number(left)}" y="{_number(min(y, base))}" width="{_number(right - left)}" '
                         f'height="{_number(abs(base - y))}" {style}/>')
    for position, category in enumerate(categories):
        x = _number(x_scale.pixel(position))
        y = _number(y_scale.start + 14)
        turn = f' transform="rotate(-45 {x} {y})" text-anchor="end"' if rotated else ' text-anchor="middle"'
        parts.append(f'<text x="{x}" y="{y}" font-size="8"{turn}>{_text(category)}</text>')
    legend = [{"label": entry["label"]} for entry in series] if len(series) > 1 or threshold else []
    if threshold and math.isfinite(limit) and (limit > 0 or not log):
        y = _number(y_scale.pixel(limit))
        parts.append(f'<line x1="{_number(x_scale.start)}" x2="{_number(x_scale.end)}" y1="{y}" y2="{y}" '
                     'stroke="#c0392b" stroke-width="1.2" stroke-dasharray="6 3"/>')
        legend.append({"label": threshold.get("label") or "threshold", "color": "#c0392b", "dash": "6 3"})
    parts += _legend(legend, x_scale.end - 8, top + 8)
    return _document(width, height, parts, " ".join(title))


def _panels(artifact: dict[str, Any]) -> str:
    panels = artifact["panels"]
    columns = min(3, max(1, len(panels)))
    rows = max(1, math.ceil(len(panels) / columns))
    total = artifact.get("total", len(panels))
    suffix = f" (first {len(panels)} of {total})" if total > len(panels) else ""
    title = _wrapped(str(artifact.get("title", "")) + suffix, 100)
    panel_width, panel_height = 310, 250
    head = 14 + 15 * len(title)
    width, height = panel_width * columns, head + panel_height * rows
    parts = [_title_lines(title, width / 2, 18, 13)]
    for number, panel in enumerate(panels):
        left = panel_width * (number % columns)
        top = head + panel_height * (number // columns)
        parts += _panel(panel, bool(artifact.get("log_y")), left, top, panel_width, panel_height)
    return _document(width, height, parts, " ".join(title))


def _panel(panel: dict[str, Any], log_y: bool, left: float, top: float, width: float, height: float) -> list[str]:
    values = [as_float(v) for v in panel["y"]]
    steps = [as_float(v) for v in panel["x"]]
    log = log_y and any(math.isfinite(v) and v > 0 for v in values)
    title = _wrapped(str(panel["title"]), 40)
    area_top = top + 10 + 12 * len(title)
    x_scale = _Scale(*_range(steps, False), left + 70, left + width - 12)
    y_scale = _Scale(*_range(values, log), top + height - 40, area_top, log)
    parts = [_title_lines(title, (x_scale.start + x_scale.end) / 2, top + 12, 10)]
    parts += _axes(x_scale, y_scale, size=8, x_label="step", y_label="")
    parts.append(f'<path d="{_path(steps, values, x_scale, y_scale)}" fill="none" stroke="{STUDENT}" '
                 f'stroke-width="1.6" stroke-linejoin="round"/>')
    bad = _first_bad(steps, values)
    if bad is not None:
        parts.append(f'<text x="{_number(x_scale.start + 4)}" y="{_number(y_scale.start - 6)}" font-size="8" '
                     f'fill="#c0392b">not finite from step {_text(_tick_label(bad, 1.0))}</text>')
    return parts
