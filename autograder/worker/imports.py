"""Which packages a notebook may import while it is graded: Python's standard library and the packages
its assignment declares (``packages`` in ``assignment.toml``).

An import written in the notebook of any other package fails at once with a message that names the
package and what is available, instead of whatever the worker's environment happens to hold. Imports
that the allowed packages make themselves (pandas importing dateutil, say) are not affected: the policy
applies to the import statements of the notebook's cells. It is a courtesy to students, not a wall:
the sandbox decides what a worker can reach.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from types import FrameType

# The notebook environment itself: otter's stand-in, IPython's display helpers.
ALWAYS_ALLOWED = frozenset({"otter", "IPython"})
_STUDENT_FILES = ("<cell", "<magic")
_getframe = sys._getframe  # bound before any student code (which could replace sys's attributes)
_stdlib = frozenset(sys.stdlib_module_names)


class PackageNotAvailable(ModuleNotFoundError):
    """An import of a package the assignment does not provide (an ImportError, so ``except ImportError`` works)."""


class ImportPolicy(importlib.abc.MetaPathFinder):
    """Refuses top-level imports, from the notebook's own code, of packages outside the allowed ones."""

    def __init__(self, packages: Sequence[str]) -> None:
        self.allowed = frozenset(packages) | ALWAYS_ALLOWED
        self.shown = ", ".join(sorted(packages)) or "no extra package"

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        name = fullname.partition(".")[0]
        if path is None and name not in self.allowed and name not in _stdlib and _imported_by_the_notebook():
            raise PackageNotAvailable(
                f"The package {name!r} is not available while your notebook is graded: this assignment allows "
                f"{self.shown} and Python's standard library. Remove the import, or ask your instructor.",
                name=fullname)
        return None  # not ours to find: the normal finders carry on


def _imported_by_the_notebook() -> bool:
    """Whether the import statement being run is in a notebook cell (not inside an allowed package)."""
    frame: FrameType | None = _getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not (filename.startswith("<frozen importlib") or "importlib" in filename):
            return filename.startswith(_STUDENT_FILES)
        frame = frame.f_back
    return False


def install(packages: Sequence[str]) -> ImportPolicy:
    policy = ImportPolicy(packages)
    sys.meta_path.insert(0, policy)
    return policy
