"""What a worker may read: the folders its Python needs, minus everything the grader keeps secret.

The reading list comes from the worker's own interpreter (``python -I`` prints its ``sys.path``),
not from the grader's, whose path also holds the current folder and test roots. Course content
(``reference/`` and ``assignments/`` of every course this process loaded, see :func:`keep_secret`) is
never installed where Python looks, but should a course sit inside one of those folders, it is cut
out: bubblewrap covers it with an empty tmpfs; Landlock, which can only allow, gets the folder split
around it, with rules on real directories only (a rule on a symlink such as a venv's ``lib64 -> lib``
would open its whole target).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Shared libraries, the dynamic loader's cache and time zones: what any Python on Linux reads.
SYSTEM_READ_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc/ld.so.cache", "/etc/localtime")
# Devices a worker reads: no /dev/shm, where other processes' shared memory lives.
DEVICE_READ_PATHS = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
_secrets: set[str] = set()


def keep_secret(*folders: Path) -> None:
    """Never let a worker of this process read ``folders`` (a course's ``assignments/`` and ``reference/``)."""
    _secrets.update(os.path.realpath(folder) for folder in folders)


@dataclass(frozen=True)
class WorkerView:
    read_paths: tuple[str, ...]  # folders (outermost only) the worker's Python needs, as real paths
    hidden: tuple[str, ...]  # secret folders inside those read paths

    def split(self) -> list[str]:
        """The read paths with the hidden folders cut out (for allow-only mechanisms like Landlock)."""
        return split_around(self.read_paths, self.hidden)

    def landlock_reads(self) -> list[str]:
        """Everything a worker may read, for Landlock: real paths only (a rule follows a link to all of
        its target, so /lib -> usr/lib is given as /usr/lib), hidden folders cut out, a few devices."""
        system = (os.path.realpath(path) for path in SYSTEM_READ_PATHS if os.path.exists(path))
        return split_around(outermost([*self.read_paths, *system]), self.hidden) + [
            path for path in DEVICE_READ_PATHS if os.path.exists(path)]


def worker_view() -> WorkerView:
    """What a worker started now may read: changes when a course is loaded inside a read path."""
    read_paths = _read_paths()
    hidden = sorted(s for s in _secrets if any(_inside(s, r) for r in read_paths))
    return WorkerView(read_paths, tuple(hidden))


@functools.cache
def _read_paths() -> tuple[str, ...]:
    paths = {*_interpreter_paths(), str(Path(__file__).resolve().parents[1])}  # the autograder package
    return tuple(outermost(os.path.realpath(p) for p in paths if os.path.exists(p)))


def _interpreter_paths() -> list[str]:
    """``sys.path`` and prefixes of ``python -I`` as the worker starts it (the venv, not the grader's cwd)."""
    script = "import json, sys; print(json.dumps([*sys.path, sys.prefix, sys.base_prefix, sys.exec_prefix]))"
    try:
        output = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, check=True,
                                timeout=60, cwd="/").stdout
        entries = json.loads(output)
    except (OSError, subprocess.SubprocessError, ValueError):
        entries = [*sys.path[1:], sys.prefix, sys.base_prefix, sys.exec_prefix]
    entries.append(os.path.dirname(os.path.realpath(sys.executable)))
    return [e for e in entries if e and os.path.isabs(e)]


def outermost(paths: Iterable[str]) -> list[str]:
    """Drop every path that lies inside another one of the list."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(_inside(path, k) for k in kept):
            kept.append(path)
    return sorted(kept)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def split_around(read_paths: Iterable[str], hidden: Iterable[str]) -> list[str]:
    """Replace each read path that contains a hidden folder by its entries, recursively, minus the hidden.

    Entries that are symbolic links are left out: Landlock opens a rule's path following links, so a
    rule on ``venv/lib64 -> lib`` would allow all of ``lib``, hidden folder included. A link's target is
    readable only if it is a read path or lies in one under its own name.
    """
    hidden = list(hidden)
    result: list[str] = []
    for path in read_paths:
        inner = [h for h in hidden if _inside(h, path)]
        if not inner:
            result.append(path)
        elif path not in inner and os.path.isdir(path) and not os.path.islink(path):
            children = sorted(os.path.join(path, name) for name in os.listdir(path))
            result.extend(split_around([c for c in children if not os.path.islink(c)], inner))
    return result
