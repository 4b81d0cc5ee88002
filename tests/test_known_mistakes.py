"""Known mistakes: feedback names the likely mistake from the failed tests, and groups the checks it explains.

The matching rule is tested in-process on made-up outcomes; the bundled solutions' feedback is checked
on the results of the session's one validation of every assignment (the ``validation`` fixture), so no
notebook is graded again here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click
import pytest

from autograder.grader.assignment import GRADING_FILES, available_slugs, grading_files, load_assignment
from autograder.grader.attempts import is_unattempted, template_cells
from autograder.grader.feedback.terminal import render_terminal
from autograder.grader.feedback.view import build_view
from autograder.grader.mistakes import (
    MAX_TIED,
    KnownMistake,
    likely_mistakes,
    load_mistakes,
    public_key,
    render_mistakes,
    updated_mistakes,
)
from autograder.grader.notebook import read_code_cells
from autograder.grader.results import LikelyMistake, SubmissionResult
from autograder.grader.results import TestResult as Outcome
from autograder.grader.validate import expectations, observed_pattern
from tests.conftest import COURSE

SLUGS = available_slugs(COURSE)


def outcome(name: str, passed: bool, visibility: str = "visible", function: str = "") -> Outcome:
    function = function or name.split(":", 1)[0]
    return Outcome(name, function, 1.0 if passed else 0.0, 1.0, passed, "" if passed else f"{name} differed",
                      visibility)


def failing_among(failing: set[str], every: list[str], **visibility: str) -> list[Outcome]:
    return [outcome(name, name not in failing, visibility.get(name.split(": ")[1], "visible")) for name in every]


STEP = [f"step: s{i}" for i in range(4)]
DESCENT = [f"descent: d{i}" for i in range(6)]
EVERY = STEP + DESCENT
INITIAL_LOSS = KnownMistake("initial-loss", "The loss at `w0` is missing.", ("descent",),
                            {"initial-loss": frozenset(DESCENT[:3])})
SIGN = KnownMistake("sign", "The step adds the gradient.", ("step",), {"sign": frozenset(STEP[:2])})
CATALOGUE = (INITIAL_LOSS, SIGN)


# ------------------------------------------------------------------------------------------- matching
def test_exactly_the_pattern_names_the_mistake_and_a_correct_notebook_names_none():
    assert [m.id for m in likely_mistakes(failing_among(set(DESCENT[:3]), EVERY), CATALOGUE)] == ["initial-loss"]
    assert likely_mistakes(failing_among(set(), EVERY), CATALOGUE) == []


def test_one_more_or_one_fewer_failure_in_the_function_names_nothing():
    assert likely_mistakes(failing_among(set(DESCENT[:4]), EVERY), CATALOGUE) == []
    assert likely_mistakes(failing_among(set(DESCENT[:2]), EVERY), CATALOGUE) == []


def test_a_bug_in_another_function_does_not_hide_the_mistake_and_both_are_named():
    found = likely_mistakes(failing_among(set(DESCENT[:3]) | set(STEP[:2]), EVERY), CATALOGUE)
    assert {m.id for m in found} == {"initial-loss", "sign"}
    assert next(m for m in found if m.id == "sign").tests == tuple(STEP[:2])


def test_a_pattern_that_fails_every_check_of_its_function_is_never_named():
    """A missing or crashing function fails every check too, so such a pattern says nothing."""
    everything = KnownMistake("all", "Everything.", ("step",), {"all": frozenset(STEP)})
    assert likely_mistakes(failing_among(set(STEP), EVERY), (everything,)) == []


def test_ties_are_all_named_up_to_the_limit_and_beyond_it_none():
    twins = [KnownMistake(f"twin-{k}", f"Twin {k}.", ("descent",), {f"t{k}": frozenset(DESCENT[:3])})
             for k in range(MAX_TIED + 1)]
    failing = failing_among(set(DESCENT[:3]), EVERY)
    assert [m.id for m in likely_mistakes(failing, twins[:MAX_TIED])] == [m.id for m in twins[:MAX_TIED]]
    assert likely_mistakes(failing, twins) == []


def test_a_match_another_explains_with_more_checks_gives_way_and_no_check_is_lost():
    """One bug in step that also breaks a descent check: its fuller pattern wins over a step-only one."""
    fuller = KnownMistake("fuller", "Step and descent.", ("step",), {"f": frozenset(STEP[:2] + DESCENT[:1])})
    failing = failing_among(set(STEP[:2] + DESCENT[:1]), EVERY)
    assert [m.id for m in likely_mistakes(failing, (SIGN, fuller))] == ["fuller"]
    both = [LikelyMistake("sign", "Sign.", tuple(STEP[:2])), LikelyMistake("fuller", "Fuller.", (STEP[0], STEP[2]))]
    result = SubmissionResult("eve", "demo", tests=failing_among(set(STEP[:3]), EVERY), mistakes=both)
    printed = click.unstyle(render_terminal(build_view(result, "Demo", ("step", "descent"))))
    assert all(f"- {name}" in printed for name in STEP[1:3]) and "step: s0 differed" in printed


def test_a_mistake_without_description_is_not_named():
    assert likely_mistakes(failing_among(set(DESCENT[:3]), EVERY), (replace(INITIAL_LOSS, description=""),)) == []


def test_before_release_only_visible_outcomes_are_read():
    """d2 is held back: the visible failures d0, d1 fit only the visible part of the pattern."""
    tests = failing_among(set(DESCENT[:3]), EVERY, d2="after_due_date")
    visible = likely_mistakes(tests, CATALOGUE, considered=lambda test: test.visibility == "visible")
    assert [m.tests for m in visible] == [tuple(DESCENT[:2])]
    held_back_differs = failing_among(set(DESCENT[:2]), EVERY, d2="after_due_date")
    assert likely_mistakes(held_back_differs, CATALOGUE) == []
    assert likely_mistakes(held_back_differs, CATALOGUE, considered=lambda test: test.visibility == "visible")


def test_a_check_run_names_public_checks_as_grading_does():
    pattern = KnownMistake("p", "Public.", ("descent",), {"p": frozenset({"Public check, descent: d0", DESCENT[1]})})
    checked = [outcome("descent: d0", False), outcome("descent: d5", True)]
    assert [m.tests for m in likely_mistakes(checked, (pattern,), key=public_key)] == [("descent: d0",)]


# ---------------------------------------------------------------------------------- mistakes.toml
def test_mistakes_file_round_trips_and_rewriting_keeps_descriptions(tmp_path):
    path = tmp_path / "mistakes.toml"
    text = render_mistakes([replace(INITIAL_LOSS, description='Say "w0" \\ `losses`.'), SIGN])
    path.write_text(text)
    loaded = load_mistakes(path)
    assert [m.description for m in loaded] == ['Say "w0" \\ `losses`.', SIGN.description]
    assert loaded[0].patterns == INITIAL_LOSS.patterns and loaded[1].functions == ("step",)
    observed = {"initial-loss": (("descent",), frozenset(DESCENT[:2])), "new-bug": (("step",), frozenset(STEP[:1]))}
    mistakes, notes = updated_mistakes(loaded, observed)
    assert [m.id for m in mistakes] == ["initial-loss", "new-bug"]
    assert mistakes[0].patterns == {"initial-loss": frozenset(DESCENT[:2])} and mistakes[0].description
    assert mistakes[1].description == ""
    assert any("sign" in note and "removed" in note for note in notes)
    assert any("new-bug" in note and "description" in note for note in notes)


def test_the_gradescope_zip_carries_mistakes_toml_and_the_student_folder_does_not():
    from autograder.grader.exports.student import STUDENT_FILES

    assignment = load_assignment("gradient-descent", COURSE)
    assert "mistakes.toml" in GRADING_FILES and "mistakes.toml" not in STUDENT_FILES
    assert "assignments/gradient-descent/mistakes.toml" in {relative for relative, _ in grading_files(assignment)}


# ------------------------------------------------------------------------------------------ feedback
def test_feedback_opens_with_the_mistake_and_shows_its_checks_once():
    tests = failing_among(set(DESCENT[:3]), EVERY)
    mistakes = likely_mistakes(tests, CATALOGUE)
    result = SubmissionResult("alice", "demo", tests=tests, mistakes=mistakes, mistakes_before_release=mistakes)
    assert result.summary().splitlines()[0] == "Likely mistake (3 failed checks show it): The loss at `w0` is missing."
    printed = click.unstyle(render_terminal(build_view(result, "Demo", ("step", "descent"))))
    assert printed.splitlines()[0].startswith("Likely mistake")
    assert printed.count("descent: d0 differed") == 1 and "descent: d1 differed" not in printed
    assert "and 2 more checks fail for the same reason" in printed and "- descent: d2" in printed
    restored = SubmissionResult.from_gradescope(result.to_gradescope())
    assert restored.mistakes == [LikelyMistake("initial-loss", INITIAL_LOSS.description, tuple(DESCENT[:3]))]


def test_tied_mistakes_share_one_sentence():
    tied = [LikelyMistake("a", "First cause.", ("x",)), LikelyMistake("b", "Second cause.", ("x",))]
    result = SubmissionResult("bob", "demo", tests=[outcome("f: x", False)], mistakes=tied)
    assert result.summary().splitlines()[0] == "Likely mistake, one of: First cause; or Second cause."


def test_the_untouched_template_is_unattempted_and_a_changed_function_is_not(tmp_path):
    assignment = load_assignment("gradient-descent", COURSE)
    template = template_cells(assignment.student_notebook)
    cells = read_code_cells(assignment.student_notebook)
    assert is_unattempted(cells, template, assignment.functions)
    answer = "\n    return w - lr * grad"
    edited = [(i, source + answer if "def gradient_step" in source else source) for i, source in cells]
    assert edited != cells and not is_unattempted(edited, template, assignment.functions)
    assert is_unattempted([(1, "import numpy as np")], template, assignment.functions)  # every answer deleted


# ------------------------------------------------------- the bundled solutions, from the session's validation
def _own(assignment) -> dict[str, KnownMistake]:
    return {solution: mistake for mistake in assignment.mistakes for solution in mistake.patterns}


def _buggy(assignment):
    return [e for e in expectations(assignment) if e.kind == "buggy"]


# Bundled buggy solutions whose own mistake feedback cannot name: they fail every check of the functions they
# break (as a missing or crashing function would), or more than MAX_TIED mistakes fail exactly their checks.
UNNAMEABLE = {
    "gradient-descent": {"blind-step-forgets-lr", "blind-step-plus-sign", "forgot-learning-rate", "sign-error-in-step",
                         # four notebooks, three different stopping mistakes, the same failed checks:
                         "blind-gd-drops-last-step", "blind-gd-stops-on-gradient-norm", "gradient-norm-stop",
                         "ignores-tol"},
    "relu-fit": {"blind-fit-missing-initial-loss", "fit-missing-initial-loss", "fit-extra-iteration",
                 "blind-loss-half-factor", "blind-loss-mean", "blind-loss-no-relu", "blind-loss-returns-array",
                 "blind-relu-abs", "blind-relu-leaky"},
    "learning-rate": {"plot-one-step-short"},
    "logistic-loss": {"blind-fit-missing-initial-loss", "blind-grad-column-output", "blind-grad-mean-not-sum",
                      "blind-grad-sign-flipped", "grad-column-vector", "grad-mean-not-sum", "grad-sign-flipped"},
}


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_each_buggy_solution_names_its_own_mistake_and_correct_ones_name_none(slug, validation):
    assignment = load_assignment(slug, COURSE)
    report, _ = validation(slug)
    own = _own(assignment)
    wrong = []
    for expectation in expectations(assignment):
        result = report.results[expectation.label]
        named = [m.id for m in result.mistakes]
        if expectation.kind != "buggy":
            if named:
                wrong.append(f"{expectation.label} ({expectation.kind}) names {named}")
            continue
        solution = expectation.path.stem
        if solution not in own or not own[solution].description:
            wrong.append(f"{expectation.label} has no described mistake in mistakes.toml")
            continue
        if own[solution].patterns[solution] != observed_pattern(result.tests):
            wrong.append(f"{expectation.label}: its pattern is out of date (autograder validate --write-mistakes)")
        expected_named = solution not in UNNAMEABLE.get(slug, set())
        if (own[solution].id in named) != expected_named:
            wrong.append(f"{expectation.label}: names {named}, its own mistake is {own[solution].id}")
        for mistake in result.mistakes:  # never a mistake in a function the notebook has right
            if not set(dict.fromkeys(t.function for t in result.tests if t.name in mistake.tests)) <= set(
                    expectation.breaks) | _public_only(result, mistake):
                wrong.append(f"{expectation.label}: names {mistake.id}, about a function it does not break")
    assert report.results["student notebook"].unattempted and not report.results["student notebook"].mistakes
    assert not wrong, "\n".join(wrong)


def _public_only(result: SubmissionResult, mistake: LikelyMistake) -> set[str]:
    """Functions whose only failures among the mistake's are public checks worth no points (a buggy helper
    can make another function's public check fail without costing its points)."""
    explained = [t for t in result.tests if t.name in mistake.tests]
    return {t.function for t in explained} - {t.function for t in explained if not t.public}


def _named_without(result: SubmissionResult, catalogue, left_out) -> list[LikelyMistake]:
    kept = [replace(m, patterns={s: p for s, p in m.patterns.items() if not left_out(s)}) for m in catalogue]
    return likely_mistakes(result.tests, kept)


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_leave_one_out_names_only_what_the_checks_cannot_tell_apart(slug, validation):
    """Patterns built without solution X: X's feedback may name another mistake only when that mistake's
    solution fails exactly X's checks of the functions involved (no rule reading outcomes could tell them
    apart), and never one about a function X has right."""
    assignment = load_assignment(slug, COURSE)
    report, _ = validation(slug)
    catalogue = assignment.mistakes
    own = _own(assignment)
    wrong, claims = [], 0
    for expectation in _buggy(assignment):
        result = report.results[expectation.label]
        solution = expectation.path.stem
        failing = observed_pattern(result.tests)
        for mistake in _named_without(result, catalogue, lambda s, x=solution: s == x):
            if mistake.id == own[solution].id:
                continue
            claims += 1
            if not set(mistake.tests) <= failing:
                wrong.append(f"{expectation.label}: names {mistake.id} for checks it passes")
            functions = {t.function for t in result.tests if t.name in mistake.tests}
            if not functions <= set(expectation.breaks) | _public_only(result, mistake):
                wrong.append(f"{expectation.label}: names {mistake.id}, about a function it does not break")
    print(f"{slug}: leaving each buggy solution out, {claims} names of another mistake with the same failed checks")
    assert not wrong, "\n".join(wrong)


# Blind solutions (written from the notebook alone) that the patterns of the other solutions must recognise.
BLIND_RECOGNISED = {
    "gradient-descent": {"blind-gd-missing-initial-loss", "blind-gd-modifies-w0-in-place", "blind-gd-one-extra-step",
                         "blind-gd-relative-tolerance", "blind-gd-stale-gradient", "blind-gd-stops-on-gradient-norm",
                         "blind-step-inplace-update"},
    "relu-fit": {"blind-fit-modifies-params0", "blind-grad-divided-by-n", "blind-grad-indicator-from-targets",
                 "blind-grad-missing-factor-2", "blind-grad-no-relu-prime", "blind-grad-sign-error",
                 "blind-relu-int-for-float", "blind-relu-zero-d-array-for-float"},
    "random-restarts": {"blind-nan-counts-as-best", "blind-no-value-error"},
}


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_blind_solutions_are_recognised_from_the_other_solutions_patterns(slug, validation):
    """Patterns built from the non-blind solutions only, applied to the blind ones: the listed ones get their
    own mistake named; no blind solution gets a mistake about a function it has right."""
    assignment = load_assignment(slug, COURSE)
    report, _ = validation(slug)
    own = _own(assignment)
    recognised, wrong = set(), []
    for expectation in _buggy(assignment):
        solution = expectation.path.stem
        if not solution.startswith("blind-"):
            continue
        result = report.results[expectation.label]
        for mistake in _named_without(result, assignment.mistakes, lambda s: s.startswith("blind-")):
            if mistake.id == own[solution].id:
                recognised.add(solution)
            functions = {t.function for t in result.tests if t.name in mistake.tests}
            if not functions <= set(expectation.breaks) | _public_only(result, mistake):
                wrong.append(f"{expectation.label}: names {mistake.id}, about a function it does not break")
    print(f"{slug}: {len(recognised)} blind buggy solutions recognised: {sorted(recognised)}")
    assert recognised >= BLIND_RECOGNISED.get(slug, set())
    assert not wrong, "\n".join(wrong)


def test_every_assignment_has_a_mistakes_file_describing_each_buggy_solution():
    for slug in SLUGS:
        assignment = load_assignment(slug, COURSE)
        own = _own(assignment)
        missing = [e.path.stem for e in _buggy(assignment) if not own.get(e.path.stem, KnownMistake("", "", (), {}))
                   .description]
        assert not missing, f"{slug}: buggy solutions without a described mistake: {missing}"
        assert all(m.description.endswith(".") and "\n" not in m.description for m in assignment.mistakes)


def test_the_written_file_is_what_write_mistakes_would_write():
    """mistakes.toml is in the form `autograder validate --write-mistakes` writes (patterns sorted)."""
    for slug in SLUGS:
        path = Path(COURSE / "assignments" / slug / "mistakes.toml")
        assert render_mistakes(load_mistakes(path)) == path.read_text(encoding="utf-8"), slug


def test_validate_writes_the_patterns_and_the_described_mistake_is_then_named(tmp_path):
    """`autograder validate --write-mistakes` on a copy of the toy: a new buggy solution gets an entry to
    describe, with the checks it fails; once described, feedback on that notebook names it."""
    import shutil

    import nbformat
    from click.testing import CliRunner

    from autograder.grader.grading import grade_notebook
    from click_cli import main
    from tests.conftest import TEST_COURSE

    shutil.copytree(TEST_COURSE / "assignments" / "toy", tmp_path / "assignments" / "toy")
    buggy = tmp_path / "assignments" / "toy" / "solutions" / "buggy" / "float-tripled.ipynb"
    buggy.parent.mkdir(parents=True)
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in (
        "import numpy as np",
        "def double(x):\n    return 2 * np.asarray(x, dtype=float) if np.ndim(x) else 3.0 * x",
        "def apply_twice(f, x):\n    return f(f(x))")]
    notebook.metadata["autograder"] = {"breaks": ["double"], "bug": "triples floats"}
    nbformat.write(notebook, buggy)
    ran = CliRunner().invoke(main, ["validate", "--course", str(tmp_path), "--write-mistakes", "toy"])
    assert ran.exit_code == 0, ran.output
    assert "float-tripled: a new mistake; write its description in the file" in ran.output
    path = tmp_path / "assignments" / "toy" / "mistakes.toml"
    (written,) = load_mistakes(path)
    assert written.id == "float-tripled" and written.description == "" and written.functions == ("double",)
    assert written.patterns["float-tripled"] == {"double: doubles a float", "Public check, double: double(2.0) is 4.0"}
    path.write_text(path.read_text().replace('description = ""', 'description = "`double` triples floats."'))
    result = grade_notebook(buggy, "float-tripled", load_assignment("toy", tmp_path))
    assert [m.id for m in result.mistakes] == ["float-tripled"]
    assert result.summary().startswith("Likely mistake")


def test_the_report_leads_with_the_table_counts_students_per_mistake_and_sets_templates_apart(tmp_path):
    from autograder.grader.feedback.report import write_report

    assignment = load_assignment("gradient-descent", COURSE)
    names = [f"gradient_descent: c{i}" for i in range(4)]
    mistake = LikelyMistake("initial-loss", "The loss at `w0` is missing from `losses`.", tuple(names[:2]))

    def result(submission: str, failing: int, **extra) -> SubmissionResult:
        tests = [outcome(name, i >= failing, function="gradient_descent") for i, name in enumerate(names)]
        return SubmissionResult(submission, "gradient-descent", tests=tests, **extra)

    results = [result("ann", 2, mistakes=[mistake], student_seconds=0.2),
               result("ben", 2, mistakes=[mistake], student_seconds=3.5),
               result("cat", 0, student_seconds=0.1), result("dan", 4, unattempted=True)]
    page = write_report(tmp_path, assignment, results).read_text()
    order = [page.index(heading) for heading in ("<h2>Submissions</h2>", "<h2>Likely mistakes</h2>",
                                                 "<h2>Score distribution</h2>", "<h2>Most frequently failed")]
    assert order == sorted(order)
    assert "2 students: The loss at `w0` is missing from `losses`." in page.replace("&#x60;", "`")
    assert "not attempted (the untouched template)</td><td class=\"num\">1<" in page
    failed = page.split("<h2>Most frequently failed checks</h2>", 1)[1].split("<h2>", 1)[0]
    assert "2 of 3" in failed and "dan" not in failed  # the template's failures are no news
    slowest = page.split("Slowest student code", 1)[1]
    assert slowest.index("ben") < slowest.index("ann")
