"""Hidden suite: diagnose_trace and pick_learning_rate.

Every trace is made at test time by a real gradient-descent run (the closed-form iterate on a
quadratic, or ``reference.gradient_descent``), and its expected label follows from the dynamics:
on a quadratic with largest curvature L and smallest mu, a run of T steps with rate eta is

* ``too_small`` when eta L <= 0.01 and T eta L <= 0.5 (no mode has decayed by more than e^-1),
* ``good`` when 0.5 <= eta L <= 1.5 and T eta mu >= 10 (every mode has decayed by e^-20),
* ``too_large`` when eta L >= 2.5 (the top mode grows by at least 1.5 per step).

Runs between these regions are ambiguous and never built. The reference ``diagnose_trace`` must
agree with every label; if it does not, the test itself is wrong and fails with a grader-side error.
Expected winners of ``pick_learning_rate`` come from ``reference.pick_learning_rate``, on problems
built so that the winner leads by a margin far above round-off.
"""

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import pytest

from autograder import checks
from autograder.grader import figures
from autograder.grader.once_per_process import remembered
from autograder.grader.session import StudentCodeError
from reference import gradient_descent as descent
from reference import learning_rate as reference

LABELS = ("too_small", "good", "too_large")
# The reference's pick on the grader's problems is the same for every submission: made once per process.
reference_pick = remembered(reference.pick_learning_rate)


class SuiteBug(RuntimeError):
    """A test built an input that contradicts its own premise; never the student's fault."""


# ------------------------------------------------------------------------------------- problems
def random_quadratic(rng: np.random.Generator, dimension: int, condition: float, top: float = 1.0):
    """A rotated quadratic with eigenvalues spread over [top / condition, top], and a start that
    excites every eigenvector (so no mode is missing from the trace by accident)."""
    rotation, _ = np.linalg.qr(rng.standard_normal((dimension, dimension)))
    eigenvalues = top * np.geomspace(1.0 / condition, 1.0, dimension)
    hessian = rotation @ np.diag(eigenvalues) @ rotation.T
    hessian = (hessian + hessian.T) / 2
    optimum = rng.standard_normal(dimension)
    w0 = optimum + rotation @ (rng.uniform(1.0, 2.0, dimension) * rng.choice([-1.0, 1.0], dimension))
    return hessian, optimum, w0


def quadratic(problems, hessian, optimum):
    return (problems.bind("quadratic_loss", hessian=hessian, optimum=optimum),
            problems.bind("quadratic_grad", hessian=hessian, optimum=optimum))


def least_squares_problem(seed: int, rows: int = 50, columns: int = 4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, columns)) @ np.diag(rng.uniform(0.3, 3.0, columns))
    y = X @ rng.standard_normal(columns) + 0.3 * rng.standard_normal(rows)
    return X, y


# --------------------------------------------------------------------------------------- traces
@dataclass(frozen=True)
class Trace:
    losses: np.ndarray
    label: str
    origin: str

    def describe(self, losses: np.ndarray | None = None) -> str:
        shown = self.losses if losses is None else losses
        n = shown.size
        picks = sorted({0, n // 4, n // 2, (3 * n) // 4, n - 1})
        values = ", ".join(f"[{i}] {shown[i]:.8g}" for i in picks)
        return f"a trace of {n} losses ({values}) from {self.origin}"


def dynamics_label(eta_top: float, eta_bottom: float, steps: int) -> str | None:
    """The label a run's dynamics give it (eta_top = eta L, eta_bottom = eta mu), None if ambiguous."""
    if eta_top <= 0.01 and steps * eta_top <= 0.5:
        return "too_small"
    if 0.5 <= eta_top <= 1.5 and steps * eta_bottom >= 10:
        return "good"
    if eta_top >= 2.5:
        return "too_large"
    return None


def labelled(losses, eta_top: float, eta_bottom: float, steps: int, origin: str) -> Trace:
    """A trace with the label its dynamics give it, after checking the test's own premises."""
    losses = np.asarray(losses, dtype=float)
    label = dynamics_label(eta_top, eta_bottom, steps)
    if label is None:
        raise SuiteBug(f"grader error: the run {origin} is ambiguous and must not be graded")
    if losses.size < 10 or losses.size != steps + 1:
        raise SuiteBug(f"grader error: the run {origin} gave {losses.size} losses for {steps} steps")
    if reference.diagnose_trace(losses) != label:
        raise SuiteBug(f"grader error: the reference labels the run {origin} "
                       f"{reference.diagnose_trace(losses)!r}, its dynamics say {label!r}")
    return Trace(losses, label, origin)


def closed_form_trace(rng: np.random.Generator, eta_top: float, steps: int, *, dimension: int,
                      condition: float, top: float, offset: float) -> Trace:
    """Losses of gradient descent on a random quadratic (plus a constant), from the closed form."""
    hessian, optimum, w0 = random_quadratic(rng, dimension, condition, top)
    eigenvalues, vectors = np.linalg.eigh(hessian)
    amplitude = vectors.T @ (w0 - optimum)
    lr = eta_top / top
    with np.errstate(all="ignore"):  # a diverging run may overflow; that is part of its trace
        factors = (1 - lr * eigenvalues) ** (2 * np.arange(steps + 1)[:, None])
        losses = offset + 0.5 * (factors * (eigenvalues * amplitude**2)).sum(axis=1)
    origin = (f"{steps} steps of gradient descent with lr = {eta_top:g}/L on a {dimension}-dimensional "
              f"quadratic with condition number {condition:g}")
    return labelled(losses, eta_top, eta_top / condition, steps, origin)


def descent_trace(loss, grad, w0, lr: float, steps: int, curvatures: np.ndarray, problem: str) -> Trace:
    """Losses of the reference gradient_descent (tol = 0, so it takes every step)."""
    with np.errstate(all="ignore"):  # diverging runs overflow to inf and then nan: that is the point
        _, losses = descent.gradient_descent(loss, grad, w0, lr, max_iters=steps, tol=0.0)
    top, bottom = float(np.max(curvatures)), float(np.min(curvatures))
    origin = f"{steps} steps of gradient descent with lr = {lr * top:g}/L on {problem}"
    return labelled(losses, lr * top, lr * bottom, steps, origin)


@remembered  # the same traces for every submission: built once per grading process
def too_small_traces() -> list[Trace]:
    rng = np.random.default_rng(101)
    traces = []
    for eta_top in (0.002, 0.005, 0.01, 0.002, 0.005, 0.01, 0.003, 0.008, 0.004, 0.01):
        longest = math.floor(0.5 / eta_top + 1e-9)
        traces.append(closed_form_trace(
            rng, eta_top, int(rng.integers(45, longest + 1)), dimension=int(rng.integers(2, 9)),
            condition=float(rng.choice([1.0, 4.0, 10.0, 50.0, 200.0])),
            top=float(rng.choice([1e-3, 1.0, 1e3])), offset=float(rng.choice([0.0, rng.uniform(0.1, 50.0)]))))
    return traces


@remembered  # the same traces for every submission: built once per grading process
def good_traces() -> list[Trace]:
    rng = np.random.default_rng(102)
    traces = []
    for eta_top in (0.5, 1.0, 1.5, 0.7, 1.2, 0.9, 1.4, 0.6, 1.0, 1.1):
        condition = float(rng.choice([1.0, 3.0, 10.0, 30.0, 100.0]))
        steps = math.ceil(10 * condition / eta_top * rng.uniform(1.0, 1.6))
        traces.append(closed_form_trace(
            rng, eta_top, steps, dimension=int(rng.integers(2, 9)), condition=condition,
            top=float(rng.choice([1e-3, 1.0, 1e3])), offset=float(rng.choice([0.0, rng.uniform(0.1, 50.0)]))))
    return traces


@remembered  # the same traces for every submission: built once per grading process
def too_large_traces() -> list[Trace]:
    """Diverging runs whose losses stay finite: the growth has to be read from the values."""
    rng = np.random.default_rng(103)
    traces = []
    for eta_top in (2.5, 3.0, 4.0, 2.6, 5.0, 3.5, 2.8, 6.0, 2.5, 3.2):
        traces.append(closed_form_trace(
            rng, eta_top, int(rng.integers(9, 120)), dimension=int(rng.integers(2, 9)),
            condition=float(rng.choice([1.0, 3.0, 10.0, 30.0])),
            top=float(rng.choice([1e-3, 1.0, 1e3])), offset=float(rng.choice([0.0, rng.uniform(0.1, 50.0)]))))
    if not all(np.all(np.isfinite(trace.losses)) for trace in traces):
        raise SuiteBug("grader error: a trace meant to stay finite overflowed")
    return traces


@remembered  # the same traces for every submission: built once per grading process
def nonfinite_traces(problems) -> list[Trace]:
    """Runs that blow up until the loss is inf, and then (once w itself overflows) nan."""
    rng = np.random.default_rng(104)
    traces = []
    for eta_top, steps in ((10.0, 200), (10.0, 400), (50.0, 300), (3.0, 1500), (20.0, 250)):
        dimension = int(rng.integers(2, 6))
        hessian, optimum, w0 = random_quadratic(rng, dimension, 10.0)
        loss, grad = quadratic(problems, hessian, optimum)
        traces.append(descent_trace(loss, grad, w0, eta_top, steps, np.linalg.eigvalsh(hessian),
                                    f"a {dimension}-dimensional quadratic"))
    kinds = {(bool(np.isinf(t.losses).any()), bool(np.isnan(t.losses).any())) for t in traces}
    if not {(True, False), (True, True)} <= kinds:
        raise SuiteBug("grader error: the blow-up runs should include one ending in inf and one in nan")
    return traces


@remembered  # the same traces for every submission: built once per grading process
def least_squares_traces(problems) -> list[Trace]:
    """Least-squares runs (the minimum loss is the residual, not zero) of every label."""
    traces = []
    for seed in (105, 106):
        X, y = least_squares_problem(seed)
        curvatures = np.linalg.eigvalsh(X.T @ X)
        top, condition = float(curvatures.max()), float(curvatures.max() / curvatures.min())
        loss = problems.bind("least_squares_loss", X=X, y=y)
        grad = problems.bind("least_squares_grad", X=X, y=y)
        problem = f"a least-squares problem with 4 weights and condition number {condition:.3g}"
        for eta_top, steps in ((0.005, 90), (1.0, math.ceil(12 * condition)), (3.0, 60)):
            traces.append(descent_trace(loss, grad, np.zeros(4), eta_top / top, steps, curvatures, problem))
    return traces


def all_clear_traces(problems) -> list[Trace]:
    return too_small_traces() + good_traces() + too_large_traces() + nonfinite_traces(problems)


# ------------------------------------------------------------------------------- diagnose checks
def wire_form(losses: np.ndarray, index: int):
    """Alternate plain lists and numpy arrays: the contract accepts both."""
    return losses.tolist() if index % 2 == 0 else losses


def check_labels(submission, traces: list[Trace], transform=None, transform_name: str = "", feedback=None) -> None:
    """Ask diagnose_trace about every trace; fail with the first misread one, and how many there were
    (and show the misread traces, as the function saw them, in the feedback)."""
    wrong = []
    for index, trace in enumerate(traces):
        losses = trace.losses
        if transform is not None:
            with np.errstate(all="ignore"):
                losses = transform(trace.losses)
            if reference.diagnose_trace(losses) != trace.label:
                raise SuiteBug(f"grader error: the reference changes its label of {trace.origin} "
                               f"when the trace is {transform_name}")
        got = submission.diagnose_trace(wire_form(losses, index))
        if got != trace.label:
            wrong.append((trace, losses, got, "numpy array" if index % 2 else "list"))
    if not wrong:
        return
    how = f" (the same traces {transform_name})" if transform_name else ""
    if feedback is not None:
        feedback.traces([(f"expected {t.label!r}, got {checks.brief(g, 24)}", shown) for t, shown, g, _ in wrong],
                        title=f"traces diagnose_trace labelled wrongly: {len(wrong)} of {len(traces)}{how}")
    trace, losses, got, kind = wrong[0]
    if not isinstance(got, str) or got not in LABELS:
        problem = f"returned {got!r}, which is not one of {', '.join(map(repr, LABELS))}"
    else:
        problem = f"returned {got!r}"
    labels = sorted({t.label for t, *_ in wrong})
    raise AssertionError(
        f"diagnose_trace misread {len(wrong)} of {len(traces)} traces{how}; misread labels: "
        f"{', '.join(labels)}. For example, given {trace.describe(losses)} as a {kind}, it {problem}; "
        f"the run's dynamics make it {trace.label!r}.")


def with_contrasts(traces: list[Trace]) -> list[Trace]:
    """``traces`` plus one clear run of each other label: a function that gives every trace the same
    label (a stub) cannot earn a label's points."""
    others = [trace for kind in (too_small_traces(), good_traces(), too_large_traces()) for trace in kind[:1]
              if trace.label not in {t.label for t in traces}]
    return traces + others


@pytest.mark.graded("diagnose_trace", points=1, states=[
    "which labels a loss trace (a list or 1-D array of at least two losses, one per step) as `\"too_large\"`, "
    "`\"too_small\"` or `\"good\"`",
    "Otherwise `\"too_small\"`: it is still falling steadily"])
def test_diagnose_too_small(submission, feedback):
    """labels runs with a tiny learning rate, still falling steadily, 'too_small'"""
    check_labels(submission, with_contrasts(too_small_traces()), feedback=feedback)


@pytest.mark.graded("diagnose_trace", points=1, states=[
    "which labels a loss trace (a list or 1-D array of at least two losses, one per step)",
    "The trace is `\"good\"` if it decreased overall (`losses[0] - losses[-1] > 0`) and its tail accounts for at "
    "most `TAIL_SHARE = 0.05` of that decrease"])
def test_diagnose_good(submission, feedback):
    """labels runs that fell and levelled off 'good'"""
    check_labels(submission, with_contrasts(good_traces()), feedback=feedback)


@pytest.mark.graded("diagnose_trace", points=1, states=[
    "which labels a loss trace (a list or 1-D array of at least two losses, one per step)",
    "or if the loss ever rises above the lowest value reached before it by more than `RISE_SHARE = 0.01` of the "
    "trace's range"])
def test_diagnose_too_large(submission, feedback):
    """labels diverging runs (finite losses) 'too_large'"""
    check_labels(submission, with_contrasts(too_large_traces()), feedback=feedback)


@pytest.mark.graded("diagnose_trace", points=0.5, states=["`\"too_large\"` if any loss is NaN or infinite"])
def test_diagnose_nonfinite(submission, problems, feedback):
    """labels runs that blew up to inf or nan 'too_large'"""
    check_labels(submission, with_contrasts(nonfinite_traces(problems)), feedback=feedback)


@pytest.mark.graded("diagnose_trace", points=1, visibility="after_due_date", states=[
    "Label a loss trace ``\"too_large\"``, ``\"too_small\"`` or ``\"good\"`` (see the rule above)."])
def test_diagnose_least_squares(submission, problems, feedback):
    """labels least-squares runs of every kind (nonzero minimum loss)"""
    check_labels(submission, least_squares_traces(problems), feedback=feedback)


# ---------------------------------------------------------------------------- the rule, at its edges
def edge_traces() -> list[tuple[str, list[float], str, str]]:
    """Traces built on the edges of the notebook's rule: (part of the rule, losses, label, what it is about).
    Every number is exact in binary, so the comparisons at the edges hold in any way of computing them."""
    creep = [10.0, 5.0, *(5.0 + 0.04 * k for k in range(1, 11))]
    return [
        ("rise", [10.0, 2.0, 6.0, 1.0, 0.5, 0.4, 0.35, 0.3, 0.3, 0.3], "too_large", "a loss climbing from 2 back to 6: "
         "below the start, but far above the lowest value reached before it"),
        ("rise", creep, "too_large", "a creep upwards in steps of 0.04 (0.8% of the range each, 8% above the lowest)"),
        ("rise", [1e-3, 2e-4, 5e-4, 1e-4, 1e-4], "too_large", "a trace whose whole range is 0.0009, with a rise of a "
         "third of it (the share is of the trace's range, whatever its size)"),
        ("rise", [10.0, 8.0, 6.0, 4.0, 2.0, 1.0, 0.5, 0.4, 0.4, 0.4], "good", "a trace that never rises"),
        ("flat", [3.0, 3.0, 3.0, 3.0, 3.0], "too_small", "a flat trace (it has not decreased, so it is not 'good')"),
        ("tail", [100.0, 60.0, 30.0, 15.0, 10.0, 8.0, 7.0, 6.0, 5.0, 2.5, 0.0], "good", "11 losses whose tail (the "
         "last ceil(0.2 * 10) = 2 steps) accounts for exactly 5% of the decrease: at most 5%"),
        ("tail", [100.0, 50.0, 25.0, 15.0, 12.0, 10.0, 9.0, 8.0, 7.0, 6.0, 4.0, 2.0, 0.0], "too_small",
         "13 losses: the tail is the last ceil(0.2 * 12) = 3 steps, from losses[9] = 6, which is 6% of the decrease"),
    ]


def check_edges(submission, part: str) -> None:
    for kind, losses, expected, about in edge_traces():
        if kind != part:
            continue
        if reference.diagnose_trace(losses) != expected:
            raise SuiteBug(f"grader error: the reference labels {about} {reference.diagnose_trace(losses)!r}")
        got = submission.diagnose_trace(losses)
        assert got == expected, f"diagnose_trace gave {got!r} for {about}, {losses}; the rule makes it {expected!r}."


@pytest.mark.graded("diagnose_trace", points=0.5, states=[
    "or if the loss ever rises above the lowest value reached before it by more than `RISE_SHARE = 0.01` of the "
    "trace's range (`max(losses) - min(losses)`)."])
def test_diagnose_rise_from_the_lowest_value_before(submission):
    """labels 'too_large' a rise above the lowest value reached before it by more than 0.01 of the range"""
    check_edges(submission, "rise")


@pytest.mark.graded("diagnose_trace", points=0.5, states=[
    "or it did not move at all (a flat trace has not decreased, so it is not `\"good\"`)."])
def test_diagnose_flat_trace(submission):
    """labels a flat trace 'too_small' (it has not decreased, so it is not 'good')"""
    check_edges(submission, "flat")


@pytest.mark.graded("diagnose_trace", points=0.5, states=[
    "Let the tail be the last `TAIL_FRACTION = 0.2` of the steps: `tail_steps = max(1, ceil(0.2 * (n - 1)))` for a "
    "trace of `n` losses.",
    "`losses[n - 1 - tail_steps] - losses[-1] <= 0.05 * (losses[0] - losses[-1])`."])
def test_diagnose_tail_rule(submission):
    """labels 'good' a trace whose tail of ceil(0.2 (n - 1)) steps holds at most 5% of its decrease"""
    check_edges(submission, "tail")


@pytest.mark.graded("diagnose_trace", points=0.5, states=[
    "Raise a `ValueError` if `losses` is not one-dimensional or has fewer than two entries."])
def test_diagnose_refuses_short_or_flat_arrays(submission):
    """raises a ValueError for fewer than two losses or losses that are not one-dimensional"""
    cases = (([1.0], "a single loss"), ([], "no loss"), (np.array([[3.0, 2.0], [1.0, 0.5]]), "a 2-D array"))
    for losses, about in cases:
        try:
            got = submission.diagnose_trace(losses)
        except StudentCodeError as error:
            assert "raised ValueError" in str(error), (
                f"diagnose_trace given {about} raised something other than a ValueError: {error}")
            continue
        raise AssertionError(f"diagnose_trace given {about} returned {checks.brief(got)}; it should raise a "
                             "ValueError (losses must be one-dimensional, with at least two entries).")


INVARIANCES = {
    "scaled": ("multiplied by 1000", lambda losses: losses * 1000.0),
    "shifted": ("shifted by +100", lambda losses: losses + 100.0),
    "subsampled": ("with only every 5th loss kept", lambda losses: losses[::5]),
}


@pytest.mark.graded("diagnose_trace", points=0.5, states=[
    "so the label does not change if the losses are multiplied by a positive constant, shifted by a constant"])
@pytest.mark.parametrize("change", ["scaled", "shifted"])
def test_diagnose_units_do_not_matter(submission, problems, feedback, change):
    """gives the same label when the losses are scaled or shifted"""
    name, transform = INVARIANCES[change]
    check_labels(submission, all_clear_traces(problems), transform, name, feedback)


@pytest.mark.graded("diagnose_trace", points=0.5, visibility="after_due_date", states=[
    "or logged only every few steps."])
def test_diagnose_logging_interval_does_not_matter(submission, problems, feedback):
    """gives the same label when only every 5th loss was logged"""
    name, transform = INVARIANCES["subsampled"]
    traces = [trace for trace in all_clear_traces(problems) if trace.losses[::5].size >= 10]
    check_labels(submission, traces, transform, name, feedback)


# ------------------------------------------------------------------------------ trace plot checks
# Question 1b: 50 steps on the lecture's quadratic from w = (1, 1) with each rate, drawn on one axes.
PLOT_RATES = (0.0005, 0.08, 0.25)
PLOT_STEPS = 50


def expected_plot_losses(problems) -> dict[float, np.ndarray]:
    """The 51 losses of each run, from the reference gradient descent (tol = 0: every step is taken)."""
    hessian = np.diag([10.0, 0.5])
    loss = problems.bind("quadratic_loss", hessian=hessian, optimum=np.zeros(2))
    grad = problems.bind("quadratic_grad", hessian=hessian, optimum=np.zeros(2))
    runs = {}
    for lr in PLOT_RATES:
        _, losses = descent.gradient_descent(loss, grad, np.array([1.0, 1.0]), lr, max_iters=PLOT_STEPS, tol=0.0)
        runs[lr] = np.asarray(losses, dtype=float)
        if runs[lr].size != PLOT_STEPS + 1 or not np.all(np.isfinite(runs[lr])):
            raise SuiteBug(f"grader error: the run with lr = {lr} gave {runs[lr].size} losses, not all finite")
    return runs


@dataclass(frozen=True)
class TracePlot:
    """The axes of the notebook's figures that holds the most of the three runs, and which line is which."""

    figure: figures.PlottedFigure | None
    axes: figures.PlottedAxes | None
    lines: dict[float, figures.PlottedLine]  # rate -> the line holding that run's losses


def find_trace_plot(submission, problems) -> TracePlot:
    """Look through every axes the notebook drew for lines holding the runs' losses; keep the axes holding most."""
    expected = expected_plot_losses(problems)
    best = TracePlot(None, None, {})
    for figure, axes in figures.all_axes(submission.figures):
        found = {}
        for lr, losses in expected.items():
            match = next((line for line in axes.lines if all(line is not other for other in found.values())
                          and figures.holds_values(line, losses)), None)
            if match is not None:
                found[lr] = match
        if len(found) > len(best.lines):
            best = TracePlot(figure, axes, found)
    return best


@contextlib.contextmanager
def shown_when_wrong(feedback, submission, plot: TracePlot, expected: dict[float, np.ndarray] | None = None):
    """On a failure, put the figure the check looked at (as the grader read it) on the feedback page, with
    the runs' losses when ``expected`` is given. Passed checks record nothing: a figure is kilobytes of data."""
    try:
        yield
    except AssertionError:
        shown = plot.figure or next(iter(submission.figures), None)
        if shown is not None:
            feedback.figure(shown)
        if expected is not None:
            feedback.traces([(f"lr = {lr:g}", losses) for lr, losses in expected.items()],
                            title="the losses of the three runs (what the lines of your trace plot should hold)")
        raise


def require_a_run(plot: TracePlot, submission) -> None:
    if plot.axes is None:
        raise AssertionError("No axes of your figures holds the 51 losses of any of the three runs (50 steps from "
                             "w = (1, 1) on 0.5 w^T A w, A = diag(10, 0.5), with lr = 0.0005, 0.08 and 0.25). "
                             + figures.describe(submission.figures))


@pytest.mark.graded("trace_plot", points=1, states=[
    "Run gradient descent on the lecture's quadratic",
    "for exactly 50 steps with each of the learning rates `PLOT_RATES = [0.0005, 0.08, 0.25]`",
    "Plot the loss per step for the three learning rates on one axes: one line per rate, its 51 losses (the loss at "
    "the start, then the loss after each step) against the step number."])
def test_trace_plot_lines(submission, problems, feedback):
    """draws the three runs' losses per step as three lines of one axes"""
    plot = find_trace_plot(submission, problems)
    with shown_when_wrong(feedback, submission, plot, expected_plot_losses(problems)):
        require_a_run(plot, submission)
        missing = [f"{lr:g}" for lr in PLOT_RATES if lr not in plot.lines]
        assert not missing, (f"The axes holding your trace plot has no line whose y values are the 51 losses of the "
                             f"run with lr = {' or '.join(missing)} (50 steps from w = (1, 1); the loss at the start "
                             "first). All three runs belong on the same axes.")
        sideways = [f"{lr:g}" for lr, line in plot.lines.items() if not figures.increasing(line.x)]
        assert not sideways, (f"The line of lr = {', '.join(sideways)} does not run along the step number: its x "
                              "values should increase with the step (plot the losses against range(51), or on their "
                              "own).")


# The other checks look at the axes that holds the runs; when there is none, the check above shows the figures.
@pytest.mark.graded("trace_plot", points=0.5, states=["Give the axes a log-scale y axis"])
def test_trace_plot_log_scale(submission, problems, feedback):
    """gives the trace plot a log-scale y axis"""
    plot = find_trace_plot(submission, problems)
    require_a_run(plot, submission)
    with shown_when_wrong(feedback, submission, plot):
        assert plot.axes.y_scale == "log", (f"The y axis of your trace plot has a {plot.axes.y_scale} scale; give it "
                                            "a log scale (ax.set_yscale(\"log\") or plt.semilogy), so that all three "
                                            "runs can be read on it.")


@pytest.mark.graded("trace_plot", points=0.25, states=[
    "Add a legend naming each rate: each line's label holds its learning rate as a number, such as `\"lr = 0.08\"`."])
def test_trace_plot_legend(submission, problems, feedback):
    """names each learning rate in the trace plot's legend"""
    plot = find_trace_plot(submission, problems)
    require_a_run(plot, submission)
    shown = plot.figure.legend_texts(plot.axes)
    with shown_when_wrong(feedback, submission, plot):
        assert shown, ("Your trace plot has no legend; label each line with its rate and call ax.legend() (or "
                       "plt.legend()).")
        for lr, line in plot.lines.items():
            assert line.label in shown, (f"The line of lr = {lr:g} is not in the legend (its label is "
                                         f"{line.label!r}; the legend shows {', '.join(map(repr, shown[:6]))}).")
            assert figures.names_number(line.label, lr), (
                f"The legend entry {line.label!r} of the line of lr = {lr:g} does not name its rate as a number; "
                f"label it like \"lr = {lr:g}\".")


@pytest.mark.graded("trace_plot", points=0.25, states=["Label the x axis and the y axis."])
def test_trace_plot_axis_labels(submission, problems, feedback):
    """labels both axes of the trace plot"""
    plot = find_trace_plot(submission, problems)
    require_a_run(plot, submission)
    unlabelled = [name for name, label in (("x", plot.axes.x_label), ("y", plot.axes.y_label)) if not label.strip()]
    with shown_when_wrong(feedback, submission, plot):
        assert not unlabelled, (f"The {' and '.join(unlabelled)} axis of your trace plot has no label; "
                                "use ax.set_xlabel(\"step\") and ax.set_ylabel(\"loss\").")


# --------------------------------------------------------------------------------- pick checks
@remembered  # the same runs for every submission: made once per grading process
def final_losses(loss, grad, w0, candidates, n_iters) -> list[float]:
    """The final loss of each candidate's run, the way the contract defines the comparison."""
    finals = []
    with np.errstate(all="ignore"):
        for lr in candidates:
            w = np.array(w0, dtype=float)
            for _ in range(n_iters):
                w = w - lr * np.asarray(grad(w), dtype=float)
            finals.append(float(loss(w)))
    return finals


@remembered  # the same runs for every submission: made once per grading process
def clear_winner(loss, grad, w0, candidates, n_iters, *, gap: float = 1e-4) -> float:
    """The reference's pick, after checking that the runner-up's final loss exceeds the winner's by
    at least ``gap`` of its size (round-off in a student's loop is some 1e-13 of it, so the answer
    cannot depend on how the loop is written)."""
    expected = reference_pick(loss, grad, w0, candidates, n_iters)
    finite = sorted(f for f in final_losses(loss, grad, w0, candidates, n_iters) if np.isfinite(f))
    if expected is None or len(finite) < 2 or not finite[1] - finite[0] >= gap * abs(finite[0]):
        raise SuiteBug(f"grader error: the candidates {candidates} have no clear winner after {n_iters} steps")
    return expected


def check_pick(got, expected: float, candidates, what: str, finals: list[float] | None = None) -> None:
    if got is None:
        raise AssertionError(f"{what} returned None; expected the learning rate {expected!r}.")
    value = checks.as_float(got, what)
    if math.isclose(value, expected, rel_tol=1e-12, abs_tol=0.0):
        return
    hint = ""
    if value.is_integer() and 0 <= value < len(candidates) and candidates[int(value)] == expected:
        hint = " That is the position of the right candidate; return the learning rate itself, not its index."
    elif not any(math.isclose(value, c, rel_tol=1e-12) for c in candidates):
        hint = " That is not one of the candidates."
    if finals is not None:
        table = ", ".join(f"lr={c:g}: {f:.6g}" for c, f in zip(candidates, finals, strict=True))
        hint += f" The final losses after the runs are {table}."
    raise AssertionError(f"{what}: expected the learning rate {expected!r}, got {value!r}.{hint}")


@pytest.mark.graded("pick_learning_rate", points=1, states=[
    "Write `pick_learning_rate(loss_fn, grad_fn, w0, candidates, n_iters)`, which",
    "returns the candidate whose final loss `loss_fn(w)` is the lowest;",
    "Return the candidate whose ``n_iters`` steps from ``w0`` end at the lowest finite loss, else None."])
def test_pick_lowest_final_loss(submission, problems):
    """returns the candidate whose run ends at the lowest loss"""
    hessian, optimum, w0 = random_quadratic(np.random.default_rng(31), 5, 20.0, top=4.0)
    loss, grad = quadratic(problems, hessian, optimum)
    # eta L = 1.8 wins; 1.92 and 1.96 still converge but slower, 2.08 diverges slowly.
    candidates = [0.01, 0.05, 0.2, 0.45, 0.48, 0.49, 0.52]
    for n_iters in (30, 60):
        expected = clear_winner(loss, grad, w0, candidates, n_iters)
        got = submission.pick_learning_rate(loss, grad, w0, candidates, n_iters)
        check_pick(got, expected, candidates, f"pick_learning_rate(loss_fn, grad_fn, w0, {candidates}, "
                   f"{n_iters}) on a 5-dimensional quadratic with L = 4",
                   final_losses(loss, grad, w0, candidates, n_iters))

    X, y = least_squares_problem(32, rows=40)
    top = float(np.linalg.eigvalsh(X.T @ X).max())
    loss = problems.bind("least_squares_loss", X=X, y=y)
    grad = problems.bind("least_squares_grad", X=X, y=y)
    candidates = [round(m / top, 6) for m in (0.1, 0.5, 1.0, 1.7, 1.97)]
    expected = clear_winner(loss, grad, np.zeros(4), candidates, 100)
    got = submission.pick_learning_rate(loss, grad, np.zeros(4), candidates, 100)
    check_pick(got, expected, candidates, f"pick_learning_rate on least squares with candidates {candidates} "
               "and n_iters=100", final_losses(loss, grad, np.zeros(4), candidates, 100))

    # Curvatures 1 and 0.1, the stiff mode barely excited: lr = 2.1 first races down the flat mode
    # (its loss dips below 1e-7 around step 30) and then slowly blows up the stiff one, ending far
    # above lr = 1. The final loss decides, not the lowest loss met on the way.
    rotation, _ = np.linalg.qr(np.random.default_rng(37).standard_normal((2, 2)))
    hessian = rotation @ np.diag([1.0, 0.1]) @ rotation.T
    hessian = (hessian + hessian.T) / 2
    optimum = np.array([1.0, 2.0])
    w0 = optimum + rotation @ np.array([1e-5, 1.0])
    loss, grad = quadratic(problems, hessian, optimum)
    candidates = [2.1, 0.5, 1.0]
    expected = clear_winner(loss, grad, w0, candidates, 60)
    got = submission.pick_learning_rate(loss, grad, w0, candidates, 60)
    check_pick(got, expected, candidates, f"pick_learning_rate with candidates {candidates} and n_iters=60 on a "
               "quadratic where lr = 2.1 reaches a low loss early and then climbs again",
               final_losses(loss, grad, w0, candidates, 60))


@pytest.mark.graded("pick_learning_rate", points=0.5, states=[
    "returns the candidate whose final loss `loss_fn(w)` is the lowest;"])
def test_pick_order_does_not_matter(submission, problems):
    """the order of the candidates does not change the pick"""
    hessian, optimum, w0 = random_quadratic(np.random.default_rng(33), 4, 10.0, top=2.0)
    loss, grad = quadratic(problems, hessian, optimum)
    rates = [0.02, 0.3, 0.9, 0.75, 0.1, 0.97]
    for order in ([0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [3, 0, 5, 2, 4, 1], [2, 5, 1, 3, 0, 4]):
        candidates = [rates[i] for i in order]
        expected = clear_winner(loss, grad, w0, candidates, 40)
        got = submission.pick_learning_rate(loss, grad, w0, candidates, 40)
        check_pick(got, expected, candidates, f"pick_learning_rate with candidates in the order {candidates} "
                   "and n_iters=40", final_losses(loss, grad, w0, candidates, 40))


@pytest.mark.graded("pick_learning_rate", points=1, states=[
    "ignores a run whose final loss is NaN or infinite (large rates are expected to blow up: that is the point of "
    "trying them)"])
def test_pick_ignores_diverged_runs(submission, problems):
    """ignores runs that end in inf or nan"""
    hessian, optimum, w0 = random_quadratic(np.random.default_rng(34), 4, 10.0)  # L = 1
    loss, grad = quadratic(problems, hessian, optimum)
    n_iters = 200
    # 10/L overflows the loss (inf) within 200 steps, 50/L overflows w itself (nan); 2.2/L grows
    # but stays finite. The blown-up runs come first, where a careless comparison would keep them.
    blown = [50.0, 10.0]
    finals = final_losses(loss, grad, w0, blown, n_iters)
    if not (np.isnan(finals[0]) and np.isinf(finals[1])):
        raise SuiteBug(f"grader error: the diverging candidates end at {finals}, not at nan and inf")
    for candidates in ([*blown, 0.1, 2.2, 0.9, 0.5], [0.5, 50.0, 0.9, 10.0, 0.1], [10.0, 0.2, 2.2, 50.0]):
        expected = clear_winner(loss, grad, w0, candidates, n_iters)
        got = submission.pick_learning_rate(loss, grad, w0, candidates, n_iters)
        check_pick(got, expected, candidates, f"pick_learning_rate with candidates {candidates} and "
                   f"n_iters={n_iters} (L = 1)", final_losses(loss, grad, w0, candidates, n_iters))


@pytest.mark.graded("pick_learning_rate", points=0.5, states=[
    "and returns `None` if every run diverged.",
    "end at the lowest finite loss, else None."])
def test_pick_returns_none_when_every_run_diverged(submission, problems):
    """returns None if every run diverged (NaN or infinite final losses)"""
    hessian, optimum, w0 = random_quadratic(np.random.default_rng(34), 4, 10.0)  # L = 1
    loss, grad = quadratic(problems, hessian, optimum)
    for candidates in ([50.0, 10.0], [10.0], [10.0, 50.0, 10.0]):
        finals = final_losses(loss, grad, w0, candidates, 200)
        if any(np.isfinite(finals)) or reference_pick(loss, grad, w0, candidates, 200) is not None:
            raise SuiteBug(f"grader error: the candidates {candidates} should all diverge, their losses are {finals}")
        got = submission.pick_learning_rate(loss, grad, w0, candidates, 200)
        assert got is None, (f"pick_learning_rate with candidates {candidates} returned {checks.brief(got)}, but every "
                             f"run diverged (final losses {finals}); it should return None.")
    # None only then: a function that always returns None earns nothing here.
    candidates = [10.0, 0.5, 50.0, 0.1]
    check_pick(submission.pick_learning_rate(loss, grad, w0, candidates, 200),
               clear_winner(loss, grad, w0, candidates, 200), candidates,
               f"pick_learning_rate with candidates {candidates}, two of which converge")


@pytest.mark.graded("pick_learning_rate", points=0.5, states=[
    "Overflow is an expected outcome here, not an error: wrap the runs in `with np.errstate(all=\"ignore\"):` so "
    "numpy does not warn about it."])
def test_pick_gives_no_warning_when_runs_overflow(submission, problems):
    """gives no numpy warning when runs overflow (runs wrapped in np.errstate(all="ignore"))"""
    hessian, optimum, w0 = random_quadratic(np.random.default_rng(34), 4, 10.0)  # L = 1
    loss, grad = quadratic(problems, hessian, optimum)
    candidates = [50.0, 10.0, 0.5, 0.1]
    got = submission.pick_learning_rate(loss, grad, w0, candidates, 200)
    warned = submission.last_call.warnings
    assert not warned, (f"pick_learning_rate with candidates {candidates} (two of them overflow) gave the warning "
                        f"{warned[0]!r}; wrap the runs in `with np.errstate(all=\"ignore\"):`.")
    check_pick(got, clear_winner(loss, grad, w0, candidates, 200), candidates,
               f"pick_learning_rate with candidates {candidates}")


@pytest.mark.graded("pick_learning_rate", points=0.5, states=["returns the first of equally good candidates"])
def test_pick_first_wins_ties(submission, problems):
    """returns the first of several candidates whose runs end at exactly the same loss"""
    # On 0.5 ||w||^2 every step multiplies w by (1 - lr): lr = 0.5 and lr = 1.5 give 0.5^t w0 and
    # (-0.5)^t w0, and with w0 = [1, -3] every number involved is exact, so the final losses tie
    # exactly (and beat 0.2 and 1.9, which shrink w by only 0.8 and 0.9 per step).
    hessian, optimum, w0 = np.eye(2), np.zeros(2), np.array([1.0, -3.0])
    loss, grad = quadratic(problems, hessian, optimum)
    for candidates, expected in (([0.2, 1.5, 0.5, 1.9], 1.5), ([0.5, 0.2, 1.9, 1.5], 0.5),
                                 ([1.9, 0.5, 0.5, 0.2], 0.5)):
        finals = final_losses(loss, grad, w0, candidates, 15)
        if reference_pick(loss, grad, w0, candidates, 15) != expected or \
                finals[candidates.index(0.5)] != min(finals):
            raise SuiteBug("grader error: the tie between lr = 0.5 and lr = 1.5 is not exact")
        got = submission.pick_learning_rate(loss, grad, w0, candidates, 15)
        check_pick(got, expected, candidates, f"pick_learning_rate with candidates {candidates} and n_iters=15 "
                   "on 0.5 ||w||^2, where lr = 0.5 and lr = 1.5 end at exactly the same loss", finals)


@pytest.mark.graded("pick_learning_rate", points=0.5, states=[
    "runs exactly `n_iters` plain gradient steps",
    "(the same budget for each, no early stop"])
def test_pick_honours_n_iters(submission, problems):
    """compares the losses after exactly n_iters steps"""
    # Eigenvalues 1 and 0.01. lr = 1 removes the fast mode at once but shrinks the slow one by only
    # 0.99 per step; lr = 1.98 shrinks both by about 0.98 per step, starting from a larger loss. The
    # two final losses cross between 40 and 41 steps, so one step more or less changes the winner
    # (each side by about 1%).
    rotation, _ = np.linalg.qr(np.random.default_rng(35).standard_normal((2, 2)))
    hessian = rotation @ np.diag([1.0, 0.01]) @ rotation.T
    hessian = (hessian + hessian.T) / 2
    optimum = np.array([0.5, -1.0])
    # Energies 0.5 * a^2 * lambda of the two modes: lr = 1.98 has the fast mode at 0.98^(2n) and the
    # slow one at 0.9802^(2n), lr = 1 the slow one at 0.99^(2n); the fast amplitude is chosen so that
    # the two final losses tie at n = 40.5.
    slow_amplitude, cross = 2.0, 40.5
    slow = 0.01 * slow_amplitude**2
    fast = slow * (0.99 ** (2 * cross) - 0.9802 ** (2 * cross)) / 0.98 ** (2 * cross)
    w0 = optimum + rotation @ np.array([math.sqrt(fast), slow_amplitude])
    loss, grad = quadratic(problems, hessian, optimum)
    candidates = [0.3, 1.0, 1.98]
    winners = {}
    for n_iters in (40, 41):
        winners[n_iters] = clear_winner(loss, grad, w0, candidates, n_iters, gap=3e-3)
    if winners[40] == winners[41]:
        raise SuiteBug("grader error: the winner should change between 40 and 41 steps")
    for n_iters in (41, 40):
        got = submission.pick_learning_rate(loss, grad, w0, candidates, n_iters)
        check_pick(got, winners[n_iters], candidates, f"pick_learning_rate with candidates {candidates} and "
                   f"n_iters={n_iters} (on this problem the winner changes between 40 and 41 steps)",
                   final_losses(loss, grad, w0, candidates, n_iters))


def longest_match(seen: list[np.ndarray], path: list[np.ndarray]) -> int:
    """How many leading points of ``path`` appear consecutively somewhere in ``seen`` (at most all)."""
    best = 0
    for start in range(len(seen)):
        matched = 0
        while (matched < len(path) and start + matched < len(seen)
               and np.allclose(seen[start + matched], path[matched], rtol=1e-10, atol=1e-12)):
            matched += 1
        best = max(best, matched)
    return best


@pytest.mark.graded("pick_learning_rate", points=0.5, visibility="after_due_date", states=[
    "plain gradient steps `w = w - lr * grad_fn(w)` from `w0` for each learning rate `lr` in `candidates`",
    "`w0` itself unchanged);"])
def test_pick_runs_from_w0(submission, problems):
    """runs every candidate from w0 for n_iters steps of w - lr * grad_fn(w)"""
    hessian, optimum, w0 = random_quadratic(np.random.default_rng(36), 3, 5.0)
    problem_loss, problem_grad = quadratic(problems, hessian, optimum)
    loss, grad = checks.Recorder(problem_loss), checks.Recorder(problem_grad)
    candidates, n_iters = [0.1, 0.6, 0.3], 12
    submission.pick_learning_rate(loss, grad, w0, candidates, n_iters)
    seen = checks.distinct_points(grad.points)
    for lr in candidates:
        path = [w0]
        for _ in range(n_iters - 1):
            path.append(path[-1] - lr * problem_grad(path[-1]))
        # Other calls (a gradient at the final point, say) are allowed; this run's n_iters
        # gradient evaluations must appear one after the other.
        longest = longest_match(seen, path)
        starts = sum(np.array_equal(point, w0) for point in seen)
        if starts < len(candidates):
            hint = (f"grad_fn was called at w0 only {starts} time(s) for {len(candidates)} candidates: every run "
                    "must start from the original w0, so do not change w0 in place.")
        else:
            hint = (f"The longest stretch of this run found was {longest} evaluation(s): w0 and the next "
                    f"{max(longest - 1, 0)} iterate(s).")
        assert longest == n_iters, (
            f"pick_learning_rate(loss_fn, grad_fn, w0, {candidates}, {n_iters}): the run with lr = {lr} was not "
            f"found among the points where grad_fn was called; it should evaluate grad_fn at w0 = "
            f"{np.array2string(w0, precision=6)} and then at each iterate w - lr * grad_fn(w), {n_iters} "
            f"evaluations in all. {hint}")
        end = checks.quadratic_iterate(hessian, optimum, w0, lr, n_iters)
        assert any(np.allclose(point, end, rtol=1e-10, atol=1e-12) for point in loss.points), (
            f"pick_learning_rate(loss_fn, grad_fn, w0, {candidates}, {n_iters}) never evaluated loss_fn at the "
            f"point reached after {n_iters} steps with lr = {lr} (expected {np.array2string(end, precision=6)}); "
            "each run should end with the loss after exactly n_iters steps.")
