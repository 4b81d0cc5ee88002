"""Finding an assignment and reading its ``assignment.toml``.

An assignment is a folder ``<assignments>/<slug>/`` holding:

* ``assignment.toml``: title, the graded functions in order, optional budgets;
* ``hidden_tests.py`` and ``public_tests.py``: pytest suites using the ``submission`` fixture;
* ``problems.py`` (optional): plain numpy problem functions that workers rebuild from data;
* ``student/<slug>.ipynb``: the notebook students get; ``source/<slug>.ipynb``: its otter source;
* ``solutions/correct/*.ipynb`` and ``solutions/buggy/*.ipynb``: notebooks that ``validate`` grades.

Nothing in the engine names an assignment: adding one means adding such a folder (and its reference
module under ``reference/``).
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path

from autograder.sandbox import Budgets

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
                 *sorted(reference.glob("*.py")), *sorted((Path(__file__).parent).glob("*.py"))]
        for path in paths:
            if path.exists():
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:16]


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
    return Assignment(slug=slug, folder=folder, title=str(config.get("title", slug)),
                      functions=tuple(functions), budgets=Budgets(**budgets_config))
