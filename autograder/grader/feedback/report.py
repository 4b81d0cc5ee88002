"""The instructor's report of a batch: ``out/report.html``, one self-contained page.

It answers what an instructor asks after grading, most pressing first: how many students made each
known mistake (the assignment's mistakes.toml) and every student's score and likely mistake, then how
the scores are spread (per function), which checks fail most and with what message, which submissions
could not be run, raised in a cell or timed out, and how long student code ran. Untouched templates
(nothing attempted) are counted apart from real failures.
"""

from __future__ import annotations

import math
import os
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grader import artifacts
from autograder.grader.assignment import Assignment
from autograder.grader.feedback import feedback_path
from autograder.grader.feedback.page import document, escape, figure, html_table
from autograder.grader.results import SubmissionResult, mistake_groups

TOP_FAILED_CHECKS = 15
MAX_BARS = 21  # a histogram with more bars than this gets equal bins of a round width instead
SAMPLE_MESSAGE = 400
# The worker session's words for a call or cell that ran out of time (see WorkerSession._describe_failure).
TIMEOUT = re.compile(r"time budget|timed out", re.IGNORECASE)


def write_report(out: Path, assignment: Assignment, results: Iterable[SubmissionResult]) -> Path:
    """Write ``out/report.html`` for ``results`` (one per submission) and return its path.

    The report reads no plot data and no printed output, so a caller holding a whole batch can pass
    ``result.without_plots_and_output()`` of each."""
    path = out / "report.html"
    out.mkdir(parents=True, exist_ok=True)
    ordered = sorted(results, key=lambda r: r.submission)
    body = "\n".join([
        f"<h1>{escape(assignment.title)}: grading report</h1>",
        _overview(ordered),
        _submissions(out, assignment, ordered),
        _mistake_counts(ordered),
        _distributions(assignment, ordered),
        _failed_checks([r for r in ordered if not r.unattempted]),  # a template fails everything: no news
        _trouble(out, ordered),
        _timing(ordered),
    ])
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(document(f"{assignment.title}: grading report", body), encoding="utf-8")
    os.replace(temporary, path)
    return path


# ------------------------------------------------------------------------------------ statistics
def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``share`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def histogram(scores: Sequence[float], maximum: float) -> tuple[list[str], list[int]]:
    """Counts per score: one bar per possible score when points come in steps of 1, 0.5 or 0.25 and
    there are few of them, else at most ten equal bins of a round width (1, 2, 2.5 or 5 times a power of
    ten) from 0 to ``maximum``, labelled by their ends, and a bar of its own for full marks."""
    def on_grid(value: float, step: float) -> bool:
        return abs(value / step - round(value / step)) < 1e-6

    for step in (1.0, 0.5, 0.25):
        if all(on_grid(v, step) for v in [*scores, maximum]) and maximum / step < MAX_BARS:
            grid = [round(k * step, 6) for k in range(round(maximum / step) + 1)]
            counts = Counter(round(s, 6) for s in scores)
            return [f"{g:g}" for g in grid], [counts.get(g, 0) for g in grid]
    width = round_width(maximum / 10 if maximum > 0 else 1.0)
    bins = max(1, math.ceil(maximum / width - 1e-9))
    counts = [0] * (bins + 1)  # the last bar: full marks, which a bin shared with lower scores would hide
    for score in scores:
        full = score >= maximum - 1e-9
        counts[bins if full else min(bins - 1, max(0, int(score / width + 1e-9)))] += 1
    labels = [f"{k * width:g}\u2013{min((k + 1) * width, maximum):g}" for k in range(bins)]
    return [*labels, f"{maximum:g} (full)"], counts


def round_width(least: float) -> float:
    """The smallest of 1, 2, 2.5 and 5 times a power of ten that is at least ``least``."""
    power = 10.0 ** math.floor(math.log10(least))
    return next(round(f * power, 12) for f in (1, 2, 2.5, 5, 10) if f * power >= least - 1e-12)


def timed_out(result: SubmissionResult) -> list[str]:
    """Names of the tests (and the notebook) that ran out of time."""
    found = [test.name for test in result.tests if not test.passed and TIMEOUT.search(test.output)]
    if result.problem and TIMEOUT.search(result.problem):
        found.insert(0, "the notebook")
    found += [f"cell {c.index}" for c in result.cells if c.error and TIMEOUT.search(c.error)]
    return found


@dataclass
class FailedCheck:
    name: str
    count: int = 0
    submissions: list[str] = field(default_factory=list)
    sample: str = ""


def failed_checks(results: Sequence[SubmissionResult]) -> list[FailedCheck]:
    """Checks by how many submissions failed them, most first (ties by name)."""
    found: dict[str, FailedCheck] = {}
    for result in results:
        for test in result.tests:
            if test.passed:
                continue
            entry = found.setdefault(test.name, FailedCheck(test.name))
            entry.count += 1
            entry.submissions.append(result.submission)
            entry.sample = entry.sample or test.output
    return sorted(found.values(), key=lambda f: (-f.count, f.name))


# -------------------------------------------------------------------------------------- sections
def _overview(results: list[SubmissionResult]) -> str:
    if not results:
        return '<p class="muted">No submissions were graded.</p>'
    attempted = [r for r in results if not r.unattempted]
    scores = [r.score for r in attempted] or [0.0]
    maximum = max(r.max_score for r in results)
    full = sum(r.score >= r.max_score for r in results)
    unrunnable = sum(r.problem is not None for r in results)
    rows = [["submissions", str(len(results))],
            ["not attempted (the untouched template)", str(len(results) - len(attempted))],
            ["mean score of the attempted", f"{statistics.fmean(scores):.2f} / {maximum:g}"],
            ["median score of the attempted", f"{statistics.median(scores):g} / {maximum:g}"],
            ["full marks", f"{full} ({100 * full / len(results):.0f}%)"], ["could not be run", str(unrunnable)]]
    counted = mistake_counts(results)
    if counted:
        description, who = counted[0]
        students = f"{len(who)} student{'s' if len(who) != 1 else ''}"
        rows.append(["most common likely mistake", f"{students}: {description}"])
    return '<div class="card">' + html_table(["", ""], rows, numeric=[1]) + "</div>"


def mistake_counts(results: Sequence[SubmissionResult]) -> list[tuple[str, list[str]]]:
    """Each likely mistake's description with the submissions that show it, most common first."""
    found: dict[str, tuple[str, list[str]]] = {}
    for result in results:
        for mistake in result.mistakes:
            found.setdefault(mistake.id, (mistake.description, []))[1].append(result.submission)
    return sorted(found.values(), key=lambda entry: (-len(entry[1]), entry[0]))


def _mistake_counts(results: list[SubmissionResult]) -> str:
    counted = mistake_counts(results)
    if not counted:
        return ""
    rows = []
    for description, who in counted:
        names = ", ".join(who[:5]) + (f" and {len(who) - 5} more" if len(who) > 5 else "")
        rows.append([f"{len(who)} student{'s' if len(who) != 1 else ''}",
                     f"{escape(description)}<br><span class=\"muted small\">{escape(names)}</span>"])
    return ("<h2>Likely mistakes</h2>" '<p class="muted small">Known mistakes (the assignment\'s mistakes.toml) '
            "whose pattern of failed checks a submission shows.</p>"
            + html_table(["", "mistake (and who made it)"], rows, raw=True))


def _distributions(assignment: Assignment, results: list[SubmissionResult]) -> str:
    if not results:
        return ""
    parts = ["<h2>Score distribution</h2>"]
    charts = [("total score", [r.score for r in results], max(r.max_score for r in results))]
    for function in assignment.functions:
        per = [r.function_scores().get(function, (0.0, 0.0)) for r in results]
        charts.append((function, [s for s, _ in per], max((m for _, m in per), default=0.0)))
    for name, scores, maximum in charts:
        labels, counts = histogram(scores, maximum)
        chart = artifacts.bars(f"{name} (out of {maximum:g}): number of submissions per score", labels,
                               [("submissions", counts)], y_label="submissions")
        spread = ", ".join(f"{label}: {count}" for label, count in zip(labels, counts, strict=True) if count)
        parts.append(f'<div class="card">{figure(chart, caption=f"Submissions per score: {spread}.")}</div>')
    return "\n".join(parts)


def _failed_checks(results: list[SubmissionResult]) -> str:
    failed = failed_checks(results)
    if not failed:
        return "<h2>Most frequently failed checks</h2><p>Every submission passed every check.</p>"
    rows = []
    for entry in failed[:TOP_FAILED_CHECKS]:
        sample = entry.sample if len(entry.sample) <= SAMPLE_MESSAGE else entry.sample[: SAMPLE_MESSAGE - 3] + "..."
        who = ", ".join(entry.submissions[:5]) + (f" and {len(entry.submissions) - 5} more"
                                                   if len(entry.submissions) > 5 else "")
        rows.append([escape(entry.name), f"{entry.count} of {len(results)}",
                     f"<pre>{escape(sample)}</pre>" f'<span class="muted small">{escape(who)}</span>'])
    more = (f'<p class="muted small">{len(failed) - TOP_FAILED_CHECKS} more checks failed at least once.</p>'
            if len(failed) > TOP_FAILED_CHECKS else "")
    return ("<h2>Most frequently failed checks</h2>"
            '<p class="muted small">Among the attempted submissions (untouched templates fail every check).</p>'
            + html_table(["check", "failed by", "a sample message (and who failed)"], rows, numeric=[1], raw=True)
            + more)


def _link(out: Path, submission: str) -> str:
    page = feedback_path(out, submission, ".html")
    if not page.exists():
        return escape(submission)
    return f'<a href="{escape(page.relative_to(out).as_posix())}">{escape(submission)}</a>'


def _trouble(out: Path, results: list[SubmissionResult]) -> str:
    rows = []
    for result in results:
        issues = []
        if result.problem:
            issues.append(f"<strong>could not be run:</strong> {escape(result.problem)}")
        for cell in result.cells:
            if cell.error:
                last = cell.error.strip().splitlines()[-1] if cell.error.strip() else "an error"
                issues.append(f"cell {cell.index} raised: <code>{escape(last)}</code>")
        late = timed_out(result)
        if late:
            issues.append("timed out: " + escape("; ".join(late)))
        if issues:
            rows.append([_link(out, result.submission), "<br>".join(issues)])
    if not rows:
        return "<h2>Submissions that errored or timed out</h2><p>None: every notebook ran without errors.</p>"
    return ("<h2>Submissions that errored or timed out</h2>"
            '<p class="muted small">Errors in cells are the students\' own (a cell that raises does not stop '
            "the later cells); a notebook that could not be run scores zero.</p>"
            + html_table(["submission", "what happened"], rows, raw=True))


def _timing(results: list[SubmissionResult]) -> str:
    times = [r.execution_time for r in results]
    if not times:
        return ""
    student = [r.student_seconds for r in results]
    rows = [["median", f"{statistics.median(times):.2f} s", f"{statistics.median(student):.2f} s"],
            ["95th percentile", f"{percentile(times, 0.95):.2f} s", f"{percentile(student, 0.95):.2f} s"],
            ["slowest", f"{max(times):.2f} s", f"{max(student):.2f} s"],
            ["total", f"{sum(times):.1f} s", f"{sum(student):.1f} s"]]
    # Ranked by the student's code alone: a grading process's first notebook also waits for its worker to
    # start, which would put the first notebook of every process at the top.
    slowest = sorted(results, key=lambda r: -r.student_seconds)[:5]
    note = ", ".join(f"{escape(r.submission)} ({r.student_seconds:.2f} s)" for r in slowest)
    return ("<h2>Grading time</h2>" + '<div class="card">'
            + html_table(["per submission", "grading", "student code"], rows, numeric=[1, 2])
            + f'<p class="muted small">Slowest student code (its cells and the calls the tests made): {note}. '
            "Stored results reused from an earlier run keep the times of the run that graded them.</p></div>")


def _submissions(out: Path, assignment: Assignment, results: list[SubmissionResult]) -> str:
    if not results:
        return ""
    rows = []
    for result in results:
        per = result.function_scores()
        if result.unattempted:
            likely = '<span class="muted">not attempted</span>'
        elif result.problem:
            likely = '<span class="muted">could not be run</span>'
        else:
            likely = "<br>".join(("one of: " if len(named) > 1 else "") + escape("; or ".join(named)) + "."
                                 for _, named in mistake_groups(result.mistakes))
        rows.append([_link(out, result.submission), f"{result.score:g} / {result.max_score:g}", likely,
                     *(f"{per.get(f, (0.0, 0.0))[0]:g}" for f in assignment.functions),
                     f"{result.student_seconds:.2f} s"])
    header = ["submission", "score", "likely mistake", *assignment.functions, "student code"]
    numeric = [1, *range(3, len(header))]
    return ("<h2>Submissions</h2>" + html_table(header, rows, numeric=numeric, raw=True))
