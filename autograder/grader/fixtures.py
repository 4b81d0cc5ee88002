"""What hidden tests get from the ``submission``, ``problems`` and ``feedback`` fixtures.

``submission.gradient_descent(loss, grad, w0, 0.1)`` calls the student's function in the worker and
returns plain data. Arguments that are Python callables become callbacks into the grader (so a test
can record every point the student evaluates); :class:`~autograder.grader.session.WorkerFunction` values
from ``problems`` are rebuilt inside the worker (so long runs cost no round trips, but student code
can reach them: ``problems.py`` must never hold an answer).
"""

from __future__ import annotations

import hashlib
import types
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from autograder.grader import artifacts
from autograder.grader.figures import PlottedFigure
from autograder.grader.session import CallOutcome, WorkerFunction, WorkerSession


class Submission:
    """The student's graded functions, callable by name: ``submission.gradient_step(w, g, 0.1)``."""

    def __init__(self, session: WorkerSession, functions: tuple[str, ...],
                 overrides: dict[str, Any] | None = None, returned_none: list[str] | None = None) -> None:
        self._session = session
        self._functions = functions
        self._overrides = overrides or {}
        # The functions that returned None in this test (shared with with_reference's copies): an
        # unfinished function (a body of ``...``) returns None, and the test's failure says so.
        self.returned_none: list[str] = returned_none if returned_none is not None else []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_") or name not in self._functions:
            raise AttributeError(f"{name!r} is not a graded function of this assignment "
                                 f"(graded: {', '.join(self._functions)})")
        return partial(self.call, name)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the student's ``name``; raises a SubmissionFault if it fails, hangs or is missing."""
        value = self._session.call(name, args, kwargs, self._overrides).value
        if value is None and name not in self.returned_none:
            self.returned_none.append(name)
        return value

    def with_reference(self, **replacements: Callable[..., Any]) -> Submission:
        """The same submission, but while a call runs, the notebook's global names are replaced.

        Use it to grade one function without the others: ``fit_logistic`` graded with the reference
        gradient in place of the student's ``logistic_loss_grad`` loses points only for its own bugs.
        Pass the reference itself (``logistic_loss_grad=reference.logistic_loss_grad``, or a
        ``functools.partial`` of it): plain callables stay in the grader and the worker calls them back,
        so the answer never enters the student's process.
        """
        return Submission(self._session, self._functions, self._overrides | replacements, self.returned_none)

    @property
    def figures(self) -> tuple[PlottedFigure, ...]:
        """The figures the notebook drew, as plain data the grader read (see autograder.grader.figures)."""
        report = self._session.load_report
        return report.figures if report is not None else ()

    @property
    def last_call(self) -> CallOutcome | None:
        """Details of the latest call: ``mutated`` lists array arguments changed in place."""
        return self._session.last_call


class ProblemSet:
    """The assignment's ``problems.py``, imported in the grader: ``problems.bind("name", **data)``."""

    def __init__(self, source: str | None) -> None:
        self.module = types.ModuleType("problems")
        self.digest = hashlib.sha256((source or "").encode()).hexdigest()
        if source:
            exec(compile(source, "problems.py", "exec"), self.module.__dict__)

    def memo_key(self) -> str:
        """The problems as data (see :mod:`autograder.grader.once_per_process`): their source."""
        return self.digest

    def bind(self, name: str, **data: Any) -> WorkerFunction:
        """The problem function ``name`` with ``data`` bound, callable here and rebuilt in the worker."""
        function = getattr(self.module, name, None)
        if not callable(function):
            raise AttributeError(f"problems.py defines no function {name!r}")
        return WorkerFunction(name, data, partial(function, **data), self.digest)


class Feedback:
    """Plot data for this test's feedback page: plain numbers and short labels, no code.

    Record before asserting, so the plot is there when the test fails (that is when it helps)::

        feedback.loss_trace(student=losses, reference=expected_losses, label="gradient_descent, lr = 1/L")
        checks.assert_close(losses, expected_losses, "losses")

    Recording never fails or passes a test: student values that are not numbers are stored as gaps.
    An artifact with the title of an earlier one of the same test replaces it (a check retried with
    other helpers keeps the plot of its latest attempt).
    """

    def __init__(self) -> None:
        self._artifacts: list[dict[str, Any]] = []

    @property
    def artifacts(self) -> list[dict[str, Any]]:
        return artifacts.within_limits(self._artifacts)

    def loss_trace(self, *, student: Any, reference: Any = None, label: str = "loss per step",
                   student_label: str = "your function", reference_label: str = "reference solution",
                   log: bool = True) -> None:
        """The student's losses against the reference's on the same problem (log scale by default)."""
        series = [(student_label, student)] + ([(reference_label, reference)] if reference is not None else [])
        self._add(artifacts.lines, label, series, log_y=log)

    def gradient_errors(self, errors: Mapping[str, float], *, tolerance: float | None = None,
                        title: str = "gradient check: relative error per parameter block") -> None:
        """Relative errors per parameter block (``checks.check_gradient(..., errors=...)`` fills them)."""
        names = list(errors)
        self._add(artifacts.bars, title, names, [("relative error", [errors[n] for n in names])],
                  y_label="relative error", log_y=True, threshold=tolerance, threshold_label="tolerance")

    def traces(self, mislabelled: Sequence[tuple[str, Any]], *, total: int | None = None, log: bool = True,
               title: str = "traces your function labelled wrongly") -> None:
        """Loss traces, each with its own caption (``("expected 'good', got 'too_small'", losses)``)."""
        self._add(artifacts.panels, title, list(mislabelled), log_y=log, total=total)

    def values(self, title: str, *, student: Any, reference: Any = None, categories: Sequence[str] | None = None,
               log: bool = False, y_label: str = "", student_label: str = "yours",
               reference_label: str = "reference") -> None:
        """Values per category (one per restart, say), the student's next to the reference's."""
        series = [(student_label, student)] + ([(reference_label, reference)] if reference is not None else [])
        self._add(artifacts.bars, title, categories, series, y_label=y_label, log_y=log)

    def figure(self, plotted: PlottedFigure, *, title: str = "your figure, as the grader read it") -> None:
        """A figure the notebook drew (from ``submission.figures``), redrawn from its numbers on the page."""
        self._add(artifacts.figure, title, plotted)

    def snapshot(self) -> list[dict[str, Any]]:
        return list(self._artifacts)

    def restore(self, saved: list[dict[str, Any]]) -> None:
        """Go back to a snapshot: the plots then match the attempt whose failure is reported."""
        self._artifacts = list(saved)

    def _add(self, build: Callable[..., dict[str, Any]], title: str, *args: Any, **kwargs: Any) -> None:
        try:
            artifact = build(str(title), *args, **kwargs)
        except Exception:  # a plot must never change a grade; without its data the page just lacks it
            return
        self._artifacts = [a for a in self._artifacts if a.get("title") != artifact["title"]] + [artifact]
