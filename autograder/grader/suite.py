"""Running a hidden (or public) pytest suite in the grading process against one worker.

Suites mark every test with ``@pytest.mark.graded("function", points=..., visibility=...)``; the
first line of the test's docstring names the check. A failing test reports the message of the
exception that failed it (our checks write "expected ..., got ..."), never the test's source: pytest
runs with plain asserts, no terminal output and no tracebacks kept.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.config import _prepareconfig  # what pytest.main builds its Config with

from autograder.grader import once_per_process
from autograder.grader.alarms import raise_after
from autograder.grader.assignment import Assignment
from autograder.grader.fixtures import Feedback, ProblemSet, Submission
from autograder.grader.results import VISIBILITIES, TestResult
from autograder.grader.session import StudentCodeError, SubmissionFault, WorkerSession


class SuiteError(Exception):
    """The suite itself is broken (a grader fault, not the student's); the message says where."""


# Built-in pytest plugins a grading run does without. Each costs time on every submission; the
# unraisable/thread-exception plugins alone ran gc.collect() several times per pytest.main (about
# 100 ms in a grading process that has numpy and matplotlib loaded). Suites keep fixtures such as
# monkeypatch, tmp_path, tmpdir, capsys and recwarn, and skip/xfail marks; unittest.TestCase classes
# are not collected. faulthandler would swap the process's fault handler in and out with every
# collected suite kept alive (see run_suite).
_UNUSED_PLUGINS = [argument for name in ("cacheprovider", "terminal", "stepwise", "unraisableexception",
                                         "threadexception", "logging", "pastebin", "junitxml", "doctest",
                                         "setuponly", "setupplan", "debugging", "unittest", "faulthandler")
                   for argument in ("-p", f"no:{name}")]


def run_suite(suite: Path, assignment: Assignment, session: WorkerSession, *, tracebacks: bool = True,
              only: str | None = None) -> list[TestResult]:
    """Run ``suite`` against the notebook ``session`` serves (a worker, or an in-process session).

    ``tracebacks=False`` leaves the student's traceback out of failure messages: the public checks give
    the same message wherever they run (a Jupyter kernel names the notebook's cells otherwise than a
    worker). ``only`` runs the tests of one graded function.

    The suite is collected once per grading process (and thread) and run again for each submission:
    collecting cost more than some suites' own checks. Every fixture is set up afresh for each
    submission (all of them are torn down after its last test), so what carries over is only the suite
    module itself, as it was imported.
    """
    _import_reference_from(assignment.course)
    collected = _collected_suite(suite, assignment)
    try:
        plugin = collected.plugin
        plugin.begin(assignment, session, tracebacks=tracebacks, only=only)
        collected.run(only)
        results = plugin.ordered_results()
        clean = collected.torn_down()
    except BaseException:
        _forget_suite(suite)  # interrupted half way: its fixtures' state is unknown, so collect afresh
        raise
    finally:
        collected.plugin.end()
    if not clean:
        _forget_suite(suite)
    if not results:
        raise SuiteError(f"The suite {suite} did not run (no test was collected).")
    return results


class _CollectedSuite:
    """A suite collected by pytest, its items ready to run for one submission after another."""

    def __init__(self, suite: Path, assignment: Assignment) -> None:
        self.plugin = _GradingPlugin(assignment, session=None)  # type: ignore[arg-type] - set for each run
        arguments = [str(suite), "-c", os.devnull, "--rootdir", str(suite.parent), "--import-mode=importlib",
                     "--assert=plain", "-s", *_UNUSED_PLUGINS, "-W", "ignore::pytest.PytestAssertRewriteWarning"]
        with _no_plugin_autoload(), _fresh_modules_of(suite.parent):
            # What pytest.main does up to its test loop (_pytest.main.wrap_session), kept for later runs.
            self.config = _prepareconfig(arguments, plugins=[self.plugin])
            try:
                self.config._do_configure()
                self.session = pytest.Session.from_config(self.config)
                self.config.hook.pytest_sessionstart(session=self.session)
                self.config.hook.pytest_collection(session=self.session)
            except BaseException:
                self.close()
                raise
        if self.plugin.errors:
            errors = self.plugin.errors
            self.close()
            raise SuiteError(f"The suite {suite} cannot be used: " + "; ".join(errors))

    def run(self, only: str | None) -> None:
        items = [item for item in self.session.items if only is None or _graded_function(item) == only]
        for index, item in enumerate(items):
            # The last item tears everything down, module and session fixtures included: the next
            # submission sets them up afresh.
            following = items[index + 1] if index + 1 < len(items) else None
            item.ihook.pytest_runtest_protocol(item=item, nextitem=following)

    def torn_down(self) -> bool:
        return not self.session._setupstate.stack

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.config._ensure_unconfigure()


_MAX_SUITES = 8  # public and hidden suites of a few assignments
_suites = threading.local()  # Dask may grade in several threads of one process: each has its own


def _suite_cache() -> dict[tuple[Any, ...], _CollectedSuite]:
    cache = getattr(_suites, "cache", None)
    if cache is None:
        cache = _suites.cache = {}
    return cache


def _suite_key(suite: Path, assignment: Assignment) -> tuple[Any, ...]:
    """What a collection depends on: the suite file and a conftest beside it (as edited now), the course
    (its reference modules) and the assignment's graded functions (the markers are checked against them)."""
    stamps = []
    for path in (suite, suite.parent / "conftest.py"):
        try:
            status = path.stat()
            stamps.append((status.st_mtime_ns, status.st_size, status.st_ino))
        except OSError:
            stamps.append(None)
    return (str(suite.absolute()), *stamps, str(assignment.course), assignment.functions)


def _collected_suite(suite: Path, assignment: Assignment) -> _CollectedSuite:
    cache = _suite_cache()
    key = _suite_key(suite, assignment)
    found = cache.get(key)
    if found is None:
        _forget_suite(suite)  # an older collection of the same file
        while len(cache) >= _MAX_SUITES:
            cache.pop(next(iter(cache))).close()
        found = cache[key] = _CollectedSuite(suite, assignment)
    return found


def _forget_suite(suite: Path) -> None:
    cache = _suite_cache()
    for key in [key for key in cache if key[0] == str(suite.absolute())]:
        cache.pop(key).close()


def forget_collected_suites() -> None:
    """Collect every suite afresh on its next run (another course was loaded, say)."""
    cache = _suite_cache()
    while cache:
        cache.popitem()[1].close()


def _import_reference_from(course: Path) -> None:
    """Let suites import ``reference`` from ``course`` (the grading process only; workers run ``python -I``
    and never see the course). Reference modules of another course loaded before are forgotten."""
    folder = str(course / "reference")
    loaded = sys.modules.get("reference")
    if loaded is not None and folder not in list(getattr(loaded, "__path__", [])):
        for name in [n for n in sys.modules if n == "reference" or n.startswith("reference.")]:
            del sys.modules[name]
        once_per_process.forget()  # results of the other course's reference are no answer here
        forget_collected_suites()  # their modules hold the other course's reference
    if str(course) in sys.path:
        sys.path.remove(str(course))
    sys.path.insert(0, str(course))


@contextlib.contextmanager
def _fresh_modules_of(folder: Path) -> Iterator[None]:
    """Forget modules imported from ``folder`` before and after a run.

    pytest names a suite module after its file (``hidden_tests``); without this, the second
    assignment graded in one process would silently reuse the first assignment's suite.
    """

    # Compare plain strings: resolving every loaded module's path cost more than the tests themselves.
    prefixes = tuple({str(folder.absolute()) + os.sep, str(folder.resolve()) + os.sep})

    def forget() -> None:
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if isinstance(file, str) and file.startswith(prefixes):
                del sys.modules[name]

    forget()
    try:
        yield
    finally:
        forget()


@contextlib.contextmanager
def _no_plugin_autoload() -> Iterator[None]:
    # Third-party pytest plugins installed on the machine have no business in a grading run.
    previous = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        if previous is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = previous


class _GradingPlugin:
    def __init__(self, assignment: Assignment, session: WorkerSession, *, tracebacks: bool = True,
                 only: str | None = None) -> None:
        self.errors: list[str] = []
        self._order: dict[str, int] = {}  # each test's position in the suite
        self.collected: list[pytest.Item] = []
        self.begin(assignment, session, tracebacks=tracebacks, only=only)

    def begin(self, assignment: Assignment, session: WorkerSession, *, tracebacks: bool = True,
              only: str | None = None) -> None:
        """Start a run for one submission: nothing of an earlier run's state is kept."""
        self.assignment = assignment
        self.session = session
        self.tracebacks = tracebacks
        self.only = only
        self.problem_set = ProblemSet(assignment.problems_source)
        self.results: list[TestResult] = []
        self._recorded: set[str] = set()
        self._feedback: dict[str, Feedback] = {}  # by test id, until the test's result is recorded
        self._submissions: dict[str, Submission] = {}  # likewise: what each test called
        self._positions: list[int] = []  # the suite position of each result, in the order they ran

    def end(self) -> None:
        """Let go of the submission's session and results once the run is over."""
        self.begin(self.assignment, None, tracebacks=self.tracebacks)  # type: ignore[arg-type]

    @pytest.fixture
    def submission(self, request: pytest.FixtureRequest) -> Submission:
        submission = Submission(self.session, self.assignment.functions)
        self._submissions[request.node.nodeid] = submission
        return submission

    @pytest.fixture
    def problems(self) -> ProblemSet:
        return self.problem_set

    @pytest.fixture
    def feedback(self, request: pytest.FixtureRequest) -> Feedback:
        recorder = Feedback()
        self._feedback[request.node.nodeid] = recorder
        return recorder

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "graded(function, points=1, visibility='visible'): "
                                           "the function a test grades, its points and Gradescope visibility")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"collecting {report.nodeid or 'the suite'} failed: {report.longreprtext[-2000:]}")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        visibility_rank = {}
        for position, item in enumerate(items):
            try:
                _, _, visibility = _marker_values(item, self.assignment.functions)
            except ValueError as error:
                self.errors.append(f"{item.nodeid}: {error}")
                visibility = "visible"
            self._order[item.nodeid] = position
            self.collected.append(item)
            visibility_rank[item.nodeid] = _RUN_ORDER.index(visibility)
            # pytest would render a failed test's traceback from the suite's source (about 20 ms per
            # failure, re-parsing the file), and the report drops it anyway: see pytest_runtest_makereport.
            item.repr_failure = _no_traceback  # type: ignore[method-assign]
        # The most visible tests run first. One worker serves every test, and a notebook can keep what it
        # was called with: run after an `after_due_date` or `hidden` test, a visible test's message could
        # carry that test's inputs to students before the due date. Results keep the suite's order.
        items.sort(key=lambda item: visibility_rank[item.nodeid])

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        with _time_budget(self.assignment.budgets.test_seconds):
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        finished = call.when == "call" or (call.when == "setup" and not report.passed)
        if not finished or item.nodeid in self._recorded:
            return
        self._recorded.add(item.nodeid)
        function, points, visibility = _marker_values(item, self.assignment.functions)
        passed = report.passed
        output = "" if passed else _failure_message(call.excinfo.value if call.excinfo else None, self.tracebacks)
        submission = self._submissions.pop(item.nodeid, None)
        if not passed and submission is not None and submission.returned_none:
            output = _with_return_hint(output, submission.returned_none, call.excinfo.value if call.excinfo else None)
        recorder = self._feedback.pop(item.nodeid, None)
        self.results.append(TestResult(name=f"{function}: {_describe(item)}", function=function,
                                       score=points if passed else 0.0, max_score=points, passed=passed,
                                       output=output, visibility=visibility,
                                       artifacts=recorder.artifacts if recorder is not None else []))
        self._positions.append(self._order.get(item.nodeid, len(self._order)))
        report.longrepr = None  # nothing of the test's source is kept anywhere

    def ordered_results(self) -> list[TestResult]:
        """The results in the suite's order (they ran most visible first)."""
        return [result for _, result in sorted(zip(self._positions, self.results, strict=True),
                                               key=lambda pair: pair[0])]


_RUN_ORDER = ("visible", "after_due_date", "after_published", "hidden")


class CheckOverBudget(SubmissionFault):
    """A whole test (its calls and the grader's checks of what they did) took longer than its budget."""


def _time_budget(seconds: float) -> contextlib.AbstractContextManager[None]:
    """Stop a test that runs longer than ``seconds`` in all. Each call already has its own budget; this
    one also covers what the grader does with the results (checking 30,000 recorded steps, say), which
    student code drives."""
    return raise_after(seconds, lambda: CheckOverBudget(
        f"This check took more than its budget of {seconds:g} s in all (the calls to your functions and the "
        "grader's checks of what they did); make fewer calls or smaller ones."))


def _no_traceback(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    return excinfo.exconly()


def _graded_function(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("graded")
    return marker.args[0] if marker is not None and marker.args else None


def _marker_values(item: pytest.Item, functions: tuple[str, ...]) -> tuple[str, float, str]:
    marker = item.get_closest_marker("graded")
    if marker is None or not marker.args:
        raise ValueError('every test needs @pytest.mark.graded("function", points=..., visibility=...)')
    function = marker.args[0]
    points = float(marker.kwargs.get("points", 1))
    visibility = marker.kwargs.get("visibility", "visible")
    if function not in functions:
        raise ValueError(f"graded({function!r}) names no graded function of the assignment {list(functions)}")
    if visibility not in VISIBILITIES or points <= 0:
        raise ValueError(f"visibility must be one of {VISIBILITIES} and points positive")
    states = marker.kwargs.get("states", [])
    if not (isinstance(states, list | tuple) and all(isinstance(quote, str) for quote in states)):
        raise ValueError("states=[...] must list quotes of the student notebook (strings)")
    return function, points, visibility


def stated_sentences(suite: Path, assignment: Assignment) -> list[tuple[str, list[str]]]:
    """Each test of ``suite`` (named as in results) with the notebook sentences it says it enforces
    (``states=[...]`` of its graded marker), found by collecting the suite without running it."""
    plugin = _GradingPlugin(assignment, session=None)  # type: ignore[arg-type] - nothing is called
    arguments = [str(suite), "--collect-only", "-c", os.devnull, "--rootdir", str(suite.parent),
                 "--import-mode=importlib", "-p", "no:cacheprovider", "-p", "no:terminal"]
    _import_reference_from(assignment.course)
    with _no_plugin_autoload(), _fresh_modules_of(suite.parent):
        pytest.main(arguments, plugins=[plugin])
    if plugin.errors:
        raise SuiteError(f"The suite {suite} cannot be used: " + "; ".join(plugin.errors))
    return [(f"{marker.args[0]}: {_describe(item)}", list(marker.kwargs.get("states", [])))
            for item in plugin.collected for marker in [item.get_closest_marker("graded")]]


def _describe(item: pytest.Item) -> str:
    doc = (getattr(item, "obj", None).__doc__ or "").strip()  # type: ignore[union-attr]
    description = doc.splitlines()[0].rstrip(".") if doc else item.name
    callspec = getattr(item, "callspec", None)
    return f"{description} [{callspec.id}]" if callspec is not None else description


def _with_return_hint(output: str, returned_none: list[str], error: BaseException | None) -> str:
    """A failed test in which a function returned None: an unfinished function (``...``) or a missing
    ``return`` is the likely cause. A check that could not even look at the result (unpacking None,
    say) gets the hint instead of the grader's error; other messages get it added, once."""
    hint = (f"{' and '.join(returned_none)} returned None; did the function forget to `return` its result?")
    if "forget to `return`" in output:
        return output
    if not isinstance(error, AssertionError | SubmissionFault):
        return hint
    return f"{output}\n({hint})"


def _failure_message(error: BaseException | None, tracebacks: bool = True) -> str:
    if isinstance(error, StudentCodeError):
        return f"{error}\n{error.traceback}".rstrip() if tracebacks else str(error)
    if isinstance(error, SubmissionFault):
        return str(error)
    if isinstance(error, AssertionError):
        return str(error) or "The result did not match what this check expects."
    if error is None:
        return "This check did not run."
    return (f"The grader could not check the result: {type(error).__name__}: {error}"[:3000])
