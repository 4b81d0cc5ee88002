"""Calling a notebook's functions in this process, answering exactly as a worker would.

:class:`InProcessSession` stands in for :class:`~autograder.grader.session.WorkerSession` where there is
nothing to protect: the public checks a student runs on their own notebook in their own Jupyter kernel
(``autograder.student``), and the benchmarks' floor (the suites without any worker). Arguments and
results make the same round trip through the wire's encoding as they do to a worker, and failures are
described by the worker's own functions, so a check gives the same verdict and the same message here as
through a worker. A call has the same time budget as in a worker where a timer can stop it (in the main
thread: a kernel runs cells there), so an endless loop fails its check with the worker's message too.
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from autograder.grader.alarms import raise_after
from autograder.grader.session import (
    CallOutcome,
    LoadReport,
    StudentTimeout,
    WorkerFunction,
    array_fingerprints,
    outcome_of,
    timeout_message,
)
from autograder.worker import server, wire


class InProcessSession:
    """A notebook's functions, from ``namespace`` (a kernel's ``__main__``, or cells run by :meth:`from_cells`)."""

    def __init__(self, namespace: dict[str, Any], load_report: LoadReport | None = None,
                 call_seconds: float | None = None) -> None:
        self.namespace = namespace
        self.call_seconds = call_seconds
        self.load_report = load_report or LoadReport(functions=sorted(
            name for name, value in namespace.items() if callable(value) and not name.startswith("_")))
        self.last_call: CallOutcome | None = None
        self.calls_seconds = 0.0

    @classmethod
    def from_cells(cls, cells: list[tuple[int, str]]) -> InProcessSession:
        """Run trusted code cells (the project's own reference notebooks) in a fresh namespace."""
        namespace: dict[str, Any] = {"__name__": "__main__"}
        for index, source in cells:
            exec(compile(source, f"<cell {index}>", "exec"), namespace)
        return cls(namespace)

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
             overrides: dict[str, Any] | None = None) -> CallOutcome:
        started = time.monotonic()
        sent = array_fingerprints(args, kwargs)
        op, data = self._answer(name, args, kwargs, overrides or {})
        seconds = time.monotonic() - started
        self.calls_seconds += seconds
        outcome = outcome_of(name, op, data, seconds, sent, self.load_report.functions)
        if outcome is None:  # cannot happen: every answer above is one outcome_of knows
            raise RuntimeError(f"no outcome for the answer {op!r}")
        self.last_call = outcome
        return outcome

    def _answer(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                overrides: dict[str, Any]) -> tuple[str, Any]:
        """What a worker would send back for this call: ``(op, data)`` after a trip through the wire."""
        function = self.namespace.get(name)
        if not callable(function):
            return "missing", name
        call_args, call_kwargs = _through_the_wire(list(args), kwargs)
        watched = server.array_arguments(function, call_args, call_kwargs)
        saved = {key: self.namespace.get(key, _ABSENT) for key in overrides}
        self.namespace.update(overrides)
        try:
            with warnings.catch_warnings(record=True) as caught_warnings, _time_limit(self.call_seconds):
                value = function(*call_args, **call_kwargs)
        except _OutOfTime:
            raise StudentTimeout(timeout_message(f"The call to {name}", self.call_seconds or 0)) from None
        except (Exception, SystemExit) as error:  # a KeyboardInterrupt (the student stopping it) goes on up
            return "raise", {"message": server.describe_error(error), "traceback": server.student_traceback(error)}
        finally:
            for key, previous in saved.items():
                if previous is _ABSENT:
                    self.namespace.pop(key, None)
                else:
                    self.namespace[key] = previous
        reply = {"value": value, "arguments": [[key, label, wire.fingerprint(array)] for key, label, array in watched],
                 "stdout": "", "warnings": [f"{item.category.__name__}: {item.message}"[:300]
                                            for item in caught_warnings[:20]]}
        try:
            return wire.decode_frame(wire.encode("return", reply))
        except wire.EncodeError as error:
            return "unsendable", {"message": str(error)}

    def close(self) -> None:
        pass


_ABSENT = object()


class _OutOfTime(BaseException):
    """Raised in the student's function when its time is up; a BaseException, so that a bare
    ``except Exception`` in the student's code does not swallow it."""


def _time_limit(seconds: float | None) -> AbstractContextManager[None]:
    """Raise :class:`_OutOfTime` in the student's function after ``seconds`` (nested inside a whole
    test's budget, see :func:`raise_after`)."""
    return raise_after(seconds, _OutOfTime)


def _through_the_wire(args: list[Any], kwargs: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Copies of the arguments as a worker decodes them; callables stay themselves (a worker would get
    a callback to them), problem functions become the local functions a worker rebuilds."""
    kept: dict[int, Callable[..., Any]] = {}
    ids = itertools.count(1)

    def encode_object(value: Any) -> tuple[str, Any] | None:
        if callable(value):
            key = next(ids)
            kept[key] = value.local if isinstance(value, WorkerFunction) else value
            return "$callback", key
        return None

    def decode_tag(tag: str, inner: Any, decode: Callable[[Any], Any]) -> Any:
        return kept[inner]

    _, data = wire.decode_frame(wire.encode("call", {"args": args, "kwargs": kwargs}, encode_object=encode_object),
                                decode_tag=decode_tag)
    return data["args"], data["kwargs"]
