"""Curves, panels and bars drawn as SVG text: valid XML whatever the numbers and text, and true to the data."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from autograder.grader import artifacts
from autograder.grader.feedback.pictures import picture_format, render_picture
from autograder.grader.feedback.svg_plots import render_svg

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '</text><script>alert(1)</script><text x="0">&amp; \x1b[31m'


def parsed(artifact) -> ElementTree.Element:
    data = render_svg(artifact)
    assert data is not None and picture_format(data) == ("image/svg+xml", ".svg")
    return ElementTree.fromstring(data)


def points(path: ElementTree.Element) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", path.get("d"))]


def test_text_from_a_notebook_stays_text():
    curve = artifacts.lines(HOSTILE, [(HOSTILE, [3.0, 2.0, 1.0]), ("reference", [3.0, 1.5, 0.5])],
                            x_label=HOSTILE, y_label=HOSTILE)
    bars = artifacts.bars(HOSTILE, [HOSTILE, "b"], [(HOSTILE, [1.0, 2.0])], y_label=HOSTILE)
    panels = artifacts.panels(HOSTILE, [(HOSTILE, [1.0, 0.5])])
    for artifact in (curve, bars, panels):
        root = parsed(artifact)
        assert not root.findall(f".//{SVG}script") and not root.findall(".//script")
        words = "".join(root.itertext())
        assert "<script>alert(1)</script>" in words and "\x1b" not in words


def test_a_curve_is_drawn_where_its_values_are():
    root = parsed(artifacts.lines("loss", [("yours", [8.0, 4.0, 2.0, 1.0]), ("reference", [8.0, 2.0, 0.5, 0.1])],
                                  log_y=True))
    paths = root.findall(f".//{SVG}path")
    reference, yours = (points(path) for path in paths)  # the student's curve is drawn last, on top
    assert len(yours) == len(reference) == 4
    assert [x for x, _ in yours] == sorted(x for x, _ in yours)  # steps left to right
    assert [y for _, y in yours] == sorted(y for _, y in yours)  # a falling loss goes down the picture
    assert yours[-1][1] < reference[-1][1]  # 1.0 is above 0.1


def test_diverging_and_missing_values_leave_gaps_and_a_note_never_broken_coordinates():
    wild = [1.0, 1e10, 1e300, float("inf"), float("nan"), -5.0, 2.0]
    for log_y in (True, False):
        root = parsed(artifacts.lines("diverging", [("yours", wild), ("reference", [-1.7e308, 1.7e308, 0.0])],
                                      log_y=log_y))
        text = ElementTree.tostring(root, encoding="unicode")
        assert not re.search(r'="[^"]*\b(nan|inf)\b', text)
        assert "not finite from step 3" in "".join(root.itertext())
        student = points(root.findall(f".//{SVG}path")[-1])
        assert len(student) == (4 if log_y else 5)  # inf and nan (and, on a log scale, -5) are not drawn


def test_panels_show_each_curve_and_say_how_many_were_left_out():
    curves = [(f"lr = {rate}", [rate**step for step in range(20)]) for rate in (0.5, 0.9, 1.1, 2.0)]
    root = parsed(artifacts.panels("Traces", curves, log_y=True, total=9))
    assert len(root.findall(f".//{SVG}path")) == 4
    words = "".join(root.itertext())
    assert "first 4 of 9" in words and all(label in words for label, _ in curves)


def test_bars_stand_on_zero_and_a_threshold_is_drawn_and_named():
    root = parsed(artifacts.bars("counts", ["a", "b", "c"], [("submissions", [3, 0, 12])],
                                 threshold=10, threshold_label="passing line"))
    bars = [rect for rect in root.findall(f".//{SVG}rect") if rect.get("fill") == "#1f5fbf"]
    heights = [float(rect.get("height")) for rect in bars]
    assert heights[2] > heights[0] > heights[1] == 0.0
    assert len({round(float(r.get("y")) + float(r.get("height")), 1) for r in bars}) == 1  # one baseline
    assert "passing line" in "".join(root.itertext())
    assert any(line.get("stroke") == "#c0392b" for line in root.findall(f".//{SVG}line"))


def test_a_damaged_or_unknown_artifact_gives_no_picture():
    assert render_svg({"kind": "lines", "series": [{"label": "x", "x": [0], "y": "not numbers"}]}) is None
    assert render_svg({"kind": "lines"}) is None
    assert render_picture({"kind": "unknown"}) is None
