"""Submission-independent reference work, computed once per grading process and reused.

A hidden suite computes many expected values from ``reference/`` on inputs the grader chose (the
reference's restarts of an XOR network, traces built from fixed seeds); they are the same for every
submission, so a grading process computes each once. Decorate the suite's builder, or wrap the
reference function where it is called::

    @remembered
    def good_traces(): ...

    expected = remembered(reference.random_restarts)(train_loss, train_grad, val_loss, init, 8, 0.5, 2000)

A result is reused only when it cannot differ from a fresh computation:

* every argument is plain data the key describes in full (numbers, strings, arrays by their bytes,
  lists, tuples, dicts, problem functions of ``problems.py`` by their name, data and source, the
  ``problems`` fixture by its source); anything else (a lambda, a recorder) means no caching;
* the call leaves its arguments as it found them (a ``cycling_init`` keeps a counter: not cached);
* the key also holds the defining file's text, so an edited suite or reference never meets an old result;
* callers get a deep copy, so a test changing what it got cannot change what the next one gets.

Exceptions are never cached. The store holds at most ``MAX_ENTRIES`` results, each from at most
``MAX_KEY_BYTES`` of arguments; it is forgotten when the grading process switches course.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

MAX_ENTRIES = 256
MAX_KEY_BYTES = 4 << 20

_store: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_lock = threading.Lock()  # Dask grades in threads: one store, changed by one thread at a time
_file_digests: dict[tuple[str, int, int], str] = {}  # (file, mtime, size) -> digest of its text

Result = TypeVar("Result")


class Unkeyable(Exception):
    """An argument the key cannot describe in full: the call is made, never cached."""


def remembered(function: Callable[..., Result]) -> Callable[..., Result]:
    """``function`` with its results reused across submissions (see the module's rules)."""
    identity = _identity(function)
    if not identity[0]:  # made without a file (exec): nothing would tell an edited version apart
        return function

    @functools.wraps(function)
    def cached(*args: Any, **kwargs: Any) -> Result:
        try:
            before = _key_of((args, kwargs))
        except Unkeyable:
            return function(*args, **kwargs)
        key = (identity, before)
        with _lock:
            found = _store.get(key, _MISSING)
            if found is not _MISSING:
                _store.move_to_end(key)
        if found is not _MISSING:
            return copy.deepcopy(found)
        result = function(*args, **kwargs)
        try:
            unchanged = _key_of((args, kwargs)) == before
        except Unkeyable:
            unchanged = False
        if unchanged and sum(len(part) for part in _flatten(before)) <= MAX_KEY_BYTES:
            kept = copy.deepcopy(result)
            with _lock:
                _store[key] = kept
                while len(_store) > MAX_ENTRIES:
                    _store.popitem(last=False)
        return result

    return cached


def forget() -> None:
    """Drop every stored result (the grading process now grades another course)."""
    with _lock:
        _store.clear()
        _file_digests.clear()


def stored() -> int:
    return len(_store)


_MISSING = object()


def _identity(function: Callable[..., Any]) -> tuple[str, str, str]:
    """The function's file (by its text), qualified name and module: a suite module is imported afresh
    for every submission, so its functions are new objects each time, but their identity is the same."""
    target = getattr(function, "__wrapped__", function)
    code = getattr(target, "__code__", None)
    filename = code.co_filename if code is not None else ""
    return (_file_digest(filename), getattr(target, "__qualname__", repr(target)), getattr(target, "__module__", ""))


def _file_digest(filename: str) -> str:
    try:
        status = os.stat(filename)
        stamp = (filename, status.st_mtime_ns, status.st_size)
        digest = _file_digests.get(stamp)
        if digest is None:
            digest = _file_digests[stamp] = hashlib.sha256(Path(filename).read_bytes()).hexdigest()
    except OSError:
        return ""
    return digest


def _key_of(value: Any, depth: int = 0) -> Any:
    """A hashable description of ``value`` that two values share only if they are the same data."""
    if depth > 20:
        raise Unkeyable("nested too deep")
    kind = type(value)
    if value is None or kind in (bool, int, float, str, bytes):
        # repr tells -0.0 from 0.0 and keeps NaN equal to itself; the type keeps 1 and 1.0 and True apart.
        return (kind.__name__, repr(value))
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise Unkeyable("an array of objects")
        return ("ndarray", value.dtype.str, value.shape, np.ascontiguousarray(value).tobytes())
    if isinstance(value, np.generic):
        return ("numpy scalar", value.dtype.str, value.tobytes())
    if kind in (list, tuple):
        return (kind.__name__, tuple(_key_of(item, depth + 1) for item in value))
    if kind is dict:
        return ("dict", tuple((_key_of(key, depth + 1), _key_of(item, depth + 1)) for key, item in value.items()))
    describe = getattr(value, "memo_key", None)
    if callable(describe):  # WorkerFunction and ProblemSet describe themselves (by problems.py's source)
        return (kind.__name__, _key_of(describe(), depth + 1))
    raise Unkeyable(kind.__name__)


def _flatten(key: Any) -> list[bytes | str]:
    """The byte and text parts of a key, to bound the size of what is stored."""
    if isinstance(key, bytes | str):
        return [key]
    if isinstance(key, tuple):
        return [part for item in key for part in _flatten(item)]
    return []
