"""The hidden suite with no worker at all: the baseline that the worker's overhead is measured against.

:class:`InProcessSession` stands in for :class:`autograder.grader.session.WorkerSession`: it runs the notebook's
code cells with ``exec`` in this process and calls its functions directly, so the same pytest suite,
fixtures and checks run, and only the process boundary (wire encoding, pipes, callbacks into the
grader, the worker's start) is missing. Only the project's own reference code is run this way.
"""

from __future__ import annotations

import inspect
import time
import traceback
from typing import Any

import numpy as np

from autograder.grader.session import CallOutcome, LoadReport, MissingFunction, StudentCodeError

_ABSENT = object()


class InProcessSession:
    def __init__(self, cells: list[tuple[int, str]]) -> None:
        self.namespace: dict[str, Any] = {"__name__": "__main__"}
        for index, source in cells:
            exec(compile(source, f"<cell {index}>", "exec"), self.namespace)
        self.load_report = LoadReport(functions=[name for name, value in self.namespace.items() if callable(value)])
        self.last_call: CallOutcome | None = None
        self.calls_seconds = 0.0

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
             overrides: dict[str, Any] | None = None) -> CallOutcome:
        function = self.namespace.get(name)
        if not callable(function):
            raise MissingFunction(f"the notebook defines no function {name}")
        overrides = overrides or {}
        watched = _arrays_to_watch(function, args, kwargs)  # as the worker does, for last_call.mutated
        saved = {key: self.namespace.get(key, _ABSENT) for key in overrides}
        self.namespace.update(overrides)
        started = time.monotonic()
        try:
            value = function(*args, **kwargs)
        except Exception as error:
            raise StudentCodeError(f"{name} raised {type(error).__name__}: {error}", traceback.format_exc()) from None
        finally:
            for key, previous in saved.items():
                if previous is _ABSENT:
                    self.namespace.pop(key, None)
                else:
                    self.namespace[key] = previous
        seconds = time.monotonic() - started
        self.calls_seconds += seconds
        changed = {key: label for key, label, argument, before in watched
                   if not np.array_equal(np.asarray(argument), before, equal_nan=True)}
        self.last_call = CallOutcome(name, value, changed, "", seconds)
        return self.last_call

    def close(self) -> None:
        pass


def _arrays_to_watch(function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
                     ) -> list[tuple[int | str, str, Any, Any]]:
    """(position or keyword, name for messages, the array, a copy of it) per array argument."""
    try:
        names = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        names = []
    keyed = [(position, names[position] if position < len(names) else f"argument {position + 1}", value)
             for position, value in enumerate(args)] + [(key, key, value) for key, value in kwargs.items()]
    return [(key, label, value, np.array(value, copy=True)) for key, label, value in keyed
            if isinstance(value, np.ndarray)]
