"""The worker: runs one student's notebook and serves calls to the functions it defines.

This module runs in the untrusted process. It never sees hidden tests, reference solutions or
scores: it receives the notebook's code cells, the assignment's public problem functions, and call
requests, all as plain data over :mod:`autograder.worker.wire`. Anything it sends back is re-checked by the
grader, so nothing here needs to be trusted; it only needs to be convenient and fast.

Forked by :mod:`autograder.worker.zygote` for each submission, already confined.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import inspect
import io
import linecache
import os
import sys
import traceback
import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from autograder.worker import imports, wire
from autograder.worker.cells import ShellShim, to_python
from autograder.worker.figures import FigureRecorder


class CappedText(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters written to it and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._parts: list[str] = []
        self._kept = 0
        self._dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: Any) -> int:
        text = str(text)
        room = self.limit - self._kept
        if room > 0:
            self._parts.append(text[:room])
            self._kept += min(room, len(text))
        self._dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def take(self) -> str:
        """Return what was kept (with a note of what was dropped) and start afresh."""
        text = "".join(self._parts)
        if self._dropped:
            text += f"\n[... {self._dropped:,} more characters of output not kept]"
        self._parts, self._kept, self._dropped = [], 0, 0
        return text


def _otter_stand_in() -> types.ModuleType:
    """A stand-in for otter-grader, so notebooks made by ``otter assign`` run without it.

    Public checks in a notebook are for the student's own use; during grading the hidden suite
    decides, so ``grader.check(...)`` does nothing here (and importing real otter would cost a second).
    """
    module = types.ModuleType("otter")

    class Notebook:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def __getattr__(self, name: str) -> Callable[..., None]:
            return lambda *args, **kwargs: None

    module.Notebook = Notebook  # type: ignore[attr-defined]
    return module


def _checks_stand_in() -> types.ModuleType:
    """A stand-in for the student runtime (``from autograder.student import Notebook``): while a notebook
    is graded its ``grader.check(...)`` cells do nothing (the real one would look for the public checks)."""
    module = types.ModuleType("autograder.student")
    module.Notebook = _otter_stand_in().Notebook  # type: ignore[attr-defined]
    return module


def install_stand_ins() -> None:
    """Make ``import otter`` and ``from autograder.student import Notebook`` give the stand-ins above in
    this process, so a notebook's set-up cell runs during grading without either."""
    sys.modules["otter"] = _otter_stand_in()
    sys.modules["autograder.student"] = _checks_stand_in()


class GraderCallback:
    """A function that lives in the grader; calling it asks the grader over the channel.

    It works only during the call that received it: a student who keeps it and calls it later gets
    a clear error instead of reaching the grader at an unexpected time.
    """

    __slots__ = ("_generation", "_id", "_server")

    def __init__(self, server: WorkerServer, callback_id: int, generation: int) -> None:
        self._server = server
        self._id = callback_id
        self._generation = generation

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._server.call_grader(self._id, self._generation, args, kwargs)

    def __repr__(self) -> str:
        return "<function provided by the grader>"


def student_traceback(error: BaseException) -> str:
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if frame.filename.startswith("<cell") or frame.filename.startswith("<magic")]
    lines = traceback.format_list(frames[-6:])
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines)[-4000:]


def describe_error(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return f"SystemExit: the code called sys.exit({error.code!r}) or exit()"
    text = str(error)
    return f"{type(error).__name__}: {text}"[:2000] if text else type(error).__name__


class WorkerServer:
    """Executes the notebook, then answers call requests until the grader says exit."""

    def __init__(self, channel: wire.Channel) -> None:
        self.channel = channel
        self.stdout = CappedText(20_000)
        self.notes: list[str] = []
        self.problems = types.ModuleType("problems")
        self.generation = 0
        self.sent: frozenset[str] = frozenset()  # fingerprints of the grader's arrays in the current call
        self.shell = ShellShim(self._run_magic_code, self.notes.append)
        self.namespace: dict[str, Any] = {
            "__name__": "__main__", "__builtins__": builtins, "get_ipython": lambda: self.shell,
        }
        self.shell.user_ns = self.namespace
        self.figures = FigureRecorder()

    # ------------------------------------------------------------------------------------ plumbing
    def send(self, op: str, data: Any) -> None:
        self.channel.send(wire.encode(op, data))

    def receive(self) -> tuple[str, Any]:
        return self.channel.receive(decode_tag=self._decode_tag)

    def _decode_tag(self, tag: str, inner: Any, decode: Callable[[Any], Any]) -> Any:
        if tag == "$callback" and type(inner) is int:
            return GraderCallback(self, inner, self.generation)
        if tag == "$function" and isinstance(inner, list) and len(inner) == 2:
            name, kwargs = inner[0], decode(inner[1])
            function = getattr(self.problems, str(name), None)
            if not callable(function):
                raise wire.ProtocolError(f"the assignment has no problem function {name!r}")
            return functools.partial(function, **kwargs)
        raise wire.ProtocolError(f"unknown tag {tag!r}")

    # ----------------------------------------------------------------------------------- notebook
    def _run_magic_code(self, source: str) -> None:
        exec(compile(source, "<magic>", "exec"), self.namespace)

    def load(self, cells: list[list[Any]], problems_source: str | None, packages: list[str]) -> None:
        if problems_source:
            exec(compile(problems_source, "<problems>", "exec"), self.problems.__dict__)
        install_stand_ins()
        imports.install([str(name) for name in packages])
        self.figures.watch_show()
        reports = []
        for index, source in cells:
            self.send("cell", index)
            reports.append(self._run_cell(int(index), str(source)))
        self._send_figures()
        functions = sorted(name for name, value in self.namespace.items()
                           if not name.startswith("_") and name != "get_ipython"
                           and callable(value) and not isinstance(value, type))
        self.send("loaded", {"cells": reports, "functions": functions})

    def _run_cell(self, index: int, source: str) -> dict[str, Any]:
        filename = f"<cell {index}>"
        self.notes.clear()
        error = None
        sys.stdout = sys.stderr = self.stdout
        try:
            python = to_python(source)
            linecache.cache[filename] = (len(python), None, python.splitlines(True), filename)
            exec(compile(python, filename, "exec"), self.namespace)
        except BaseException as caught:  # a failing cell is recorded and the next cell still runs
            error = student_traceback(caught)
        finally:
            # What the cell drew, as the inline backend would show it (even when the cell raised later).
            self.figures.capture_open()
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        return {"index": index, "error": error, "stdout": self.stdout.take(), "notes": list(self.notes)}

    def _send_figures(self) -> None:
        """The figures as plain data, before the load report; none if they cannot be sent (then the
        grader sees a notebook that drew nothing, and a plot check fails with its own message)."""
        try:
            frame = wire.encode("figures", {"figures": self.figures.data(), "dropped": self.figures.dropped})
        except wire.EncodeError:
            frame = wire.encode("figures", {"figures": [], "dropped": 0})
        self.channel.send(frame)

    # -------------------------------------------------------------------------------------- calls
    def call(self, name: str, args: list[Any], kwargs: dict[str, Any], overrides: dict[str, Any]) -> None:
        function = self.namespace.get(name)
        if not callable(function):
            self.send("missing", name)
            return
        watched = array_arguments(function, args, kwargs)
        saved = {key: self.namespace.get(key, _ABSENT) for key in overrides}
        self.namespace.update(overrides)
        sys.stdout = sys.stderr = self.stdout
        # Warnings the call raises are recorded, not printed: a notebook may be asked not to warn. Entering
        # the block also resets "warn once per place", so a warning an earlier call gave is seen again.
        with _catch_warnings(record=True) as caught_warnings:
            try:
                value = function(*args, **kwargs)
            except BaseException as caught:
                self._finish_call(saved)
                self.send("raise", {"message": describe_error(caught), "traceback": student_traceback(caught),
                                    "stdout": self.stdout.take()})
                return
        self._finish_call(saved)
        # What each array argument holds now, as a digest: the grader compares it with what it sent.
        arguments = [[key, label, wire.fingerprint(array)] for key, label, array in watched]
        stdout = self.stdout.take()
        warned = [f"{item.category.__name__}: {item.message}"[:300] for item in caught_warnings[:_MAX_WARNINGS]]
        try:
            self.channel.send(wire.encode("return", {"value": value, "arguments": arguments, "stdout": stdout,
                                                     "warnings": warned}, sent=self.sent))
        except wire.EncodeError as error:
            self.send("unsendable", {"message": str(error), "stdout": stdout})

    def _finish_call(self, saved: dict[str, Any]) -> None:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        self.generation += 1  # callbacks handed out during this call stop working
        for key, value in saved.items():
            if value is _ABSENT:
                self.namespace.pop(key, None)
            else:
                self.namespace[key] = value

    def call_grader(self, callback_id: int, generation: int, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
        if generation != self.generation:
            raise RuntimeError("this function was provided by the grader for an earlier call and "
                               "can no longer be used; call the function you were given in this call")
        try:
            frame = wire.encode("callback", [callback_id, list(args), kwargs], sent=self.sent)
        except wire.EncodeError as error:
            raise TypeError(f"the arguments cannot be passed to the grader's function: {error}") from None
        self.channel.send(frame)
        op, data = self.receive()
        if op == "callback_return":
            return data
        if op == "callback_error":
            raise RuntimeError(str(data))
        raise wire.ProtocolError(f"expected a callback answer, got {op!r}")

    # --------------------------------------------------------------------------------------- loop
    def serve(self) -> None:
        while True:
            op, data = self.receive()
            if op == "load":
                self.load(data["cells"], data.get("problems"), data.get("packages") or [])
            elif op == "call":
                named = data.get("sent")
                self.sent = frozenset(item for item in named if _isinstance(item, _str)) if _isinstance(
                    named, _list) else frozenset()
                self.call(data["name"], data["args"], data["kwargs"], data["overrides"])
            elif op == "exit":
                return
            else:
                raise wire.ProtocolError(f"unknown request {op!r}")


_ABSENT = object()
# Bound before any student code runs: cells may reassign inspect.signature, numpy's or builtins'
# attributes, and the harness must not see the change.
_signature = inspect.signature
_catch_warnings = warnings.catch_warnings
_MAX_WARNINGS = 20
_ndarray = np.ndarray
_isinstance, _len, _list, _str, _enumerate = isinstance, len, list, str, enumerate


def array_arguments(function: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]
                     ) -> list[tuple[int | str, str, np.ndarray]]:
    """The array arguments of a call: (position or keyword, parameter name for messages, the array)."""
    names = _parameter_names(function)
    found: list[tuple[int | str, str, np.ndarray]] = []
    for position, value in _enumerate(args):
        if _isinstance(value, _ndarray):
            label = names[position] if position < _len(names) else f"argument {position + 1}"
            found.append((position, _str(label), value))
    for key, value in kwargs.items():
        if _isinstance(value, _ndarray):
            found.append((key, key, value))
    return found


def _parameter_names(function: Callable[..., Any]) -> list[str]:
    """The function's parameter names. inspect.signature costs tens of microseconds and a test calls the same
    function hundreds of times: kept per plain function while its code object stays the same."""
    if _type(function) is _FunctionType:
        code = function.__code__
        kept = _signature_names.get(function)
        if kept is not None and kept[0] is code:
            return kept[1]
    try:
        names = _list(_signature(function).parameters)
    except (TypeError, ValueError):
        names = []
    if _type(function) is _FunctionType:
        if _len(_signature_names) > 256:
            _signature_names.clear()
        _signature_names[function] = (function.__code__, names)
    return names


_FunctionType, _type = types.FunctionType, type
_signature_names: dict[Callable[..., Any], tuple[types.CodeType, list[str]]] = {}


def serve(read_fd: int, write_fd: int) -> None:
    """Tell the grader this (confined) worker is ready, then serve it until it says exit; never returns.

    "ready" is the first frame, sent before any student code: a worker that ends before sending it
    failed in its set-up (the grader's fault); one that ends after it was ended by student code.
    """
    server = WorkerServer(wire.Channel(read_fd, write_fd, nonblocking=False))
    with contextlib.suppress(wire.ChannelClosed):  # the grader went away: nothing left to do
        server.send("ready", None)
        server.serve()
    os._exit(0)  # skip atexit handlers a notebook may have registered
