"""Figures a notebook draws: captured in the worker as plain data, read by the grader, graded and redrawn.

The capture runs here in-process on real matplotlib figures (the worker does the same after each cell),
then crosses the real wire encoding; one test grades learning-rate's trace plot through a worker.
"""

from __future__ import annotations

import json
import math

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pytest
from matplotlib.lines import Line2D

from autograder.grader import artifacts, figures
from autograder.grader.assignment import load_assignment
from autograder.grader.feedback import write_feedback
from autograder.grader.feedback.plots import render_png
from autograder.grader.output_paths import submission_path
from autograder.grader.results import SubmissionResult
from autograder.grader.session import WorkerSession
from autograder.grader.suite import run_suite
from autograder.worker import wire
from autograder.worker.figures import LIMITS, FigureRecorder
from reference import gradient_descent as descent
from tests.conftest import COURSE

PNG = b"\x89PNG\r\n\x1a\n"
plt.switch_backend("agg")  # headless, as in the worker


@pytest.fixture(autouse=True)
def no_open_figures():
    plt.close("all")
    yield
    plt.close("all")


def across_the_wire(recorder: FigureRecorder) -> tuple[figures.PlottedFigure, ...]:
    """What the grader reads of the recorder's figures, after the same encoding a worker uses."""
    frame = wire.encode("figures", {"figures": recorder.data(), "dropped": recorder.dropped})
    _, data = wire.decode_frame(frame)
    return figures.read_figures(data)


# ---------------------------------------------------------------------------------------- capture
def test_lines_scales_labels_titles_and_legends_are_captured():
    fig, (left, right) = plt.subplots(1, 2)
    left.semilogy([4.0, 2.0, 1.0], label="lr = 0.1")
    left.plot([1, 2, 3], np.ma.masked_array([3.0, 2.0, 1.0], mask=[False, True, False]), label="masked")
    left.set(xlabel="step", ylabel="loss", title="trace")
    left.legend()
    right.plot([0.5, 1.5], [1.0, 1e300])
    right.set_xscale("log")
    fig.suptitle("both")
    fig.legend(["figure-level"])
    recorder = FigureRecorder()
    recorder.capture_open()
    (figure,) = across_the_wire(recorder)
    assert figure.title == "both" and figure.legend == ("figure-level",)
    first, second = figure.axes
    assert (first.title, first.x_label, first.y_label, first.y_scale) == ("trace", "step", "loss", "log")
    assert first.legend == ("lr = 0.1", "masked") and second.legend is None and second.x_scale == "log"
    line, masked = first.lines
    assert line.label == "lr = 0.1" and line.x.tolist() == [0, 1, 2] and line.y.tolist() == [4, 2, 1]
    assert line.x.dtype == np.float64 and line.complete
    assert math.isnan(masked.y[1]) and masked.y[2] == 1.0  # a masked point is a gap, not a number
    assert second.lines[0].y.tolist() == [1.0, 1e300] and second.lines[0].label.startswith("_")  # no label given


def test_a_figure_closed_right_after_show_is_still_captured_and_a_later_change_replaces_it():
    recorder = FigureRecorder()
    original_show = plt.show
    recorder.watch_show()
    try:
        plt.plot([3.0, 2.0, 1.0])
        plt.show()
        plt.close()
        _, ax = plt.subplots()
        ax.plot([1.0, 2.0])
        recorder.capture_open()
        ax.set_yscale("log")  # drawn on in a later cell: the later capture is the one graded
        recorder.capture_open()
    finally:
        plt.show = original_show
    shown, changed = across_the_wire(recorder)
    assert shown.axes[0].lines[0].y.tolist() == [3.0, 2.0, 1.0]
    assert changed.axes[0].y_scale == "log" and len(across_the_wire(recorder)) == 2


def test_capture_is_held_to_its_limits():
    _, ax = plt.subplots()
    ax.plot(np.arange(1_000_000.0), label="x" * 10_000)
    for _ in range(LIMITS.max_lines + 5):
        ax.plot([1.0, 2.0])
    for _ in range(LIMITS.max_figures + 2):  # with the first, three more than the limit
        plt.figure()
    recorder = FigureRecorder()
    recorder.capture_open()
    read = across_the_wire(recorder)
    assert len(read) == LIMITS.max_figures and recorder.dropped == 3
    long_line = read[0].axes[0].lines[0]
    assert long_line.points == 1_000_000 and long_line.y.size == LIMITS.max_points and not long_line.complete
    assert len(long_line.label) == LIMITS.max_text and len(read[0].axes[0].lines) == LIMITS.max_lines


class ArrayTrick:
    """Claims to be an array of numbers, holds an object."""

    def __array__(self, dtype=None, copy=None):
        return np.array([object(), object()], dtype=object)


class SneakyLine(Line2D):
    """Replaces what the capture reads: data that is no array of numbers, labels that are no strings."""

    def get_xydata(self):
        return ArrayTrick()

    def get_label(self):
        return ArrayTrick()

    def __getattr__(self, name):
        return ArrayTrick()


class LabelledLine(Line2D):
    def get_label(self):
        class Text(str):
            def __str__(self):
                return "y" * 1_000_000

        return Text("short")


def test_objects_posing_as_lines_arrays_or_labels_carry_nothing_across():
    _, ax = plt.subplots()
    ax.add_line(SneakyLine([0, 1], [1, 2]))
    ax.add_line(LabelledLine([0, 1], [1, 2]))
    ax.plot([1.0, math.nan, math.inf])
    ax.set_title("<script>alert(1)</script>\x1b[31m")
    recorder = FigureRecorder()
    recorder.capture_open()
    (figure,) = across_the_wire(recorder)
    labelled, plain = figure.axes[0].lines  # the line whose data is no numbers is left out
    assert labelled.label == "" and labelled.y.tolist() == [1.0, 2.0]  # a str subclass is not a string
    assert plain.y[0] == 1.0 and math.isnan(plain.y[1]) and plain.y[2] == math.inf
    assert figure.axes[0].title == "<script>alert(1)</script>"  # printable; HTML escapes it where shown


def test_the_grader_keeps_only_well_formed_numbers_and_short_strings():
    line = {"label": "x" * 5000, "x": np.arange(3.0), "y": np.array([1, 2, 3], dtype=np.int8), "points": 10**40}
    data = {"figures": ["not a figure", {"axes": "no list"}] + [
        {"number": "1", "title": ["not", "text"], "legend": [1, "ok"], "axes": [
            {"title": 7, "x_scale": "evil", "y_scale": "log", "lines": [
                line, {"label": "2-D", "x": np.zeros((2, 2)), "y": np.zeros((2, 2)), "points": 4},
                {"label": "lengths differ", "x": np.arange(3.0), "y": np.arange(4.0), "points": 3},
                {"label": "lists", "x": [0, 1], "y": [1, 2], "points": 2}]}, "junk"]}] * 50}
    read = figures.read_figures(data)
    assert len(read) == LIMITS.max_figures - 2  # no more items than figures are looked at; malformed ones dropped
    figure = read[0]
    assert figure.number is None and figure.title == "" and figure.legend == ("", "ok")
    (axes,) = figure.axes
    assert (axes.title, axes.x_scale, axes.y_scale) == ("", "other", "log")
    (kept,) = axes.lines
    assert len(kept.label) == LIMITS.max_text and kept.y.dtype == np.float64 and kept.points == 3
    assert figures.read_figures(None) == () and figures.read_figures({"figures": "x"}) == ()


def test_facts_are_decided_from_the_numbers():
    line = figures.PlottedLine("lr = 8e-2", np.arange(3.0), np.array([1.0, math.inf, math.nan]), 3)
    assert figures.holds_values(line, [1.0 + 1e-12, math.inf, math.nan])
    assert not figures.holds_values(line, [1.0, math.inf, 2.0]) and not figures.holds_values(line, [1.0, math.inf])
    assert figures.names_number("lr = 8e-2", 0.08) and figures.names_number("$\\eta$=0.0005 (too small)", 5e-4)
    assert not figures.names_number("lr = 0.25", 0.08) and not figures.names_number("lr 10.08", 0.08)
    assert figures.increasing(np.arange(1.0, 4.0)) and not figures.increasing(np.array([0.0, 0.0, 1.0]))


# --------------------------------------------------------------------------------- learning-rate
def plot_cell(*, log: bool, labels: str, axis_labels: bool = True) -> str:
    """A notebook cell drawing the three runs of Question 1b (as a student would)."""
    return "\n".join([
        "import matplotlib.pyplot as plt", "import numpy as np", "A = np.diag([10.0, 0.5])",
        "fig, ax = plt.subplots()", "for lr in [0.0005, 0.08, 0.25]:", "    w, losses = np.ones(2), []",
        "    for _ in range(51):", "        losses.append(0.5 * w @ A @ w)", "        w = w - lr * A @ w",
        f"    ax.plot(losses, label={labels})",
        'ax.set_yscale("log")' if log else "", 'ax.set_xlabel("step"); ax.set_ylabel("loss")' if axis_labels else "",
        "ax.legend()"])


def trace_plot_results(cells: list[str]) -> dict[str, object]:
    assignment = load_assignment("learning-rate", COURSE)
    session = WorkerSession(list(enumerate(cells, start=1)), assignment.problems_source, assignment.budgets)
    session.start()
    try:
        results = run_suite(assignment.hidden_suite, assignment, session, only="trace_plot")
    finally:
        session.close()
    return {result.name.split(": ", 1)[1]: result for result in results}


def test_learning_rate_grades_a_right_and_a_wrong_trace_plot(tmp_path):
    right = trace_plot_results([plot_cell(log=True, labels='f"lr = {lr}"')])
    assert right and all(result.passed for result in right.values()), [r.output for r in right.values()]
    assert all(result.artifacts == [] for result in right.values())  # passed checks keep no figure data

    markup = '"<img src=x onerror=alert(1)> lr = " + str(lr)'
    wrong = trace_plot_results([plot_cell(log=False, labels=markup, axis_labels=False)])
    passed = {name for name, result in wrong.items() if result.passed}
    assert passed == {"draws the three runs' losses per step as three lines of one axes",
                      "names each learning rate in the trace plot's legend"}
    scale = wrong["gives the trace plot a log-scale y axis"]
    assert "linear scale" in scale.output and scale.score == 0
    (drawn,) = scale.artifacts
    assert drawn["kind"] == "figure" and drawn["axes"][0]["y_scale"] == "linear"
    # The redrawn figure holds the student's own numbers, which are the reference's runs.
    hessian = np.diag([10.0, 0.5])
    _, expected = descent.gradient_descent(lambda w: 0.5 * w @ hessian @ w, lambda w: hessian @ w,
                                           np.ones(2), 0.08, max_iters=50, tol=0.0)
    assert [artifacts.as_float(v) for v in drawn["axes"][0]["lines"][1]["y"]] == pytest.approx(expected, rel=1e-6)
    assert render_png(drawn).startswith(PNG)
    json.dumps(drawn, allow_nan=False)

    # The feedback page draws it and escapes what the student wrote; the notebook copy puts the feedback on
    # trace_plot, which no cell defines, under its summary, and does not call it undefined.
    notebook = tmp_path / "wrong-plot.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(plot_cell(
        log=False, labels=markup, axis_labels=False))]), notebook)
    result = SubmissionResult(submission="wrong-plot", assignment="learning-rate", tests=list(wrong.values()))
    write_feedback(tmp_path, result, load_assignment("learning-rate", COURSE), notebook=notebook)
    page = submission_path(tmp_path / "feedback", "wrong-plot", ".html").read_text()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count('src="data:image/png;base64,') >= 2  # the figure, for each check that failed
    copy = nbformat.read(submission_path(tmp_path / "feedback", "wrong-plot", ".ipynb"), as_version=4)
    summary, plot_feedback, student_cell = copy.cells
    assert "Not defined" not in summary.source and "Feedback on `trace_plot`: 1.25 / 2" in plot_feedback.source
    assert student_cell.source.startswith("import matplotlib")
    assert plot_feedback.attachments  # the redrawn figure travels with the cell


def test_figures_the_recorder_cannot_send_are_none_and_the_notebook_still_runs():
    cells = ["import matplotlib.pyplot as plt\nplt.plot([1.0, 2.0])",
             "import gc\nfor found in gc.get_objects():\n    if type(found).__name__ == 'FigureRecorder':\n"
             "        found.data = lambda: [object()]",
             "def f():\n    return 1"]
    session = WorkerSession(list(enumerate(cells, start=1)), None, load_assignment("learning-rate", COURSE).budgets)
    session.start()
    try:
        assert session.load_report.figures == () and not any(cell.error for cell in session.load_report.cells)
        assert session.call("f", (), {}).value == 1
    finally:
        session.close()


def test_the_template_demo_plot_earns_nothing():
    assignment = load_assignment("learning-rate", COURSE)
    template = json.loads(assignment.student_notebook.read_text())
    cells = [(i, "".join(c["source"])) for i, c in enumerate(template["cells"]) if c["cell_type"] == "code"]
    session = WorkerSession(cells, assignment.problems_source, assignment.budgets)
    session.start()
    try:
        drawn = session.load_report.figures
        results = run_suite(assignment.hidden_suite, assignment, session, only="trace_plot")
    finally:
        session.close()
    assert len(drawn) == 1 and len(drawn[0].axes) == 3  # the lecture's three demo traces are there...
    assert results and not any(result.passed for result in results)  # ...and are not the question's runs
    assert "No axes of your figures holds the 51 losses" in results[0].output
