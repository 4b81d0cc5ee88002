"""The instructor's report: score distributions, failed checks, trouble, grading time."""

from __future__ import annotations

import base64
import html
import re
import shutil
import statistics
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from autograder.grader.assignment import load_assignment
from autograder.grader.batch import discover, grade_batch
from autograder.grader.feedback import feedback_path, write_feedback
from autograder.grader.feedback.report import failed_checks, histogram, percentile, timed_out, write_report
from autograder.grader.results import SubmissionResult
from autograder.grader.results import TestResult as Check  # pytest would collect a Test* name
from autograder.grader.session import CellReport
from click_cli import main
from tests.conftest import COURSE, TEST_COURSE, TOY_CORRECT
from tests.test_batch import BUGGY_DOUBLE

SOLUTIONS = Path(__file__).parent.parent / "assignments" / "gradient-descent" / "solutions"
BATCH = ["correct/vectorised", "correct/scratch-error-cell", "buggy/extra-iteration", "buggy/sign-error-in-step"]


def grade_gradient_descent_batch(folder: Path) -> tuple[Path, list[SubmissionResult]]:
    """A small batch with full marks, a scratch cell that raises, two bugs and a file that is no notebook;
    feedback pages and the report written as `autograder grade` writes them."""
    submissions = folder / "submissions"
    submissions.mkdir()
    for name in BATCH:
        shutil.copy(SOLUTIONS / f"{name}.ipynb", submissions / f"{Path(name).name}.ipynb")
    (submissions / "junk.ipynb").write_text("this is not a notebook")
    assignment = load_assignment("gradient-descent", COURSE)
    out = folder / "out"
    results = grade_batch(assignment, discover([submissions]), out).results()
    for result in results:
        write_feedback(out, result, assignment)
    write_report(out, assignment, results)
    return out, results


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> tuple[Path, list[SubmissionResult]]:
    return grade_gradient_descent_batch(tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def page(batch) -> str:
    out, _ = batch
    return (out / "report.html").read_text()


def test_the_report_is_self_contained_with_a_histogram_per_function(page):
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"""src=["']?(https?:)?//""", page)
    sources = re.findall(r'<img src="([^"]+)"', page)
    functions = load_assignment("gradient-descent", COURSE).functions
    assert len(sources) == 1 + len(functions)  # the total score, then each function
    for source in sources:
        assert source.startswith("data:image/svg+xml;base64,")
        histogram = ElementTree.fromstring(base64.b64decode(source.split(",", 1)[1]))
        assert len(histogram.findall(".//{http://www.w3.org/2000/svg}rect")) > 2  # bars beyond background and frame
    for function in functions:
        assert f"{function} (out of " in page


def test_histogram_counts_add_up_to_the_submissions(page, batch):
    _, results = batch
    total = re.search(r"total score \(out of [^)]*\): number of submissions per score.*?</figure>", page, re.S)
    spread = re.search(r"Submissions per score: ([^<]*)\.</p>", total.group(0)).group(1)
    counts = {score: int(count) for score, count in (item.split(": ") for item in spread.split(", "))}
    labels, expected = histogram([r.score for r in results], max(r.max_score for r in results))
    assert counts == {label: n for label, n in zip(labels, expected, strict=True) if n}
    assert sum(counts.values()) == len(results)


def test_the_most_failed_checks_come_first_with_counts_and_a_sample_message(page, batch):
    _, results = batch
    failed = failed_checks(results)
    counts = Counter(t.name for r in results for t in r.tests if not t.passed)
    top = failed[0]
    # The unreadable file fails everything, each buggy notebook the checks of the function it breaks.
    assert top.count == max(counts.values()) == 2
    assert top.name == min(name for name, count in counts.items() if count == 2)
    assert [entry.count for entry in failed] == sorted(counts.values(), reverse=True)
    section = page.split("Most frequently failed checks", 1)[1].split("<h2>", 1)[0]
    assert f"{top.count} of {len(results)}" in section
    positions = [section.index(html.escape(entry.name, quote=True)) for entry in failed[:5]]
    assert positions == sorted(positions)
    assert html.escape(top.sample.splitlines()[0], quote=True) in section


def test_submissions_that_errored_are_listed_with_what_happened(page, batch):
    _, results = batch
    section = page.split("Submissions that errored or timed out", 1)[1].split("<h2>", 1)[0]
    junk = next(r for r in results if r.submission == "junk")
    assert "could not be run" in section and html.escape(junk.problem, quote=True) in section
    scratch = next(r for r in results if r.submission == "scratch-error-cell")
    cell = next(c for c in scratch.cells if c.error)
    assert f"cell {cell.index} raised: <code>NameError" in section
    assert ">vectorised<" not in section  # a notebook that ran cleanly is not listed


def test_grading_time_statistics(page, batch):
    _, results = batch
    times = [r.execution_time for r in results]
    section = page.split("<h2>Grading time</h2>", 1)[1].split("<h2>", 1)[0]
    for label, value in (("median", f"{statistics.median(times):.2f} s"),
                         ("95th percentile", f"{percentile(times, 0.95):.2f} s"),
                         ("slowest", f"{max(times):.2f} s"), ("total", f"{sum(times):.1f} s")):
        assert re.search(rf"<td>{label}</td><td class=\"num\">{re.escape(value)}</td>", section), label


def test_links_lead_to_each_submissions_feedback(page, batch):
    out, results = batch
    links = re.findall(r'<a href="([^"]+)">', page)
    assert {html.unescape(link) for link in links} >= {
        feedback_path(out, r.submission, ".html").relative_to(out).as_posix() for r in results}
    for link in links:
        assert (out / html.unescape(link)).is_file()


# ----------------------------------------------------------------------------------- the numbers
def test_percentile_is_nearest_rank():
    values = list(range(1, 21))
    assert percentile(values, 0.95) == 19 and percentile(values, 0.5) == 10 and percentile([7.0], 0.95) == 7.0


def test_histogram_has_a_bar_per_possible_score_or_bins_of_a_round_width():
    labels, counts = histogram([8.0, 13.0, 13.0, 0.0], 13.0)
    assert labels == [str(k) for k in range(14)] and counts[13] == 2 and counts[8] == 1 and sum(counts) == 4
    labels, counts = histogram([8.5, 9.5, 0.0], 9.5)
    assert labels[1] == "0.5" and labels[-1] == "9.5" and len(labels) == 20 and counts[17] == 1
    # 27 half-point bars would be unreadable: bins two points wide, labelled by their ends, and full marks.
    labels, counts = histogram([8.5, 12.5, 13.0, 0.0], 13.0)
    assert labels == ["0\u20132", "2\u20134", "4\u20136", "6\u20138", "8\u201310", "10\u201312", "12\u201313",
                      "13 (full)"]
    assert counts == [1, 0, 0, 0, 1, 0, 1, 1]
    labels, counts = histogram([0.1, 0.37, 99.9], 100.0)
    assert len(labels) == 11 and labels[0] == "0\u201310" and counts[0] == 2 and counts[-2] == 1 and counts[-1] == 0
    labels, counts = histogram([0.0, 7.3, 14.5], 14.5)  # 7.3 is off every grid
    assert labels[0] == "0\u20132" and labels[-2:] == ["14\u201314.5", "14.5 (full)"] and counts[-1] == 1


def test_timeouts_are_found_in_tests_cells_and_the_notebook():
    message = "The call to double did not finish within its time budget of 1.5 s (an infinite loop, or ...)."
    result = SubmissionResult("slow", "toy", [Check("double: doubles", "double", 0, 1, False, message),
                                              Check("double: other", "double", 0, 1, False, "expected 4, got 6")],
                              [CellReport(3, "Cell 3 did not finish within its time budget of 4 s.", "", [])])
    assert timed_out(result) == ["double: doubles", "cell 3"]
    assert timed_out(SubmissionResult("fine", "toy")) == []


def test_a_report_of_no_submissions_says_so(tmp_path):
    path = write_report(tmp_path, load_assignment("toy", TEST_COURSE), [])
    assert "No submissions were graded." in path.read_text()


def test_grade_writes_feedback_and_the_report(tmp_path, write_notebook):
    write_notebook(TOY_CORRECT, "good.ipynb", tmp_path / "subs")
    write_notebook(BUGGY_DOUBLE, "section/bad.ipynb", tmp_path / "subs")
    result = CliRunner().invoke(main, ["grade", "--assignment", "toy", "--course", str(TEST_COURSE),
                                       "--jobs", "1", "--out", str(tmp_path / "out"), str(tmp_path / "subs")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert (out / "report.html").is_file() and "report.html" in result.output
    bad = (out / "feedback" / "section" / "bad.html").read_text()
    assert "&#10007; failed" in bad and "double(1.5): expected 3, got 4.5" in bad
    assert (out / "feedback" / "good.md").is_file() and (out / "feedback" / "section" / "bad.ipynb").is_file()
