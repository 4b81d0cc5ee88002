"""Reference work reused across submissions: reused only when a fresh computation could not differ."""

import numpy as np
import pytest

from autograder.grader import once_per_process
from autograder.grader.fixtures import ProblemSet
from autograder.grader.once_per_process import remembered

PROBLEMS = ("def scaled(w, factor):\n    return factor * w\n\n"
            "def counting(w, counter):\n    counter[0] += 1\n    return w\n")


@pytest.fixture(autouse=True)
def empty_store():
    once_per_process.forget()
    yield
    once_per_process.forget()


def make_counted():
    calls = []

    @remembered
    def expensive(values, factor=2.0):
        calls.append(1)
        return {"scaled": np.asarray(values) * factor}

    return expensive, calls


def make_counted_caller():
    """A remembered function that calls the function it is given, and the list of its real runs."""
    calls = []

    @remembered
    def call(function, w):
        calls.append(1)
        return function(w)

    return call, calls


def test_same_data_is_computed_once_and_each_caller_gets_its_own_copy():
    expensive, calls = make_counted()
    first = expensive(np.arange(3.0))
    first["scaled"][0] = 99.0  # a test changing what it got must not change what the next one gets
    second = expensive(np.arange(3.0))
    assert len(calls) == 1
    np.testing.assert_array_equal(second["scaled"], [0.0, 2.0, 4.0])


def test_different_data_dtype_or_type_is_computed_again():
    expensive, calls = make_counted()
    expensive(np.arange(3.0))
    expensive(np.arange(3.0) + np.array([0.0, 0.0, 1e-12]))
    expensive(np.arange(3, dtype=np.float32))
    expensive(np.arange(3.0), factor=2)  # int 2, not float 2.0
    expensive([0.0, 1.0, 2.0])
    assert len(calls) == 5


def test_callables_other_than_problem_functions_are_never_cached():
    apply, calls = make_counted_caller()

    assert apply(lambda w: w + 1, 1.0) == 2.0
    assert apply(lambda w: w + 2, 1.0) == 3.0
    assert len(calls) == 2


def test_problem_functions_are_keyed_by_name_data_and_source():
    run, calls = make_counted_caller()

    problems = ProblemSet(PROBLEMS)
    assert run(problems.bind("scaled", factor=3.0), 2.0) == 6.0
    assert run(problems.bind("scaled", factor=3.0), 2.0) == 6.0
    assert len(calls) == 1
    assert run(problems.bind("scaled", factor=4.0), 2.0) == 8.0
    edited = ProblemSet(PROBLEMS.replace("factor * w", "factor * w + 1"))
    assert run(edited.bind("scaled", factor=3.0), 2.0) == 7.0
    assert len(calls) == 3


def test_a_call_that_changes_its_arguments_is_not_cached():
    run, calls = make_counted_caller()

    problems = ProblemSet(PROBLEMS)
    for _ in range(2):
        counter = [0]
        run(problems.bind("counting", counter=counter), 1.0)
        assert counter == [1]  # the call ran each time, with its effect on the argument
    assert len(calls) == 2


def test_exceptions_are_not_cached():
    calls = []

    @remembered
    def failing(x):
        calls.append(1)
        raise ValueError(x)

    for _ in range(2):
        with pytest.raises(ValueError):
            failing(1)
    assert len(calls) == 2


def test_the_store_is_bounded():
    expensive, calls = make_counted()
    for value in range(once_per_process.MAX_ENTRIES + 10):
        expensive(np.array([float(value)]))
    assert once_per_process.stored() == once_per_process.MAX_ENTRIES
    expensive(np.array([0.0]))  # the oldest entry was dropped: computed again
    assert len(calls) == once_per_process.MAX_ENTRIES + 11
