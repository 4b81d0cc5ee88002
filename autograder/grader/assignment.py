"""Finding an assignment and reading its ``assignment.toml``.

An assignment is a folder ``<assignments>/<slug>/`` holding:

* ``assignment.toml``: title, the graded functions in order, optional budgets;
* ``hidden_tests.py`` and ``public_tests.py``: pytest suites using the ``submission`` fixture;
* ``problems.py`` (optional): plain numpy problem functions that workers rebuild from data. It runs
  in the student's process, so it must hold no answer: a name like a graded function's is refused;
* ``student/<slug>.ipynb``: the notebook students get; ``source/<slug>.ipynb``: its otter source;
* ``solutions/correct/*.ipynb`` and ``solutions/buggy/*.ipynb``: notebooks that ``validate`` grades.

Nothing in the engine names an assignment: adding one means adding such a folder (and its reference
module under ``reference/``).
"""

from __future__ import annotations

import ast
import hashlib
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path

from autograder.grader.sandbox import Budgets

ASSIGNMENTS_ENV = "AUTOGRADER_ASSIGNMENTS"


class AssignmentError(Exception):
    """The assignment cannot be used; the message says what to fix."""


def assignments_root(explicit: Path | None = None) -> Path:
    """The folder of assignments: the option, else $AUTOGRADER_ASSIGNMENTS, else the bundled ones."""
    if explicit is not None:
        return explicit
    if os.environ.get(ASSIGNMENTS_ENV):
        return Path(os.environ[ASSIGNMENTS_ENV])
    import assignments

    return Path(assignments.__file__).parent


def available_slugs(root: Path) -> list[str]:
    return sorted(p.parent.name for p in root.glob("*/assignment.toml"))


@dataclass(frozen=True)
class Assignment:
    slug: str
    folder: Path
    title: str
    functions: tuple[str, ...]
    budgets: Budgets

    @property
    def hidden_suite(self) -> Path:
        return self.folder / "hidden_tests.py"

    @property
    def public_suite(self) -> Path:
        return self.folder / "public_tests.py"

    @property
    def student_notebook(self) -> Path:
        return self.folder / "student" / f"{self.slug}.ipynb"

    @property
    def source_notebook(self) -> Path:
        return self.folder / "source" / f"{self.slug}.ipynb"

    @cached_property
    def problems_source(self) -> str | None:
        path = self.folder / "problems.py"
        return path.read_text(encoding="utf-8") if path.exists() else None

    @cached_property
    def suite_version(self) -> str:
        """A hash of everything that decides a grade, so a changed suite re-grades old submissions."""
        digest = hashlib.sha256()
        reference = self.folder.parent.parent / "reference"
        paths = [self.folder / "assignment.toml", self.hidden_suite, self.folder / "problems.py",
                 *sorted(reference.glob("*.py")), *sorted(Path(__file__).resolve().parents[1].rglob("*.py"))]
        for path in paths:
            if path.exists():
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:16]


def names_like_graded_functions(problems_source: str, functions: Iterable[str]) -> dict[str, str]:
    """Top-level names in ``problems_source`` that look like an answer, each with its graded function.

    A name matches a graded function when, ignoring case and underscores at either end, it equals
    it or holds all its words in a row (``sigmoid``, ``_sigmoid``, ``stable_sigmoid`` and
    ``sigmoid_v2`` all match ``sigmoid``). Functions, classes, assignments and imports all count.
    """
    tree = ast.parse(problems_source, filename="problems.py")
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names += [name for alias in node.names for name in (alias.name.split(".")[-1], alias.asname) if name]
    graded = {function: function.strip("_").lower().split("_") for function in functions}
    found = {}
    for name in names:
        words = name.strip("_").lower().split("_")
        alike = [function for function, parts in graded.items()
                 if any(words[i:i + len(parts)] == parts for i in range(len(words) - len(parts) + 1))]
        if alike:  # the graded function it names exactly, else the first it contains
            found[name] = next((f for f in alike if graded[f] == words), alike[0])
    return found


def load_assignment(slug: str, root: Path | None = None) -> Assignment:
    root = assignments_root(root)
    folder = root / slug
    config_path = folder / "assignment.toml"
    if not config_path.exists():
        known = ", ".join(available_slugs(root)) or "none"
        raise AssignmentError(f"There is no assignment {slug!r} in {root} (available: {known}).")
    try:
        config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise AssignmentError(f"{config_path} is not valid TOML: {error}") from None
    functions = config.get("functions")
    if not (isinstance(functions, list) and functions and all(isinstance(f, str) for f in functions)):
        raise AssignmentError(f"{config_path} must list the graded functions: functions = [\"name\", ...]")
    budget_fields = {f.name for f in fields(Budgets)}
    budgets_config = config.get("budgets", {})
    unknown = set(budgets_config) - budget_fields
    if unknown:
        raise AssignmentError(f"{config_path} has unknown budgets {sorted(unknown)}; "
                              f"known: {sorted(budget_fields)}")
    if not (folder / "hidden_tests.py").exists():
        raise AssignmentError(f"{folder} has no hidden_tests.py.")
    problems_path = folder / "problems.py"
    if problems_path.exists():
        try:
            leaked = names_like_graded_functions(problems_path.read_text(encoding="utf-8"), functions)
        except SyntaxError as error:
            raise AssignmentError(f"{problems_path} is not valid Python: {error}") from None
        if leaked:
            named = ", ".join(name + (" (a graded function)" if name == function else f" (named like {function})")
                              for name, function in leaked.items())
            raise AssignmentError(
                f"{problems_path} defines {named}, but problems.py runs in the student's process and must never "
                "hold an answer: keep the reference in reference/ and swap it in from the hidden suite as a "
                "grader-side callable, e.g. submission.with_reference(sigmoid=reference.sigmoid), which the "
                "worker calls back.")
    return Assignment(slug=slug, folder=folder, title=str(config.get("title", slug)),
                      functions=tuple(functions), budgets=Budgets(**budgets_config))
