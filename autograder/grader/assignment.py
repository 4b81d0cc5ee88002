"""Finding a course's assignments and reading their ``assignment.toml``.

A *course* is a folder holding ``assignments/`` and ``reference/``; it is course content, never part of
the installed engine, and workers never see it. Each assignment is a folder
``<course>/assignments/<slug>/`` holding:

* ``assignment.toml``: title, the graded functions in order, optional budgets;
* ``written.toml`` (optional): questions answered in words, with points and a rubric, graded by people;
* ``hidden_tests.py`` and ``public_tests.py``: pytest suites using the ``submission`` fixture;
* ``problems.py`` (optional): plain numpy problem functions that workers rebuild from data. It runs
  in the student's process, so it must hold no answer: a name like a graded function's is refused;
* ``student/<slug>.ipynb``: the notebook students get; ``source/<slug>.ipynb``: its otter source;
* ``mistakes.toml`` (optional): known mistakes that feedback names (:mod:`autograder.grader.mistakes`);
* ``solutions/correct/*.ipynb`` and ``solutions/buggy/*.ipynb``: notebooks that ``validate`` grades.

``reference/<module>.py`` holds the reference solutions the suites import (``from reference import
gradient_descent``). Grading needs only :data:`GRADING_FILES` and the reference modules the suites
import (:func:`grading_files`); solutions and source notebooks stay with the course's authors.

Nothing in the engine names an assignment: adding one means adding such a folder (and its reference
module under ``reference/``).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path

from autograder.grader.attempts import template_cells
from autograder.grader.mistakes import KnownMistake, MistakesError, load_mistakes
from autograder.grader.sandbox import Budgets
from autograder.grader.session import DEFAULT_PACKAGES
from autograder.grader.worker_view import keep_secret
from autograder.grader.written_answers.questions import WrittenError, WrittenQuestion, load_questions

COURSE_ENV = "AUTOGRADER_COURSE"
# What grading reads from an assignment's folder; everything else there (solutions, the source notebook)
# is for authors only and goes into no export.
# mistakes.toml names the mistakes feedback recognises (autograder.grader.mistakes).
GRADING_FILES = ("assignment.toml", "hidden_tests.py", "public_tests.py", "problems.py", "mistakes.toml")


class AssignmentError(Exception):
    """The assignment cannot be used; the message says what to fix."""


def course_root(explicit: Path | None = None) -> Path:
    """The course folder: the option, else $AUTOGRADER_COURSE, else the current folder."""
    if explicit is not None:
        root, origin = explicit, "the folder given"
    elif os.environ.get(COURSE_ENV):
        root, origin = Path(os.environ[COURSE_ENV]), f"${COURSE_ENV}"
    else:
        root, origin = Path.cwd(), "the current folder"
    if not (root / "assignments").is_dir():
        raise AssignmentError(
            f"{origin.capitalize()} ({root}) is not a course folder: it has no assignments/ folder. Run the "
            f"command in the folder that holds assignments/ and reference/, or pass --course DIR (or set "
            f"{COURSE_ENV}).")
    return root.resolve()


def available_slugs(course: Path) -> list[str]:
    return sorted(p.parent.name for p in (course / "assignments").glob("*/assignment.toml"))


@dataclass(frozen=True)
class Assignment:
    slug: str
    course: Path  # the course folder (assignments/ and reference/)
    title: str
    functions: tuple[str, ...]
    budgets: Budgets
    # Sentences of the student notebook that state no behaviour, so no test enforces them (traceability).
    not_behaviour: tuple[str, ...] = ()
    packages: tuple[str, ...] = DEFAULT_PACKAGES  # what notebooks may import besides the standard library
    # Questions answered in words and graded by people (written.toml; autograder.grader.written_answers.questions).
    written: tuple[WrittenQuestion, ...] = ()

    @property
    def folder(self) -> Path:
        return self.course / "assignments" / self.slug

    @property
    def hidden_suite(self) -> Path:
        return self.folder / "hidden_tests.py"

    def require_hidden_suite(self) -> None:
        """Grading needs the hidden suite; a student's copy of the course has only the public checks."""
        if not self.hidden_suite.is_file():
            raise AssignmentError(f"{self.folder} has no hidden_tests.py: this copy of the course holds only the "
                                  "public checks, so it can check notebooks (`autograder check`) but not grade them.")

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

    @property
    def mistakes_file(self) -> Path:
        return self.folder / "mistakes.toml"

    @cached_property
    def mistakes(self) -> tuple[KnownMistake, ...]:
        """The known mistakes feedback names (mistakes.toml), none when the assignment has no such file."""
        try:
            return load_mistakes(self.mistakes_file)
        except MistakesError as error:
            raise AssignmentError(str(error)) from None

    @cached_property
    def template_cells(self) -> frozenset[str]:
        """The student notebook's code cells, to tell an untouched notebook from an attempt."""
        return template_cells(self.student_notebook)

    @cached_property
    def suite_version(self) -> str:
        """A hash of everything that decides a grade, so a changed suite re-grades old submissions."""
        digest = hashlib.sha256()
        engine = Path(__file__).resolve().parents[1]
        paths = [*(path for _, path in grading_files(self)), *sorted(engine.rglob("*.py"))]
        for path in paths:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:16]


def grading_files(assignment: Assignment) -> list[tuple[str, Path]]:
    """What grading ``assignment`` reads, as (path relative to the course, file): its :data:`GRADING_FILES`, the
    student notebook handed out and the modules of ``reference/`` its suites and those modules import."""
    files = [(f"assignments/{assignment.slug}/{name}", assignment.folder / name)
             for name in GRADING_FILES if (assignment.folder / name).is_file()]
    if assignment.student_notebook.is_file():  # the handed-out template, to tell an untouched notebook (public)
        files.append((f"assignments/{assignment.slug}/student/{assignment.slug}.ipynb", assignment.student_notebook))
    reference = assignment.course / "reference"
    wanted = [path for _, path in files if path.suffix == ".py"]
    seen: set[str] = set()
    while wanted:
        for module in _reference_imports(wanted.pop()):
            path = reference / f"{module}.py"
            if module not in seen and path.is_file():
                seen.add(module)
                wanted.append(path)
    if seen and (reference / "__init__.py").is_file():
        seen.add("__init__")
    return files + [(f"reference/{module}.py", reference / f"{module}.py") for module in sorted(seen)]


def _reference_imports(path: Path) -> set[str]:
    """Modules of ``reference`` that ``path`` imports (``from reference import x``, ``import reference.x``,
    and within reference/ itself, relative imports)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, OSError, UnicodeDecodeError):
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.module == "reference" or (node.level == 1 and node.module is None):
                found |= {alias.name for alias in node.names}
            elif node.module and node.module.startswith("reference."):
                found.add(node.module.split(".")[1])
            elif node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("reference.")}
    return found


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


def load_assignment(slug: str, course: Path | None = None) -> Assignment:
    course = course_root(course)
    keep_secret(course / "assignments", course / "reference")  # before any worker of this course starts
    folder = course / "assignments" / slug
    config_path = folder / "assignment.toml"
    if not config_path.exists():
        known = ", ".join(available_slugs(course)) or "none"
        raise AssignmentError(f"There is no assignment {slug!r} in {course / 'assignments'} (available: {known}).")
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
    packages = config.get("packages", list(DEFAULT_PACKAGES))
    if not (isinstance(packages, list) and all(isinstance(name, str) for name in packages)):
        raise AssignmentError(f"{config_path}: packages must list import names, e.g. [\"numpy\", \"scipy\"]")
    missing = [name for name in packages if importlib.util.find_spec(name) is None]
    if missing:
        raise AssignmentError(f"{config_path} lets students import {', '.join(missing)}, which this machine does not "
                              f"have; install them with the grader (pip install {' '.join(missing)}) so that workers "
                              "can import them.")
    not_behaviour = config.get("traceability", {}).get("not_behaviour", [])
    if not (isinstance(not_behaviour, list) and all(isinstance(quote, str) for quote in not_behaviour)):
        raise AssignmentError(f"{config_path}: [traceability] not_behaviour must be a list of quotes of the student "
                              "notebook")
    try:
        written = load_questions(folder)
    except WrittenError as error:
        raise AssignmentError(str(error)) from None
    return Assignment(slug=slug, course=course, title=str(config.get("title", slug)),
                      functions=tuple(functions), budgets=Budgets(**budgets_config),
                      not_behaviour=tuple(not_behaviour), packages=tuple(packages), written=written)
