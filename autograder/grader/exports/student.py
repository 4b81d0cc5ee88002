"""What students get: ``autograder export student SLUG -o DIR`` writes a folder to hand out or to use as
a GitHub Classroom template repository.

* ``<slug>.ipynb``: the student notebook;
* ``.github/workflows/autograder.yml``: runs the public checks on every push;
* ``.autograder/``: a wheel of the engine and a student's copy of the course, which holds only
  :data:`STUDENT_FILES` of the assignment (its public checks, its public problems, its configuration).

No hidden suite, reference module, source notebook or example solution is ever in it; the workflow
installs from the folder itself, never from the course's repository.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from autograder.grader.assignment import Assignment
from autograder.grader.exports.wheel import build_wheel

# The files of an assignment a student may have: nothing here computes an answer.
STUDENT_FILES = ("assignment.toml", "public_tests.py", "problems.py")
WORKFLOW = Path(".github") / "workflows" / "autograder.yml"


class StudentExportError(Exception):
    """The student folder cannot be written; the message says what to do."""


def build_student_bundle(assignment: Assignment, destination: Path) -> list[Path]:
    """Write the student folder for ``assignment`` into ``destination``; returns the files written."""
    if destination.exists() and any(destination.iterdir()):
        raise StudentExportError(f"{destination} is not empty; give a new folder so that nothing else ends up "
                                 "in what students get.")
    if not assignment.student_notebook.is_file():
        raise StudentExportError(f"{assignment.student_notebook} does not exist; build it with "
                                 "`autograder build-notebooks`.")
    notebook = f"{assignment.slug}.ipynb"
    support = destination / ".autograder"
    course = support / "course" / "assignments" / assignment.slug
    course.mkdir(parents=True)
    shutil.copyfile(assignment.student_notebook, destination / notebook)
    for name in STUDENT_FILES:
        if (assignment.folder / name).is_file():
            shutil.copyfile(assignment.folder / name, course / name)
    build_wheel(support)
    template = resources.files("autograder.grader.exports").joinpath("templates/classroom-workflow.yml")
    workflow = destination / WORKFLOW
    workflow.parent.mkdir(parents=True)
    workflow.write_text(template.read_text(encoding="utf-8").replace("{slug}", assignment.slug)
                        .replace("{notebook}", notebook), encoding="utf-8")
    return sorted(path for path in destination.rglob("*") if path.is_file())
