"""The grader's side of one submission's worker: load the notebook, make calls, serve callbacks.

Every failure of student code becomes a :class:`SubmissionFault` whose message a student can act
on; the hidden test that made the call fails with it, and the next call gets a fresh worker (up to
``max_restarts``), so one infinite loop costs one test, not the whole notebook.
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.grader.escaping import printable
from autograder.grader.figures import PlottedFigure, read_figures
from autograder.grader.sandbox import Budgets, WorkerProcess, WorkerSetupFailed, imported_packages, start_worker
from autograder.worker import wire

# What notebooks of these assignments may import besides the standard library (assignment.toml: packages).
DEFAULT_PACKAGES = ("numpy", "scipy", "pandas", "matplotlib")
_READY_SECONDS = 30.0  # forking and confining a worker takes milliseconds; this is for a loaded machine


class CallbackRefused(ValueError):
    """The student's code passed the grader's function arguments far larger than the data of the call."""


@dataclass(frozen=True)
class CallbackLimit:
    """What a grader-side function accepts from student code: no array (nor what its arrays broadcast to)
    larger than ``FACTOR`` times the largest array the call sent, and never below ``FLOOR`` elements."""

    largest_sent: int
    FACTOR = 4
    FLOOR = 4096

    @property
    def elements(self) -> int:
        return max(self.FACTOR * self.largest_sent, self.FLOOR)

    def check(self, args: list[Any], kwargs: dict[str, Any]) -> None:
        # Most callbacks pass a few numbers and arrays whose sizes add up to far below the limit, and
        # nothing broadcasts to more than the product of the sizes: no need to look further.
        values = [*args, *kwargs.values()]
        if all(type(value) in _PLAIN_NUMBERS or type(value) is np.ndarray for value in values):
            sizes = [value.size for value in values if type(value) is np.ndarray]
            if sum(sizes) <= self.elements and math.prod(max(size, 1) for size in sizes) <= self.elements:
                return
        shapes = [_shape_of(value) for value in values]
        shapes = [shape for shape in shapes if shape is not None]
        total = sum(math.prod(shape) for shape in shapes)
        # The largest size along each trailing dimension bounds what the shapes broadcast to; only when
        # that bound is over the limit is the exact broadcast worth computing (it is every callback's cost).
        ndim = max((len(shape) for shape in shapes), default=0)
        bound = math.prod(max(shape[-axis] if len(shape) >= axis else 1 for shape in shapes)
                          for axis in range(1, ndim + 1))
        if max(total, bound) <= self.elements:
            return
        try:
            broadcast = math.prod(np.broadcast_shapes(*shapes)) if shapes else 0
        except ValueError:  # shapes that do not broadcast together cannot make a larger array that way
            broadcast = 0
        if max(total, broadcast) > self.elements:
            raise CallbackRefused(
                f"the arguments ({', '.join(str(s) for s in shapes)}) hold or broadcast to more than "
                f"{self.elements:,} numbers, far more than the data of this call; pass arrays shaped like the "
                "ones your function was given")


_PLAIN_NUMBERS = frozenset({int, float, bool, np.float64, np.int64})


def _shape_of(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, np.ndarray):
        return value.shape
    if isinstance(value, list | tuple):
        try:
            return np.asarray(value, dtype=float).shape
        except (TypeError, ValueError):
            return None
    return None


def _largest_array(value: Any, depth: int = 0) -> int:
    """The number of elements of the largest array in ``value`` (problem data of WorkerFunctions included)."""
    if isinstance(value, np.ndarray):
        return int(value.size)
    if depth > 8:
        return 0
    if isinstance(value, WorkerFunction):
        return _largest_array(value.kwargs, depth + 1)
    if isinstance(value, dict):
        return max((_largest_array(item, depth + 1) for item in value.values()), default=0)
    if isinstance(value, list | tuple):
        # Lists of plain numbers (a run's losses, thousands of them) hold no array: skipped at C speed.
        return max((_largest_array(item, depth + 1) for item in value if type(item) not in _PLAIN_NUMBERS),
                   default=0)
    return 0


def arrays_to_name(value: Any, found: dict[str, np.ndarray] | None = None, depth: int = 0) -> dict[str, np.ndarray]:
    """The arrays of a call worth naming (problem data of WorkerFunctions included), by fingerprint: the
    worker hands them back to the grader's callbacks by name, not by their bytes."""
    found = {} if found is None else found
    if isinstance(value, np.ndarray):
        if value.size >= wire.NAMED_ARRAY_SIZE and value.dtype.kind in "biuf":
            found.setdefault(wire.fingerprint(value), value.copy())  # a copy: the call's data as sent
    elif depth <= 8 and isinstance(value, WorkerFunction):
        arrays_to_name(value.kwargs, found, depth + 1)
    elif depth <= 8 and isinstance(value, dict):
        for item in value.values():
            arrays_to_name(item, found, depth + 1)
    elif depth <= 8 and isinstance(value, list | tuple):
        for item in value:
            if type(item) not in _PLAIN_NUMBERS:
                arrays_to_name(item, found, depth + 1)
    return found


def array_fingerprints(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[int | str, str]:
    """What the grader sent, per array argument: compared with what the worker reports after the call."""
    found: dict[int | str, str] = {position: wire.fingerprint(value) for position, value in enumerate(args)
                                   if isinstance(value, np.ndarray)}
    found.update({key: wire.fingerprint(value) for key, value in kwargs.items() if isinstance(value, np.ndarray)})
    return found


def _mutated(sent: dict[int | str, str], reported: Any) -> dict[int | str, str]:
    """The array arguments the call changed in place, decided here: each digest the worker reports must
    equal the digest of what was sent. An argument it does not report counts as changed."""
    now: dict[int | str, tuple[str, Any]] = {}
    for item in reported if isinstance(reported, list) else []:
        if isinstance(item, list) and len(item) == 3 and isinstance(item[0], int | str):
            key, label, digest = item
            now[key] = (label if isinstance(label, str) and label.isidentifier() and len(label) <= 40 else "", digest)
    changed = {}
    for key, digest in sent.items():
        label, after = now.get(key, ("", None))
        if after != digest:
            changed[key] = label or (f"argument {key + 1}" if isinstance(key, int) else str(key))
    return changed


def outcome_of(name: str, op: str, data: Any, seconds: float, sent: dict[int | str, str],
               defined: list[str] | None = None) -> CallOutcome | None:
    """What a call of the student's ``name`` came to, from the answer a worker sent (``op``, ``data``) and
    the digests of the arrays the call was given: a :class:`CallOutcome`, a :class:`SubmissionFault` raised
    for the student, or None for an answer that is no answer. The in-process session answers the same way.
    ``defined`` (the functions the notebook defines) lets a missing function's message name a near miss."""
    if op == "return" and isinstance(data, dict):
        warned = data.get("warnings")
        return CallOutcome(name, data.get("value"), _mutated(sent, data.get("arguments")),
                           str(data.get("stdout", "")), seconds,
                           [str(item)[:300] for item in warned[:20]] if isinstance(warned, list) else [])
    if op == "missing":
        raise MissingFunction(missing_function_message(name, defined or []))
    if op == "raise" and isinstance(data, dict):
        raise StudentCodeError(f"{name} raised {data.get('message')}", str(data.get("traceback", "")))
    if op == "unsendable" and isinstance(data, dict):
        raise SubmissionFault(f"{name} returned a value the grader cannot check: {data.get('message')}. "
                              "Return numbers, lists, tuples or numpy arrays of numbers.")
    return None


def missing_function_message(name: str, defined: list[str]) -> str:
    """What the student is told when the notebook defines no ``name``: with the notebook's own name for
    it when one is close (``gradientstep``, ``Gradient_Step``, ``gradient_stepp``)."""
    folded = {candidate.lower().replace("_", ""): candidate for candidate in defined[:500]}
    near = folded.get(name.lower().replace("_", "")) or next(
        iter(difflib.get_close_matches(name, defined[:500], n=1, cutoff=0.75)), None)
    hint = f" (the notebook defines {printable(near)[:80]}: rename it to {name})" if near else ""
    return (f"Your notebook does not define a function named {name}{hint}; define it at the top level of a "
            "code cell, with exactly that name.")


def timeout_message(subject: str, budget: float) -> str:
    """What the student is told of a cell or call that ran out of time; ``subject`` is "Cell 4" or
    "The call to gradient_descent"."""
    return (f"{subject} did not finish within its time budget of {budget:g} s (an infinite loop, or "
            "far more work than the assignment needs).")


class SubmissionFault(Exception):
    """Student code did not produce a value the grader can check. ``str()`` is the student message."""


class MissingFunction(SubmissionFault):
    pass


class StudentCodeError(SubmissionFault):
    def __init__(self, message: str, traceback: str) -> None:
        super().__init__(message)
        self.traceback = traceback


class StudentTimeout(SubmissionFault):
    pass


class WorkerCrashed(SubmissionFault):
    pass


class WorkerUnavailable(SubmissionFault):
    pass


@dataclass
class CellReport:
    index: int
    error: str | None
    stdout: str
    notes: list[str]
    title: str = ""  # the cell's first line, from the grader's own reading of the notebook

    @property
    def heading(self) -> str:
        """How feedback names the cell, so a student can find it: its number and its first line."""
        return f"Cell {self.index} ({self.title})" if self.title else f"Cell {self.index}"


def cell_title(source: str, width: int = 60) -> str:
    """The first line of a cell that says something (not blank, not a comment marker alone), shortened."""
    for line in source.splitlines():
        text = " ".join(line.split())
        if text and text != "#":
            return printable(text if len(text) <= width else text[:width - 1] + "…")
    return ""


@dataclass
class LoadReport:
    cells: list[CellReport] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    seconds: float = 0.0
    problem: str | None = None  # set when the notebook timed out or ended the process
    figures: tuple[PlottedFigure, ...] = ()  # what the notebook drew, read from the worker's plain data


@dataclass
class CallOutcome:
    name: str
    value: Any
    changed: dict[int | str, str]  # array arguments changed in place: position or keyword -> name for messages
    stdout: str
    seconds: float
    warnings: list[str] = field(default_factory=list)  # warnings the call gave ("RuntimeWarning: overflow ...")

    @property
    def mutated(self) -> list[str]:
        """The names of the array arguments the call changed in place."""
        return list(self.changed.values())

    def mutated_among(self, *arguments: int | str) -> list[str]:
        """The names of those of ``arguments`` (positions from 0, or keywords) that the call changed."""
        return [label for key, label in self.changed.items() if key in arguments]


@dataclass(frozen=True)
class WorkerFunction:
    """A problem function (loss, gradient, init) that the worker rebuilds from the assignment's public
    ``problems.py`` with the given data, so a 10,000-step run costs no round trips. Calling it in the
    grader evaluates the grader's own copy of the same function.
    """

    name: str
    kwargs: dict[str, Any]
    local: Callable[..., Any]
    origin: str = ""  # a digest of the problems.py it comes from (what once_per_process keys it by)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.local(*args, **kwargs)

    def memo_key(self) -> tuple[str, str, dict[str, Any]]:
        """What this function is, as data: the same name, source and data compute the same values."""
        return (self.name, self.origin, self.kwargs)


class WorkerSession:
    """One submission's worker, (re)started on demand."""

    def __init__(self, cells: list[tuple[int, str]], problems_source: str | None, budgets: Budgets,
                 packages: tuple[str, ...] = DEFAULT_PACKAGES) -> None:
        self.cells = cells
        self._titles = {index: cell_title(source) for index, source in cells}
        self._preload = imported_packages([source for _, source in cells], packages)
        self.problems_source = problems_source
        self.budgets = budgets
        self.packages = packages
        self.load_report: LoadReport | None = None
        self.last_call: CallOutcome | None = None
        self.calls_seconds = 0.0
        self.cells_seconds = 0.0  # running the notebook's cells, without starting the worker
        self._worker: WorkerProcess | None = None
        self._channel: wire.Channel | None = None
        self._skipped_cells: set[int] = set()
        self._current_cell: int | None = None  # the cell the worker said it is running
        self._restarts = 0
        self._unavailable: str | None = None

    @classmethod
    def unavailable(cls, problem: str, budgets: Budgets) -> WorkerSession:
        """A session for a file that could not be read: every call fails with ``problem``."""
        session = cls([], None, budgets)
        session._unavailable = problem
        session.load_report = LoadReport(problem=problem)
        return session

    # -------------------------------------------------------------------------------- lifecycle
    def start(self) -> LoadReport:
        """Run the notebook. A cell that hangs or ends the process is skipped on one more attempt."""
        report = self._load()
        if report.problem and self._current_cell is not None and self._current_cell not in self._skipped_cells:
            first_problem, first_cell = report.problem, self._current_cell
            self._skipped_cells.add(first_cell)
            report = self._load()
            report.cells.append(CellReport(first_cell, first_problem + " The grader ran the notebook again "
                                           "without this cell.", "", [], self._titles.get(first_cell, "")))
            report.cells.sort(key=lambda cell: cell.index)
        if report.problem:
            self._unavailable = report.problem
        self.load_report = report
        return report

    def _load(self) -> LoadReport:
        self._stop_worker()
        self._worker = start_worker(self.budgets, self._preload)
        self._channel = wire.Channel(self._worker.from_worker, self._worker.to_worker)
        self._await_ready(self._channel, self._worker)
        # The notebook's budget starts once its worker is ready: starting the grading process's zygote
        # (imports of numpy, pandas, matplotlib: seconds on a loaded machine) is not the notebook's time.
        started = time.monotonic()
        deadline = started + self.budgets.notebook_seconds
        self._current_cell = None
        cells = [[index, source] for index, source in self.cells if index not in self._skipped_cells]
        try:
            self._channel.send(wire.encode("load", {"cells": cells, "problems": self.problems_source,
                                                   "packages": list(self.packages)}), deadline)
            figures: tuple[PlottedFigure, ...] = ()
            while True:
                op, data = self._channel.receive(deadline)
                if op == "cell":
                    self._current_cell = int(data)
                elif op == "figures":
                    figures = read_figures(data)
                elif op == "loaded":
                    elapsed = time.monotonic() - started
                    self.cells_seconds += elapsed
                    report = self._load_report(data, elapsed, self._titles)
                    report.figures = figures
                    return report
                else:
                    raise wire.ProtocolError(f"unexpected message {op!r} while loading")
        except wire.ProtocolError as error:
            subject = f"Cell {self._current_cell}" if self._current_cell is not None else "Starting the notebook"
            problem = self._describe_failure(error, subject, self.budgets.notebook_seconds)
            self.cells_seconds += time.monotonic() - started
            self._stop_worker()
            return LoadReport(seconds=time.monotonic() - started, problem=problem)

    @property
    def student_seconds(self) -> float:
        """Time the student's code ran: its cells and the tests' calls, not the starting of workers (the first
        worker of a grading process waits for its zygote, which costs more than most notebooks)."""
        return self.cells_seconds + self.calls_seconds

    def _await_ready(self, channel: wire.Channel, worker: WorkerProcess) -> None:
        """The worker's first frame says it is set up and confined; before it, no student code has run,
        so a worker that fails here is the grader's fault (its machine or installation), never a grade."""
        try:
            op, _ = channel.receive(time.monotonic() + _READY_SECONDS)
        except wire.ProtocolError as error:
            self._stop_worker()
            raise WorkerSetupFailed(f"A worker process could not be set up ({error}; {worker.exit_description()}); "
                                    f"its parent's log: {worker.setup_log()}. Run `autograder doctor` on this "
                                    "machine.") from None
        if op != "ready":
            self._stop_worker()
            raise WorkerSetupFailed(f"A worker process sent {op!r} before saying it was ready.")

    @staticmethod
    def _load_report(data: Any, seconds: float, titles: dict[int, str]) -> LoadReport:
        cells = [CellReport(int(c["index"]), c["error"], str(c["stdout"]), [str(n) for n in c["notes"]],
                            titles.get(int(c["index"]), "")) for c in data["cells"]]
        return LoadReport(cells=cells, functions=[str(f) for f in data["functions"]], seconds=seconds)

    def close(self) -> None:
        if self._worker is not None and self._channel is not None and self._worker.alive():
            with contextlib.suppress(wire.ProtocolError):
                self._channel.send(wire.encode("exit", None), time.monotonic() + 1)
        self._stop_worker()

    def _stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.close()
        self._worker = None
        self._channel = None

    def _describe_failure(self, error: wire.ProtocolError, subject: str, budget: float) -> str:
        """A sentence for the student: ``subject`` is "Cell 4" or "The call to gradient_descent"."""
        if isinstance(error, wire.ChannelTimeout):
            return timeout_message(subject, budget)
        if isinstance(error, wire.ChannelClosed):
            assert self._worker is not None
            return (f"{subject} ended the Python process running the notebook: "
                    f"{self._worker.exit_description()} (for example os._exit(), or running out of memory).")
        return (f"{subject} sent data the grader could not read ({error}); do not write to file "
                "descriptors you did not open.")

    # ------------------------------------------------------------------------------------ calls
    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
             overrides: dict[str, Any] | None = None) -> CallOutcome:
        """Call the student's ``name`` in the worker and return what it gave back, as plain data."""
        channel = self._ready_channel(name)
        callbacks: dict[int, Callable[..., Any]] = {}
        ids = itertools.count(1)

        def encode_object(value: Any) -> tuple[str, Any] | None:
            if isinstance(value, WorkerFunction):
                return "$function", [value.name, value.kwargs]
            if callable(value):
                callback_id = next(ids)
                callbacks[callback_id] = value
                return "$callback", callback_id
            return None

        named = arrays_to_name((args, kwargs, overrides))
        frame = wire.encode("call", {"name": name, "args": list(args), "kwargs": kwargs,
                                     "overrides": overrides or {}, "sent": list(named)}, encode_object=encode_object)
        sent = array_fingerprints(args, kwargs)
        # Arguments the student's code passes to the grader's functions are held to the size of the data
        # this call sent, so a small frame cannot make the grader build something huge.
        callback_limit = CallbackLimit(_largest_array((args, kwargs, overrides)))
        started = time.monotonic()
        deadline = started + self.budgets.call_seconds
        try:
            channel.send(frame, deadline)
            while True:
                op, data = channel.receive(deadline, sent=named)
                if op != "callback":
                    break
                self._answer_callback(channel, callbacks, data, deadline, callback_limit)
        except wire.ProtocolError as error:
            message = self._describe_failure(error, f"The call to {name}", self.budgets.call_seconds)
            self._stop_worker()
            fault = StudentTimeout if isinstance(error, wire.ChannelTimeout) else WorkerCrashed
            raise fault(message) from None
        except BaseException:
            # Interrupted mid-conversation (a test's budget ran out, Ctrl-C): half a frame may be in the pipe,
            # so this worker cannot answer another call; the next call starts a fresh one.
            self._stop_worker()
            raise
        seconds = time.monotonic() - started
        self.calls_seconds += seconds
        return self._outcome(name, op, data, seconds, sent)

    def _outcome(self, name: str, op: str, data: Any, seconds: float, sent: dict[int | str, str]) -> CallOutcome:
        outcome = outcome_of(name, op, data, seconds, sent, self.load_report.functions if self.load_report else None)
        if outcome is None:
            self._stop_worker()
            raise WorkerCrashed(f"The process running your notebook answered the call to {name} with an "
                                f"unexpected message ({op!r}).")
        self.last_call = outcome
        return outcome

    def _answer_callback(self, channel: wire.Channel, callbacks: dict[int, Callable[..., Any]],
                         data: Any, deadline: float, limit: CallbackLimit) -> None:
        # [id, args, kwargs]: a list costs fewer values to decode than a dict, on every callback.
        well_formed = (type(data) is list and len(data) == 3 and type(data[0]) is int and type(data[1]) is list
                       and type(data[2]) is dict)
        function = callbacks.get(data[0]) if well_formed else None
        if function is None:
            reply = wire.encode("callback_error", "this function is not available in this call")
        else:
            try:
                args, kwargs = data[1], data[2]
                limit.check(args, kwargs)
                result = function(*args, **kwargs)
                reply = wire.encode("callback_return", result)
            except Exception as error:  # the student passed something our function rejects
                reply = wire.encode("callback_error", f"{type(error).__name__}: {error}"[:2000])
        channel.send(reply, deadline)

    def _ready_channel(self, name: str) -> wire.Channel:
        if self._unavailable:
            raise WorkerUnavailable(self._unavailable)
        if self._channel is None:
            if self._restarts >= self.budgets.max_restarts:
                raise WorkerUnavailable(f"{name} was not called: earlier calls timed out or ended the process "
                                        f"{self._restarts + 1} times, so the grader stopped running this notebook.")
            self._restarts += 1
            report = self._load()
            if report.problem:
                self._unavailable = report.problem
                raise WorkerUnavailable(report.problem)
        assert self._channel is not None
        return self._channel

