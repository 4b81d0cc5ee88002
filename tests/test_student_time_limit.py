"""In Jupyter, a public check of a function that never returns stops at the assignment's per-call budget,
and the kernel's own timers (a whole test's budget set around it) keep working afterwards."""

from __future__ import annotations

import signal
import time

from autograder.grader.inprocess import InProcessSession
from autograder.grader.suite import run_suite


def forever(x):
    while True:
        pass


def test_a_function_that_never_returns_fails_its_check_at_the_call_budget(toy):
    session = InProcessSession({"double": forever}, call_seconds=0.5)
    started = time.monotonic()
    tests = run_suite(toy.public_suite, toy, session, tracebacks=False, only="double")
    assert time.monotonic() - started < 5
    assert tests and not any(test.passed for test in tests)
    assert all("0.5" in test.output and "s" in test.output for test in tests), [t.output for t in tests]
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0), "no timer is left running in the kernel"


def test_a_timer_due_sooner_outside_the_check_still_fires_first(toy):
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(time.monotonic()))
    try:
        signal.setitimer(signal.ITIMER_REAL, 3.0)
        session = InProcessSession({"double": lambda x: 2 * x}, call_seconds=10)
        tests = run_suite(toy.public_suite, toy, session, tracebacks=False, only="double")
        assert tests and all(test.passed for test in tests)
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < remaining <= 3.0, "the outer timer is still running, never reset"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
