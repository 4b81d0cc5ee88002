"""Feedback for students: plot data from hidden tests, the HTML and Markdown pages, `autograder check`."""

from __future__ import annotations

import base64
import html
import json
import math
import re
from pathlib import Path
from xml.etree import ElementTree

import nbformat
import numpy as np
import pytest
from click.testing import CliRunner

from autograder import checks
from autograder.grader import artifacts
from autograder.grader.assignment import Assignment, load_assignment
from autograder.grader.escaping import markdown_text
from autograder.grader.feedback import feedback_path, write_feedback
from autograder.grader.feedback.page import escape as page_escape
from autograder.grader.feedback.view import build_view
from autograder.grader.fixtures import Feedback
from autograder.grader.grading import grade_notebook
from autograder.grader.results import SubmissionResult
from autograder.grader.results import TestResult as Check  # pytest would collect a Test* name
from autograder.grader.session import CellReport
from click_cli import main
from tests.conftest import COURSE, TEST_COURSE, TOY_CORRECT
from tests.test_results_schema import assert_gradescope_results

ASSIGNMENTS = Path(__file__).parent.parent / "assignments"
PNG = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"


def assert_curve_picture(data: bytes) -> None:
    """The picture of a failed check: SVG that parses as XML and draws a curve or bars (beyond the background
    and the plot's frame)."""
    root = ElementTree.fromstring(data)
    assert root.tag == f"{SVG}svg" and (root.findall(f".//{SVG}path") or len(root.findall(f".//{SVG}rect")) > 2)
# A few real submissions: each exercises one kind of plot, and one has a cell that raises.
SAMPLES = {
    "extra-iteration": ("gradient-descent", "buggy/extra-iteration"),
    "scratch-error-cell": ("gradient-descent", "correct/scratch-error-cell"),
    "grad-sign-flipped": ("logistic-loss", "buggy/grad-sign-flipped"),
    "always-good": ("learning-rate", "buggy/always-good"),
    "val-loss-at-start": ("random-restarts", "buggy/val-loss-at-start"),
}


def grade_samples(names=tuple(SAMPLES)) -> dict[str, tuple[Assignment, SubmissionResult]]:
    graded = {}
    for name in names:
        slug, notebook = SAMPLES[name]
        assignment = load_assignment(slug, COURSE)
        graded[name] = assignment, grade_notebook(assignment.folder / "solutions" / f"{notebook}.ipynb", name,
                                                  assignment)
    return graded


@pytest.fixture(scope="module")
def graded() -> dict[str, tuple[Assignment, SubmissionResult]]:
    return grade_samples()


@pytest.fixture(scope="module")
def out(graded, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("feedback")
    for assignment, result in graded.values():
        write_feedback(folder, result, assignment)
    return folder


def find(result: SubmissionResult, start: str) -> Check:
    return next(test for test in result.tests if test.name.startswith(start))


# ----------------------------------------------------------------------------- plot data on results
def test_a_failing_test_keeps_the_loss_traces_it_recorded(graded):
    _, result = graded["extra-iteration"]
    test = find(result, "gradient_descent: reaches the closed-form iterate")
    assert not test.passed and len(test.artifacts) == 1
    trace = test.artifacts[0]
    assert trace["kind"] == "lines" and trace["log_y"]
    student, reference = trace["series"]
    assert student["label"] == "your gradient_descent" and reference["label"] == "reference solution"
    # One step too many: the student's trace is one entry longer than the reference's 301.
    assert len(reference["y"]) == 301 and len(student["y"]) == 302
    json.dumps(test.artifacts, allow_nan=False)  # plain JSON: no NaN or inf numbers


def test_gradient_check_errors_per_block_are_plotted_with_the_tolerance(graded):
    _, result = graded["grad-sign-flipped"]
    tests = [t for t in result.tests if t.name.startswith("logistic_loss_grad: is the derivative")]
    assert len(tests) == 3 and not any(t.passed for t in tests)
    for test in tests:
        (chart,) = test.artifacts
        assert chart["categories"] == ["feature weights", "intercept weight"]
        assert chart["threshold"]["value"] == 1e-6
        errors = chart["series"][0]["values"]
        assert all(error > 0.5 for error in errors), errors  # a flipped sign is wrong everywhere


def test_misread_traces_are_plotted_as_the_function_saw_them(graded):
    _, result = graded["always-good"]
    test = find(result, "diagnose_trace: labels runs with a tiny learning rate")
    (panels,) = test.artifacts
    misread = int(re.search(r"misread (\d+) of", test.output).group(1))  # every run the check showed it
    assert panels["kind"] == "panels" and panels["total"] == misread > artifacts.MAX_PANELS
    assert len(panels["panels"]) == artifacts.MAX_PANELS
    assert all(p["title"] == "expected 'too_small', got 'good'" for p in panels["panels"])
    passed = [test for test in result.tests if test.passed]
    assert passed and all(test.artifacts == [] for test in passed)  # nothing was misread, so nothing to show


def test_validation_losses_are_plotted_next_to_the_reference(graded):
    _, result = graded["val-loss-at-start"]
    test = find(result, "random_restarts: val_losses holds")
    (chart,) = test.artifacts
    yours, reference = chart["series"]
    assert chart["categories"][0] == "start -1.6" and len(yours["values"]) == len(reference["values"]) == 6
    assert yours["values"] != reference["values"]


def test_artifacts_survive_results_json_and_the_gradebook_round_trip(graded):
    _, result = graded["extra-iteration"]
    data = json.loads(json.dumps(result.to_gradescope(), allow_nan=False))
    assert_gradescope_results(data)
    with_plots = [t for t in data["tests"] if "extra_data" in t]
    assert with_plots and all(t["extra_data"]["artifacts"] for t in with_plots)
    back = SubmissionResult.from_gradescope(data)
    assert [t.artifacts for t in back.tests] == [t.artifacts for t in result.tests]


def test_check_gradient_reports_every_block_without_changing_its_random_draws():
    point = np.array([0.3, -1.2, 2.0, 0.7])

    def loss(w):
        return float(np.sum(w**2))

    def wrong(w):  # right for the last two entries, wrong for the first two
        return np.concatenate([-2 * w[:2], 2 * w[2:]])

    blocks = {"first": slice(0, 2), "second": slice(2, 4)}
    draws = {}
    for label, errors in (("without", None), ("with", {})):
        rng = np.random.default_rng(5)
        with pytest.raises(AssertionError, match="block 'first'"):
            checks.check_gradient(loss, wrong, point, rng=rng, what="grad", blocks=blocks, errors=errors)
        draws[label] = rng.standard_normal()
        if errors is not None:
            assert errors["first"] == pytest.approx(1.0) and errors["second"] < 1e-6
    assert draws["with"] == draws["without"]
    errors = {}
    checks.check_gradient(loss, lambda w: 2 * w, point, rng=np.random.default_rng(5), what="grad", blocks=blocks,
                          errors=errors)
    assert set(errors) == {"first", "second"} and max(errors.values()) < 1e-6


# -------------------------------------------------------------------------------- the recorder
def test_recording_never_fails_on_values_that_are_not_numbers():
    feedback = Feedback()
    feedback.loss_trace(student=None, reference=[3.0, 2.0])
    feedback.values("per restart", student=["a", 1.0, float("nan"), float("inf"), np.float64(2.5)], reference=None)
    feedback.traces([("odd", object()), ("ok", np.array([1.0, -np.inf]))])
    lines, bars, panels = feedback.artifacts
    assert lines["series"][0]["y"] == [] and lines["series"][1]["y"] == [3.0, 2.0]
    assert bars["series"][0]["values"] == [None, 1.0, "nan", "inf", 2.5]
    assert panels["panels"][0]["y"] == [] and panels["panels"][1]["y"] == [1.0, "-inf"]
    json.dumps(feedback.artifacts, allow_nan=False)


def test_long_traces_are_thinned_keeping_both_ends():
    feedback = Feedback()
    feedback.loss_trace(student=np.arange(10_001.0))
    (curve,) = feedback.artifacts[0]["series"]
    assert len(curve["x"]) <= artifacts.MAX_POINTS and curve["x"][0] == 0 and curve["x"][-1] == 10_000
    assert curve["y"][-1] == 10_000.0


def test_a_title_recorded_again_replaces_the_earlier_plot_and_snapshots_restore():
    feedback = Feedback()
    feedback.loss_trace(student=[1.0], label="trace")
    saved = feedback.snapshot()
    feedback.loss_trace(student=[2.0], label="trace")
    assert [a["series"][0]["y"] for a in feedback.artifacts] == [[2.0]]
    feedback.restore(saved)
    assert [a["series"][0]["y"] for a in feedback.artifacts] == [[1.0]]


def test_each_test_keeps_at_most_its_budget_of_plot_data():
    feedback = Feedback()
    for k in range(artifacts.MAX_ARTIFACTS_PER_TEST + 3):
        feedback.traces([(f"panel {i}", np.linspace(1, 2, 1000) * k) for i in range(6)], title=f"plot {k}")
    kept = feedback.artifacts
    assert 0 < len(kept) <= artifacts.MAX_ARTIFACTS_PER_TEST
    assert len(json.dumps(kept)) <= artifacts.MAX_JSON_PER_TEST


# ---------------------------------------------------------------------------------------- pages
def grouped_away(result: SubmissionResult) -> set[str]:
    """Failed tests a likely mistake explains after its first shown one: pages name them under that one."""
    hidden = {test.name for test in result.tests if test.visibility == "hidden"}
    away: set[str] = set()
    for mistake in result.mistakes:
        shown = [name for name in mistake.tests if name not in hidden and name not in away]
        away |= set(shown[1:])
    return away


def test_every_submission_gets_an_html_and_a_markdown_page(graded, out):
    for name in graded:
        assert feedback_path(out, name, ".html").is_file() and feedback_path(out, name, ".md").is_file()


def test_the_html_page_is_self_contained_with_one_inline_picture_per_plot_of_a_failed_check(graded, out):
    for name, (_, result) in graded.items():
        page = feedback_path(out, name, ".html").read_text()
        assert "<script" not in page and "<link" not in page
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
        sources = re.findall(r'<img src="([^"]+)"', page)
        away = grouped_away(result)
        plots = sum(len(test.artifacts) for test in result.tests if not test.passed and test.name not in away)
        assert len(sources) == plots
        for source in sources:
            assert source.startswith("data:image/svg+xml;base64,")
            assert_curve_picture(base64.b64decode(source.split(",", 1)[1]))


def test_the_page_shows_scores_checks_messages_and_cell_errors(graded, out):
    _, result = graded["extra-iteration"]
    page = feedback_path(out, "extra-iteration", ".html").read_text()
    assert f"Score: {result.score:g} / {result.max_score:g}" in page
    for function, (score, top) in result.function_scores().items():
        assert f"{function} <span class=\"muted small\">{score:g} / {top:g}</span>" in page
    failed = next(test for test in result.tests if not test.passed)
    first_line = failed.output.splitlines()[0]
    assert first_line.replace("'", "&#x27;").replace('"', "&quot;") in page
    away = grouped_away(result)
    assert page.count("&#10007; failed") == sum(not t.passed and t.name not in away for t in result.tests)
    assert all(f"<li>{page_escape(name)}</li>" in page for name in away)
    assert page.count("&#10003; passed") == sum(t.passed for t in result.tests)

    _, scratch = graded["scratch-error-cell"]
    cell = next(c for c in scratch.cells if c.error)
    html = feedback_path(out, "scratch-error-cell", ".html").read_text()
    assert f"<h3>{page_escape(cell.heading)}</h3>" in html and cell.title and "NameError" in html


def test_no_hidden_test_source_reaches_the_pages(graded, out):
    for name, (assignment, _) in graded.items():
        source = assignment.hidden_suite.read_text()
        code = [line.strip() for line in source.splitlines()
                if line.strip().startswith(("def ", "@pytest", "checks.", "return ", "import ", "from "))]
        for suffix in (".html", ".md"):
            page = feedback_path(out, name, suffix).read_text()
            leaked = [line for line in code if len(line) > 20 and line in page]
            assert not leaked, f"{name}{suffix} shows hidden-test code: {leaked[:3]}"


def test_markdown_links_plots_written_next_to_it(graded, out):
    _, result = graded["always-good"]
    page = feedback_path(out, "always-good", ".md")
    text = page.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    away = grouped_away(result)
    assert len(links) == sum(len(t.artifacts) for t in result.tests if not t.passed and t.name not in away) > 0
    for link in links:
        assert link.endswith(".svg")
        assert_curve_picture((page.parent / link).read_bytes())
    for test in result.tests:  # titles written as Markdown text: they render as themselves
        assert markdown_text(test.name.split(": ", 1)[1]) in text


def test_rewriting_feedback_removes_plots_of_an_earlier_grading(graded, tmp_path):
    assignment, result = graded["always-good"]
    write_feedback(tmp_path, result, assignment)
    pictures = feedback_path(tmp_path, "always-good", ".files")
    assert list(pictures.glob("*.svg"))
    plain = SubmissionResult(result.submission, result.assignment,
                             [Check(t.name, t.function, t.score, t.max_score, t.passed, t.output, t.visibility)
                              for t in result.tests], result.cells)
    write_feedback(tmp_path, plain, assignment)
    assert not pictures.exists()


def test_ids_with_folders_stay_inside_the_feedback_folder(tmp_path):
    assert feedback_path(tmp_path, "section-a/alice", ".html") == tmp_path / "feedback" / "section-a" / "alice.html"
    assert feedback_path(tmp_path, "../../etc/passwd", ".md") == tmp_path / "feedback" / "etc" / "passwd.md"


# ------------------------------------------------------------------------------------- visibility
def visibility_result() -> SubmissionResult:
    tests = [Check(f"double: check seen {v}", "double", 0.0, 1.0, False, f"message of the {v} test", v,
                        [artifacts.lines(f"plot of the {v} test", [("yours", [1.0, 2.0])])])
             for v in ("visible", "after_due_date", "after_published", "hidden")]
    return SubmissionResult("someone", "toy", tests)


def test_hidden_tests_show_only_their_score():
    view = build_view(visibility_result(), "Toy")
    titles = [check.title for check in view.checks]
    assert titles == ["check seen visible", "check seen after_due_date", "check seen after_published", "hidden test"]
    hidden = view.checks[-1]
    assert hidden.hidden and hidden.message == "" and hidden.artifacts == [] and hidden.max_score == 1.0
    assert view.functions[0].max_score == 4.0  # hidden points still count in the function's score


def test_the_visibilities_shown_can_be_chosen(tmp_path):
    result = visibility_result()
    toy = load_assignment("toy", TEST_COURSE)
    write_feedback(tmp_path, result, toy, visibilities={"visible"})
    for suffix in (".html", ".md"):
        page = feedback_path(tmp_path, "someone", suffix).read_text()
        assert "message of the visible test" in page
        for other in ("after_due_date", "after_published", "hidden"):
            assert f"message of the {other} test" not in page and f"plot of the {other} test" not in page
        assert page.count("hidden test") == 3
    with pytest.raises(ValueError, match="Unknown visibility students; choose from hidden"):
        write_feedback(tmp_path, result, toy, visibilities={"students"})


def test_printed_output_is_capped_and_says_so(tmp_path):
    toy = load_assignment("toy", TEST_COURSE)
    cells = [CellReport(2, None, "x" * 50_000, []), CellReport(3, None, "y" * 50_000, [])]
    result = SubmissionResult("chatty", "toy", visibility_result().tests[:1], cells)
    write_feedback(tmp_path, result, toy)
    page = feedback_path(tmp_path, "chatty", ".md").read_text()
    assert "x" * 2_000 in page and "x" * 2_001 not in page and "(the last 48,000 characters are not shown)" in page
    assert len(page) < 20_000


def test_a_plot_that_cannot_be_drawn_leaves_its_numbers(tmp_path):
    toy = load_assignment("toy", TEST_COURSE)
    broken = {"kind": "lines", "title": "damaged", "series": [{"label": "yours", "x": "not a list", "y": 3}]}
    result = SubmissionResult("damaged", "toy", [Check("double: d", "double", 1.0, 1.0, True, "", "visible",
                                                            [broken])])
    write_feedback(tmp_path, result, toy)
    page = feedback_path(tmp_path, "damaged", ".html").read_text()
    assert "<img" not in page and "damaged" in page


# ---------------------------------------------------------------------------------- the terminal
CHATTY_TOY = [*TOY_CORRECT, "print('hello from the notebook')", "undefined_name + 1"]
BUGGY_TOY = ["import numpy as np", "def double(x):\n    return 3 * np.asarray(x, dtype=float)",
             "def apply_twice(f, x):\n    return f(f(x))"]


def run_check(notebook: Path, *, color: bool, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["check", "--assignment", "toy", "--course", str(TEST_COURSE),
                                     str(notebook)], color=color, env=env, catch_exceptions=False)


def test_check_shows_scores_cell_errors_and_printed_output(write_notebook):
    result = run_check(write_notebook(CHATTY_TOY, "chatty.ipynb"), color=False)
    assert result.exit_code == 0, result.output
    assert "PASS  double: double(2.0) is 4.0" in result.output
    assert "Score: 1 / 1" in result.output and "  double: 1 / 1" in result.output
    assert "Cell 6 (undefined_name + 1) raised an error" in result.output and "NameError" in result.output
    assert "Cell 5 (print('hello from the notebook')) printed:" in result.output
    assert "hello from the notebook" in result.output
    assert "1 of 1 public checks passed." in result.output


def test_check_uses_colour_on_a_terminal_unless_no_color_is_set(write_notebook):
    notebook = write_notebook(BUGGY_TOY, "bad.ipynb")
    coloured = run_check(notebook, color=True)
    assert coloured.exit_code == 1 and "\x1b[" in coloured.output and "expected 4, got 6" in coloured.output
    plain = run_check(notebook, color=False)
    assert plain.exit_code == 1 and "\x1b[" not in plain.output and "FAIL  double: double(2.0) is 4.0" in plain.output
    no_color = run_check(notebook, color=True, env={"NO_COLOR": "1"})
    assert no_color.exit_code == 1 and "\x1b[" not in no_color.output


def test_number_formatting_round_trips_special_values():
    assert [artifacts.number(v) for v in (1 / 3, math.inf, -math.inf, math.nan, "2", None)] == [
        0.3333333, "inf", "-inf", "nan", None, None]
    assert math.isnan(artifacts.as_float(None)) and artifacts.as_float("inf") == math.inf


# ------------------------------------------------------------------------------ the notebook copy
def test_the_notebook_copy_has_feedback_under_each_graded_definition(graded, tmp_path):
    assignment, result = graded["extra-iteration"]
    source = ASSIGNMENTS / "gradient-descent" / "solutions" / "buggy" / "extra-iteration.ipynb"
    write_feedback(tmp_path, result, assignment, notebook=source)
    original = nbformat.read(source, as_version=4)
    copy = nbformat.read(feedback_path(tmp_path, "extra-iteration", ".ipynb"), as_version=4)
    added = [cell for cell in copy.cells if cell.metadata.get("autograder", {}).get("feedback")]
    assert len(copy.cells) == len(original.cells) + 1 + len(assignment.functions) == len(original.cells) + len(added)
    assert f"Score: {result.score:g} / {result.max_score:g}" in added[0].source
    kept = [cell for cell in copy.cells if cell not in added]
    assert [c.source for c in kept] == [c.source for c in original.cells]  # the student's cells, untouched
    for function in assignment.functions:
        note = next(cell for cell in added if f"Feedback on `{function}`" in cell.source)
        above = copy.cells[copy.cells.index(note) - 1]
        assert above.cell_type == "code" and f"def {function}(" in above.source
    descent = next(cell for cell in added if "Feedback on `gradient_descent`" in cell.source)
    links = re.findall(r"\(attachment:([^)]+)\)", descent.source)
    assert links and set(links) == set(descent.attachments)
    assert_curve_picture(base64.b64decode(descent.attachments[links[0]]["image/svg+xml"]))


def test_no_notebook_copy_for_a_file_that_is_not_a_notebook(tmp_path):
    junk = tmp_path / "junk.ipynb"
    junk.write_text("this is not a notebook")
    toy = load_assignment("toy", TEST_COURSE)
    result = grade_notebook(junk, "junk", toy)
    write_feedback(tmp_path / "out", result, toy, notebook=junk)
    assert feedback_path(tmp_path / "out", "junk", ".html").is_file()
    assert not feedback_path(tmp_path / "out", "junk", ".ipynb").exists()


def test_passed_checks_keep_their_plot_data_but_show_no_plot(graded, out):
    passed_with_plots = [(name, result, test) for name, (_, result) in graded.items() for test in result.tests
                         if test.passed and test.artifacts]
    assert passed_with_plots, "the sample submissions should pass some checks that record plot data"
    for name, result, test in passed_with_plots:
        page = feedback_path(out, name, ".html").read_text()
        for artifact in test.artifacts:
            assert html.escape(str(artifact["title"])) not in page
        stored = next(t for t in result.to_gradescope()["tests"] if t["name"] == test.name)
        assert stored["extra_data"]["artifacts"] == test.artifacts  # kept in results.json all the same
