"""Notebook cells as plain Python, with the IPython syntax students use (runs inside the worker).

IPython's own input transformer rewrites ``%magic``, ``%%cell magic``, ``!shell`` and ``obj?`` into
calls on ``get_ipython()``. Instead of starting an IPython kernel (seconds per notebook), the worker
serves those calls with :class:`ShellShim`: harmless line magics run, shell escapes never do, and
each skipped command is noted so that the student sees what the grader did not run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

# Magics whose only effect is on the interactive display or on timing: the statement they wrap runs.
_DISPLAY_MAGICS = frozenset({
    "matplotlib", "config", "load_ext", "reload_ext", "autoreload", "aimport", "precision",
    "pinfo", "pinfo2", "pdoc", "psource", "who", "whos", "xmode", "pprint", "colors", "notebook",
    "pylab", "autosave", "env", "history", "lsmagic", "magic", "page", "reset_selective",
})
_TIMING_MAGICS = frozenset({"time", "timeit", "prun", "capture"})


def to_python(source: str) -> str:
    """Rewrite one cell's source into plain Python that calls ``get_ipython()`` for IPython syntax.

    IPython syntax is never valid Python, and IPython leaves valid Python as it is; so a cell that
    compiles is used unchanged, and only the others pay for importing IPython (about 60 ms).
    """
    try:
        compile(source, "<cell>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return _transformer().transform_cell(source)
    return source


@functools.cache
def _transformer() -> Any:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


class ShellShim:
    """The part of IPython's ``InteractiveShell`` that transformed cells call.

    ``run_code`` runs a statement in the notebook's namespace (used by ``%time x = f()``), and
    ``note`` records what was skipped, so the feedback can say "`!pip install` was not run".
    """

    def __init__(self, run_code: Callable[[str], Any], note: Callable[[str], None]) -> None:
        self._run_code = run_code
        self._note = note
        self.user_ns: dict[str, Any] = {}

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1) -> Any:
        name = name.lstrip("%")
        if name in _TIMING_MAGICS:
            return self._run_code(line) if line.strip() else None
        if name not in _DISPLAY_MAGICS:
            self._note(f"the magic %{name} is not run during grading")
        return None

    def run_cell_magic(self, name: str, line: str, cell: str) -> Any:
        if name in _TIMING_MAGICS:
            return self._run_code(to_python(cell))
        self._note(f"the cell magic %%{name} is not run during grading")
        return None

    def system(self, command: str) -> None:
        self._note(f"the shell command !{command} is not run during grading")

    def getoutput(self, command: str, split: bool = True, depth: int = 0) -> list[str]:
        self.system(command)
        return []

    def __getattr__(self, name: str) -> Any:
        # Any other shell method a notebook reaches for is a no-op, never a crash of the grader.
        return lambda *args, **kwargs: None
