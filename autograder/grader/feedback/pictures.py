"""The picture of an artifact, in the format that draws it cheapest, and how to name and embed it.

Curves and bars (``lines``, ``panels``, ``bars``: what failed checks and reports carry) are SVG text written
directly; redrawn student figures are PNG from matplotlib, imported only when one is drawn (0.3 s to import,
which `check` and `--help` need not pay).
"""

from __future__ import annotations

from typing import Any

from autograder.grader.feedback.svg_plots import render_svg

SVG_KINDS = frozenset({"lines", "panels", "bars"})


def render_picture(artifact: dict[str, Any]) -> bytes | None:
    """The artifact's picture (SVG or PNG bytes), or None if it cannot be drawn (words only then)."""
    if artifact.get("kind") in SVG_KINDS:
        return render_svg(artifact)
    from autograder.grader.feedback.plots import render_png

    return render_png(artifact)


def picture_format(picture: bytes) -> tuple[str, str]:
    """(MIME type, file suffix) of a picture made by :func:`render_picture`."""
    return ("image/svg+xml", ".svg") if picture.startswith(b"<svg") else ("image/png", ".png")
