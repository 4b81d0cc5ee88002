"""What hidden tests get from the ``submission`` and ``problems`` fixtures.

``submission.gradient_descent(loss, grad, w0, 0.1)`` calls the student's function in the worker and
returns plain data. Arguments that are Python callables become callbacks into the grader (so a test
can record every point the student evaluates); :class:`~autograder.session.WorkerFunction` values
from ``problems`` are rebuilt inside the worker (so long runs cost no round trips).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from functools import partial
from typing import Any

from autograder.session import CallOutcome, WorkerFunction, WorkerSession


class Submission:
    """The student's graded functions, callable by name: ``submission.gradient_step(w, g, 0.1)``."""

    def __init__(self, session: WorkerSession, functions: tuple[str, ...],
                 overrides: dict[str, Any] | None = None) -> None:
        self._session = session
        self._functions = functions
        self._overrides = overrides or {}

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_") or name not in self._functions:
            raise AttributeError(f"{name!r} is not a graded function of this assignment "
                                 f"(graded: {', '.join(self._functions)})")
        return partial(self.call, name)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the student's ``name``; raises a SubmissionFault if it fails, hangs or is missing."""
        return self._session.call(name, args, kwargs, self._overrides).value

    def with_reference(self, **replacements: Callable[..., Any]) -> Submission:
        """The same submission, but while a call runs, the notebook's global names are replaced.

        Use it to grade one function without the others: ``fit_logistic`` graded with the reference
        gradient in place of the student's ``logistic_loss_grad`` loses points only for its own bugs.
        """
        return Submission(self._session, self._functions, self._overrides | replacements)

    @property
    def last_call(self) -> CallOutcome | None:
        """Details of the latest call: ``mutated`` lists array arguments changed in place."""
        return self._session.last_call


class ProblemSet:
    """The assignment's ``problems.py``, imported in the grader: ``problems.bind("name", **data)``."""

    def __init__(self, source: str | None) -> None:
        self.module = types.ModuleType("problems")
        if source:
            exec(compile(source, "problems.py", "exec"), self.module.__dict__)

    def bind(self, name: str, **data: Any) -> WorkerFunction:
        """The problem function ``name`` with ``data`` bound, callable here and rebuilt in the worker."""
        function = getattr(self.module, name, None)
        if not callable(function):
            raise AttributeError(f"problems.py defines no function {name!r}")
        return WorkerFunction(name, data, partial(function, **data))
