"""What a worker may read: the folders its Python needs, minus everything the grader keeps secret.

The reading list comes from the worker's own interpreter (``python -I`` prints its ``sys.path``),
not from the grader's, whose path also holds the current folder and test roots. Secret folders
(``reference/``, the assignments with their hidden suites) are cut out of it: bubblewrap covers them
with empty tmpfs mounts; Landlock, which can only allow, gets the folder split around them.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Shared libraries, the dynamic loader's cache and time zones: what any Python on Linux reads.
SYSTEM_READ_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc/ld.so.cache", "/etc/localtime")
TRUSTED_PACKAGES = ("reference", "assignments")


@dataclass(frozen=True)
class WorkerView:
    read_paths: tuple[str, ...]  # folders (outermost only) the worker's Python needs, as real paths
    hidden: tuple[str, ...]  # secret folders inside those read paths

    def split(self) -> list[str]:
        """The read paths with the hidden folders cut out (for allow-only mechanisms like Landlock)."""
        return split_around(self.read_paths, self.hidden)


@functools.cache
def worker_view(extra_hidden: tuple[str, ...] = ()) -> WorkerView:
    paths = {*_interpreter_paths(), str(Path(__file__).resolve().parents[1])}  # the autograder package
    read_paths = outermost(os.path.realpath(p) for p in paths if os.path.exists(p))
    secrets = {*trusted_package_folders(), *(os.path.realpath(p) for p in extra_hidden)}
    hidden = sorted(s for s in secrets if any(_inside(s, r) for r in read_paths))
    return WorkerView(tuple(read_paths), tuple(hidden))


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


def trusted_package_folders() -> list[str]:
    folders = []
    for name in TRUSTED_PACKAGES:
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            folders.append(os.path.realpath(location))
    return folders


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
    """Replace each read path that contains a hidden folder by its entries, recursively, minus the hidden."""
    hidden = list(hidden)
    result: list[str] = []
    for path in read_paths:
        inner = [h for h in hidden if _inside(h, path)]
        if not inner:
            result.append(path)
        elif path not in inner and os.path.isdir(path):
            children = sorted(os.path.join(path, name) for name in os.listdir(path))
            result.extend(split_around(children, inner))
    return result
