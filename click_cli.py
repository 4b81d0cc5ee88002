"""The ``autograder`` command: grade a batch, check one notebook, validate an assignment."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from autograder.assignment import AssignmentError, assignments_root, available_slugs, load_assignment
from autograder.batch import BatchError, SubmissionFile, discover, grade_batch
from autograder.results import SubmissionResult
from autograder.suite import SuiteError

ASSIGNMENTS_DIR = click.option(
    "--assignments-dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
    envvar="AUTOGRADER_ASSIGNMENTS", default=None,
    help="Folder holding assignment folders (default: the bundled assignments).")


class GraderFault(click.ClickException):
    """A fault of the grader or its configuration (not of a student): exit status 1."""


def _assignment(slug: str, root: Path | None):
    try:
        return load_assignment(slug, root)
    except AssignmentError as error:
        raise click.UsageError(str(error)) from None


@click.group()
@click.version_option(package_name="gd-autograder")
def main() -> None:
    """Grade Jupyter-notebook assignments on gradient descent.

    Student code runs in a separate worker process per submission; hidden tests, reference
    solutions and scores stay in this process.

    \b
    Examples:
      autograder grade --assignment gradient-descent --out grading submissions/
      autograder check --assignment gradient-descent my-notebook.ipynb
      autograder validate gradient-descent
    """


@main.command()
@click.option("--assignment", "slug", required=True, help="Assignment slug, e.g. gradient-descent.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: grades.csv, results/<id>.json, gradebook.sqlite.")
@click.option("--regrade", is_flag=True, help="Grade again even submissions whose stored result is current.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@ASSIGNMENTS_DIR
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def grade(slug: str, out: Path, regrade: bool, quiet: bool, assignments_dir: Path | None,
          paths: tuple[Path, ...]) -> None:
    """Grade notebooks with the hidden suite and write grades.csv and results/<id>.json.

    PATHS are notebooks or folders searched recursively for *.ipynb. A submission's id is its path
    relative to the folder given, without .ipynb (a notebook given directly: its file stem).
    Re-running with the same --out grades only new or changed submissions.

    \b
    Example:
      autograder grade --assignment gradient-descent --out grading submissions/
    """
    assignment = _assignment(slug, assignments_dir)
    try:
        submissions = discover(paths)
    except BatchError as error:
        raise click.UsageError(str(error)) from None
    if not submissions:
        raise click.UsageError(f"No *.ipynb files found under {', '.join(map(str, paths))}.")
    for item in submissions:
        if item.note:
            click.echo(f"note: {item.note}", err=True)

    def progress(item: SubmissionFile, result: SubmissionResult, reused: bool) -> None:
        if not quiet:
            note = " (unchanged, stored result)" if reused else f" in {result.execution_time:.1f} s"
            click.echo(f"{item.id}: {result.score:g} / {result.max_score:g}{note}")

    try:
        summary = grade_batch(assignment, submissions, out, regrade=regrade, progress=progress)
    except SuiteError as error:
        raise GraderFault(f"{error}\nFix the suite, then run `autograder validate {slug}`.") from None
    if not quiet:
        click.echo(f"Graded {summary.graded}, reused {summary.reused}; wrote {out / 'grades.csv'} and "
                   f"{out / 'results'}/.")


@main.command()
@click.option("--assignment", "slug", required=True, help="Assignment slug, e.g. gradient-descent.")
@ASSIGNMENTS_DIR
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check(slug: str, assignments_dir: Path | None, notebook: Path) -> None:
    """Run the public checks on one notebook; exit status 0 exactly when all pass.

    \b
    Example:
      autograder check --assignment gradient-descent gradient-descent.ipynb
    """
    from autograder.grading import grade_notebook

    assignment = _assignment(slug, assignments_dir)
    try:
        result = grade_notebook(notebook, notebook.stem, assignment, public=True)
    except SuiteError as error:
        raise GraderFault(str(error)) from None
    for test in result.tests:
        click.echo(f"{'PASS' if test.passed else 'FAIL'}  {test.name}")
        if not test.passed:
            click.echo("      " + test.output.replace("\n", "\n      "))
    click.echo("")
    click.echo(result.summary())
    passed = sum(test.passed for test in result.tests)
    click.echo(f"\n{passed} of {len(result.tests)} public checks passed.")
    sys.exit(0 if passed == len(result.tests) else 1)


@main.command()
@ASSIGNMENTS_DIR
@click.argument("slugs", nargs=-1)
def validate(assignments_dir: Path | None, slugs: tuple[str, ...]) -> None:
    """Prove an assignment's suite: the source notebook gets full marks, the student notebook zero,
    every correct solution full marks, every buggy one loses points exactly on the function it breaks.

    Without SLUGS, validates every assignment.

    \b
    Example:
      autograder validate gradient-descent
    """
    from autograder.validate import validate_assignment

    root = assignments_root(assignments_dir)
    chosen = slugs or tuple(available_slugs(root))
    failures = 0
    for slug in chosen:
        assignment = _assignment(slug, assignments_dir)
        try:
            report = validate_assignment(assignment, echo=click.echo)
        except SuiteError as error:
            raise GraderFault(str(error)) from None
        failures += report.failures
    if failures:
        raise GraderFault(f"{failures} expectation(s) failed; see above.")
    click.echo(f"All expectations met for {', '.join(chosen)}.")


@main.command("build-notebooks")
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; exit 1 if a committed student notebook differs from its source.")
@ASSIGNMENTS_DIR
def build_notebooks(check_only: bool, assignments_dir: Path | None) -> None:
    """Regenerate each assignment's student notebook from its otter-assign source with `otter assign`.

    \b
    Examples:
      autograder build-notebooks           # after editing assignments/<slug>/source/<slug>.ipynb
      autograder build-notebooks --check   # in CI: fail if a student notebook is out of date
    """
    from autograder.authoring import AuthoringError, stale_student_notebooks, write_student_notebooks

    root = assignments_root(assignments_dir)
    try:
        if check_only:
            stale = stale_student_notebooks(root)
            if stale:
                raise GraderFault(f"Out of date: {', '.join(stale)}. Run `autograder build-notebooks` and commit.")
            click.echo("Every student notebook matches its source.")
        else:
            written = write_student_notebooks(root)
            click.echo(f"Wrote the student notebooks of {', '.join(written) or 'no assignment'}.")
    except AuthoringError as error:
        raise GraderFault(str(error)) from None


if __name__ == "__main__":
    main()
