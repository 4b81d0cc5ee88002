"""Small things a student notices: a near-miss function name, an unfinished function, a cell they can find."""

from __future__ import annotations

from autograder.grader.assignment import load_assignment
from autograder.grader.grading import grade_notebook
from autograder.grader.session import missing_function_message
from tests.conftest import COURSE, TOY_CORRECT


def failures(result) -> list[str]:
    return [test.output for test in result.tests if not test.passed]


def test_a_misspelled_function_is_named_in_the_message(toy, write_notebook):
    cells = [TOY_CORRECT[0], TOY_CORRECT[1].replace("def double", "def dubble"), TOY_CORRECT[2]]
    result = grade_notebook(write_notebook(cells), "s", toy)
    messages = [m for m in failures(result) if "does not define a function named double" in m]
    assert messages and all("the notebook defines dubble: rename it to double" in m for m in messages)


def test_case_and_underscores_count_as_a_near_miss_and_strangers_do_not():
    assert "defines gradientstep: rename" in missing_function_message("gradient_step", ["gradientstep", "plot"])
    assert "defines Gradient_Step: rename" in missing_function_message("gradient_step", ["Gradient_Step"])
    assert "the notebook defines" not in missing_function_message("gradient_step", ["plot_losses", "main"])


def test_an_unfinished_function_is_told_it_returned_none():
    """The handed-out notebook, untouched: every function is `...`, and every failure says it returned
    None, never that the grader could not check the result (unpacking None, say)."""
    assignment = load_assignment("gradient-descent", COURSE)
    result = grade_notebook(assignment.student_notebook, "blank", assignment)
    assert result.tests and not any(test.passed for test in result.tests)
    for test in result.tests:
        assert "returned None; did the function forget to `return` its result?" in test.output, test.output
        assert "The grader could not check" not in test.output


def test_a_cell_is_named_by_its_first_line(toy, write_notebook):
    cells = [*TOY_CORRECT, "\n# a sum that fails\ntotal = 1 / 0"]
    result = grade_notebook(write_notebook(cells), "s", toy)
    assert "Cell 5 (# a sum that fails) failed" in result.summary(), result.summary()
