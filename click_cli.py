"""The ``autograder`` command: grade a batch, check one notebook, validate an assignment."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from autograder.grader.assignment import AssignmentError, available_slugs, course_root, load_assignment
from autograder.grader.escaping import printable
from autograder.grader.sandbox import WorkerSetupFailed

if TYPE_CHECKING:
    from autograder.grader.assignment import Assignment
    from autograder.grader.batch import Outcome
    from autograder.grader.intake.gather import Intake

# Grading code (pytest, nbformat, the batch) is imported by the commands that grade, when they need it:
# `autograder check` starts its sandbox first, so the two start-ups overlap (see check).


def grader_faults() -> tuple[type[Exception], ...]:
    """Faults of the grader or its machine, never of a student: the command stops with exit status 1."""
    from autograder.grader.suite import SuiteError

    return (SuiteError, WorkerSetupFailed)

COURSE = click.option(
    "--course", type=click.Path(file_okay=False, exists=True, path_type=Path), envvar="AUTOGRADER_COURSE",
    default=None, help="The course folder, holding assignments/ and reference/ (default: the current folder).")


class GraderFault(click.ClickException):
    """A fault of the grader or its configuration (not of a student): exit status 1."""


def _assignment(slug: str, course: Path | None, *, hidden: bool = True):
    """The assignment, with its hidden suite unless ``hidden`` is False (checking needs only public checks)."""
    try:
        assignment = load_assignment(slug, course)
        if hidden:
            assignment.require_hidden_suite()
        return assignment
    except AssignmentError as error:
        raise click.UsageError(str(error)) from None


def _course(course: Path | None) -> Path:
    try:
        return course_root(course)
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
      autograder review --out grading --question many-minima
    """


@main.command()
@click.option("--assignment", "slug", required=True, help="Assignment slug, e.g. gradient-descent.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: grades.csv, results/<id>.json, gradebook.sqlite, feedback/<id>.html, .md "
                   "and .ipynb, report.html; intake.csv and intake.json for downloads from a platform.")
@click.option("--regrade", is_flag=True, help="Grade again even submissions whose stored result is current.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Submissions graded at once (default: one per core).")
@click.option("--scheduler", metavar="tcp://HOST:PORT", default=None,
              help="Grade on the Dask cluster of this scheduler instead of this machine (not with --jobs).")
@COURSE
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def grade(slug: str, out: Path, regrade: bool, quiet: bool, jobs: int | None, scheduler: str | None,
          course: Path | None, paths: tuple[Path, ...]) -> None:
    """Grade notebooks with the hidden suite and write grades.csv and results/<id>.json.

    PATHS are notebooks, folders searched recursively for *.ipynb, or zips of submissions (also inside
    folders). A submission's id is its path relative to the folder or zip given, without .ipynb (a
    notebook given directly: its file stem). Downloads from Canvas, Gradescope, Moodle and Blackboard
    are recognised by their file names: each student is one submission, with id PLATFORM-USERID (for
    example canvas-12345), graded on their latest attempt; who is who, lateness and superseded attempts
    are written to OUT/intake.csv.
    Re-running with the same --out grades only new or changed submissions; Ctrl-C stops at once,
    keeping every result already stored.

    \b
    Examples:
      autograder grade --assignment gradient-descent --out grading submissions/
      autograder grade --assignment gradient-descent --out grading submissions.zip
      autograder grade --assignment gradient-descent --out grading --scheduler tcp://10.0.0.5:8786 submissions/
    """
    from autograder.grader.batch import BatchError, check_out_folder
    from autograder.grader.intake.gather import gather

    if jobs is not None and scheduler is not None:
        raise click.UsageError("--jobs and --scheduler cannot be used together: on a Dask cluster the workers "
                               "decide how many submissions run at once (one per worker process).")
    assignment = _assignment(slug, course)
    try:
        check_out_folder(out, slug)
        intake = gather(paths)
    except BatchError as error:
        raise click.UsageError(str(error)) from None
    with intake:
        _grade_intake(intake, assignment, out, paths, regrade=regrade, quiet=quiet, jobs=jobs, scheduler=scheduler)


def _grade_intake(intake: Intake, assignment: Assignment, out: Path, paths: tuple[Path, ...], *, regrade: bool,
                  quiet: bool, jobs: int | None, scheduler: str | None) -> None:
    """Grade what :func:`gather` found; the unpacked files live until this returns."""
    from autograder.grader.batch import SubmissionFile, grade_batch
    from autograder.grader.executors import local_executor
    from autograder.grader.intake.manifest import TABLE, write_manifest
    from autograder.grader.progress import ProgressReport
    from autograder.grader.results import SubmissionResult
    from autograder.grader.suite import SuiteError

    slug = assignment.slug
    submissions = intake.submissions
    for message in intake.messages:
        click.echo(f"note: {printable(message)}", err=True)
    if not submissions:
        raise click.UsageError(f"No *.ipynb files found under {', '.join(map(str, paths))}."
                               + ("".join(f"\n{printable(message)}" for message in intake.messages)))
    for item in submissions:
        if item.note:
            click.echo(f"note: {item.note}", err=True)
    # Who each submission belongs to is stored before any grade is: exports read it back.
    records = write_manifest(out, intake.chosen.values())
    if intake.chosen and not quiet:
        platforms = sorted({chosen.attempt.lms for chosen in intake.chosen.values()})
        click.echo(printable(f"Read {'; '.join(intake.layouts)}."), err=True)
        superseded = sum(bool(chosen.superseded) for chosen in intake.chosen.values())
        late = sum(chosen.attempt.late is True for chosen in intake.chosen.values())
        click.echo(f"{len(intake.chosen)} students from {', '.join(platforms)} downloads: latest attempt graded; "
                   f"{superseded} with earlier attempts (superseded), {late} marked late; see "
                   f"{out / TABLE} ({len(records)} students in all).", err=True)

    report = ProgressReport(len(submissions), quiet=quiet)

    def progress(item: SubmissionFile, result: SubmissionResult, reused: bool) -> None:
        report.advance(reused=reused, problem=result.problem is not None)

    cluster_errors: tuple[type[Exception], ...] = ()
    if scheduler is None:
        executor = local_executor(jobs)
    else:
        # Imported only here: plain local grading does not pay for loading Dask.
        from autograder.grader.dask_executor import (
            DaskExecutor,
            DaskGradingError,
            SchedulerUnreachable,
            worker_count_note,
        )

        try:
            executor = DaskExecutor(scheduler)
        except SchedulerUnreachable as error:
            raise click.UsageError(str(error)) from None
        cluster_errors = (DaskGradingError,)
        note = worker_count_note(executor)
        if note and not quiet:
            click.echo(note, err=True)
    try:
        summary = grade_batch(assignment, submissions, out, regrade=regrade, progress=progress, executor=executor,
                              feedback=True)
    except SuiteError as error:
        raise GraderFault(f"{error}\nFix the suite, then run `autograder validate {slug}`.") from None
    except WorkerSetupFailed as error:
        raise GraderFault(str(error)) from None
    except cluster_errors as error:
        raise GraderFault(str(error)) from None
    if summary.interrupted:
        report.interrupted()
        click.echo(f"Interrupted: {len(summary.outcomes)} of {len(submissions)} results are stored in {out}; "
                   "run the same command again to grade the rest.", err=True)
        sys.exit(130)
    if not quiet:
        click.echo(f"Graded {summary.graded}, reused {summary.reused}; wrote {out / 'grades.csv'}, "
                   f"{out / 'results'}/, {out / 'feedback'}/ and {out / 'report.html'}.")
        click.echo(_score_summary(summary.outcomes))


def _score_summary(results: list[Outcome]) -> str:
    """One line an instructor can sanity-check a batch with."""
    if not results:
        return "No results."
    maximum = max(result.max_score for result in results)
    mean = sum(result.score for result in results) / len(results)
    full = sum(result.score >= result.max_score for result in results)
    unreadable = sum(result.could_not_run for result in results)
    return (f"Scores: mean {mean:.2f} / {maximum:g}; {full} of {len(results)} with full marks; "
            f"{unreadable} could not be run (see results/<id>.json).")


@main.command()
@click.option("--assignment", "slug", required=True, help="Assignment slug, e.g. gradient-descent.")
@COURSE
@click.option("--classroom-output", type=click.Path(dir_okay=False, path_type=Path),
              help="Also append the result for GitHub Classroom's grading reporter to this step-output file "
                   "(the student workflow passes $GITHUB_OUTPUT).")
@click.argument("notebook", type=click.Path(dir_okay=False, path_type=Path))
def check(slug: str, course: Path | None, classroom_output: Path | None, notebook: Path) -> None:
    """Run the public checks on one notebook; exit status 0 exactly when all pass.

    Prints each check with its result and message, the score per function, errors per cell and what
    the cells printed; in colour on a terminal (set NO_COLOR to turn colour off).

    \b
    Example:
      autograder check --assignment gradient-descent gradient-descent.ipynb
    """
    from autograder.grader import sandbox

    assignment = _assignment(slug, course, hidden=False)
    # The sandbox starts in the background (the course is loaded, so its folders are hidden from it)
    # while this process imports what grading needs.
    try:
        sandbox.start_early()
    except WorkerSetupFailed as error:
        raise GraderFault(str(error)) from None
    from autograder.grader.grading import grade_notebook

    missing = None if notebook.is_file() else (
        f"There is no notebook {notebook}. Commit your notebook under exactly that name (or give its path) "
        "and run the checks again.")
    try:
        result = grade_notebook(notebook, notebook.stem, assignment, public=True, problem=missing)
    except grader_faults() as error:
        raise GraderFault(str(error)) from None
    from autograder.grader.feedback.terminal import render_terminal, use_colour
    from autograder.grader.feedback.view import build_view
    from autograder.grader.results import VISIBILITIES

    if classroom_output is not None:
        from autograder.grader.exports.classroom import append_step_output, classroom_result

        append_step_output(classroom_output, classroom_result(result))
    # Public checks are there to be seen: every one is shown in full, whatever its visibility.
    colour = use_colour()
    click.echo(render_terminal(build_view(result, assignment.title, assignment.functions, VISIBILITIES)), color=colour)
    passed = sum(test.passed for test in result.tests)
    everything = passed == len(result.tests) and missing is None
    click.echo("\n" + click.style(f"{passed} of {len(result.tests)} public checks passed.", bold=True,
                                  fg="green" if everything else "red"), color=colour)
    sys.exit(0 if everything else 1)


@main.command()
@COURSE
@click.option("--write-mistakes", is_flag=True,
              help="Also rewrite each assignment's mistakes.toml with the checks every buggy solution fails now "
                   "(the descriptions are kept; a new buggy solution gets an entry to describe).")
@click.argument("slugs", nargs=-1)
def validate(course: Path | None, write_mistakes: bool, slugs: tuple[str, ...]) -> None:
    """Prove an assignment's suite: the source notebook gets full marks, the student notebook zero,
    every correct solution full marks, every buggy one loses points exactly on the function it breaks.

    Without SLUGS, validates every assignment.

    \b
    Example:
      autograder validate gradient-descent
    """
    from autograder.grader import validate as validation

    chosen = slugs or tuple(available_slugs(_course(course)))
    failures = 0
    for slug in chosen:
        assignment = _assignment(slug, course)
        try:
            report = validation.validate_assignment(assignment, echo=click.echo)
        except grader_faults() as error:
            raise GraderFault(str(error)) from None
        failures += report.failures
        if write_mistakes:
            for note in validation.write_mistakes(assignment, report):
                click.echo(f"  {note}")
            click.echo(f"  wrote {assignment.mistakes_file}")
    if failures:
        raise GraderFault(f"{failures} expectation(s) failed; see above.")
    click.echo(f"All expectations met for {', '.join(chosen)}.")


@main.command()
def doctor() -> None:
    """Show which protections student code runs under on this machine.

    Exit status 0 when the full profile is active, 1 when a layer is missing (each missing layer
    says how to get it).

    \b
    Example:
      autograder doctor
    """
    from autograder.grader.protections import detect

    found = detect()
    for layer in found.layers():
        mark = click.style("active ", fg="green") if layer.active else click.style("MISSING", fg="red", bold=True)
        click.echo(f"{mark} {layer.name:14} {layer.detail}")
    click.echo(f"profile: {found.profile}")
    if found.profile != "full":
        sys.exit(1)


@main.command("build-notebooks")
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing; exit 1 if a committed student notebook differs from its source.")
@COURSE
def build_notebooks(check_only: bool, course: Path | None) -> None:
    """Regenerate each assignment's student notebook from its otter-assign source with `otter assign`.

    \b
    Examples:
      autograder build-notebooks           # after editing assignments/<slug>/source/<slug>.ipynb
      autograder build-notebooks --check   # in CI: fail if a student notebook is out of date
    """
    from autograder.grader.authoring import AuthoringError, stale_student_notebooks, write_student_notebooks

    root = _course(course) / "assignments"
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


@main.command()
@click.option("--out", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The --out folder of `autograder grade` (it holds gradebook.sqlite).")
@click.option("--assignment", "slug", default=None, help="Assignment (needed if the gradebook has several).")
@click.option("--question", "question_id", default=None,
              help="The written question's id from written.toml (needed if the assignment has several).")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@click.option("--no-browser", is_flag=True, help="Print the address without opening a browser.")
@COURSE
def review(out: Path, slug: str | None, question_id: str | None, port: int, no_browser: bool,
           course: Path | None) -> None:
    """Grade every student's answer to one written question, side by side, against its rubric.

    Serves a page on 127.0.0.1 only, at an address with a random token, and opens it in a browser.
    Keys: j/k or the arrows move between answers, n jumps to the next pending one, 1-9 toggle rubric
    items; an adjustment and a comment complete the grade. Every change is stored in the gradebook at
    once (a crash loses nothing saved), and grades.csv and the feedback pages follow.
    Answers still to be graded show as "pending" everywhere, never as zero.

    \b
    Example:
      autograder review --out grading --question many-minima
    """
    from autograder.grader.gradebook import Gradebook
    from autograder.grader.written_answers.review import ReviewError, choose_question, serve

    if not (out / "gradebook.sqlite").is_file():
        raise click.UsageError(f"There is no gradebook in {out} (no gradebook.sqlite); grade the submissions first "
                               f"with `autograder grade --assignment SLUG --out {out} SUBMISSIONS`.")
    gradebook = Gradebook(out / "gradebook.sqlite")
    try:
        graded = gradebook.assignments()
    finally:
        gradebook.close()
    if slug is None:
        if len(graded) != 1:
            raise click.UsageError(f"The gradebook in {out} holds {', '.join(graded) or 'no results'}; choose the "
                                   "assignment with --assignment.")
        slug = graded[0]
    assignment = _assignment(slug, course, hidden=False)
    try:
        question = choose_question(assignment, question_id)
    except ReviewError as error:
        raise click.UsageError(str(error)) from None
    serve(out, assignment, question, port=port, open_browser=not no_browser, echo=click.echo)


@main.group()
def export() -> None:
    """Hand an assignment out or grading over: the student folder, a Gradescope autograder, a Canvas CSV.

    \b
    Examples:
      autograder export student gradient-descent -o gradient-descent-student
      autograder export gradescope gradient-descent -o autograder.zip
      autograder export canvas --out grading -o canvas.csv
      autograder export canvas-feedback --out grading -o feedback.zip
      autograder export written-pdf --out grading
    """


@export.command("student")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="A new folder to write (for example a GitHub Classroom template repository).")
@COURSE
@click.argument("slug")
def export_student(slug: str, output: Path, course: Path | None) -> None:
    """Write what students get for SLUG: the notebook, the public checks and a CI workflow running them.

    The folder holds the student notebook, .github/workflows/autograder.yml (runs `autograder check` on
    every push) and .autograder/ (the checker as a wheel, and the assignment's public checks). Nothing
    hidden is in it: no hidden suite, reference solution, source notebook or example solution.

    \b
    Example:
      autograder export student gradient-descent -o gradient-descent-student
    """
    from autograder.grader.exports.student import StudentExportError, build_student_bundle
    from autograder.grader.exports.wheel import WheelError

    assignment = _assignment(slug, course, hidden=False)
    try:
        written = build_student_bundle(assignment, output)
    except (StudentExportError, WheelError) as error:
        raise GraderFault(str(error)) from None
    click.echo(f"Wrote {len(written)} files to {output}; push it as the assignment's template repository, or "
               "hand it out as it is.")


@export.command("gradescope")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True, help="The zip to write.")
@COURSE
@click.argument("slug")
def export_gradescope(slug: str, output: Path, course: Path | None) -> None:
    """Write a Gradescope autograder zip that grades one notebook per submission with SLUG's hidden suite.

    Upload the zip as the autograder of a Gradescope programming assignment. It holds setup.sh (installs
    Python 3.11+ if needed, the dependencies from PyPI, and this grader from a wheel inside the zip),
    run_autograder and the assignment's suites. Run `autograder validate SLUG` first.

    \b
    Example:
      autograder export gradescope gradient-descent -o autograder.zip
    """
    from autograder.grader.exports.gradescope import build_zip
    from autograder.grader.exports.wheel import WheelError

    assignment = _assignment(slug, course)
    try:
        build_zip(assignment, output)
    except WheelError as error:
        raise GraderFault(str(error)) from None
    click.echo(f"Wrote {output}; upload it as the autograder of a Gradescope programming assignment.")


@export.command("written-pdf")
@click.option("--out", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The --out folder of `autograder grade` (it holds gradebook.sqlite).")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write the PDFs to (default: OUT/written-pdf).")
@click.option("--assignment", "slug", default=None, help="Assignment to export (needed if the gradebook has several).")
@COURSE
def export_written_pdf(out: Path, output: Path | None, slug: str | None, course: Path | None) -> None:
    """Write one PDF per submission with its written answers, for Gradescope's manual grading.

    Each written question starts a new page, in order, so a Gradescope template (template.pdf, written
    beside them) maps pages to questions. index.csv lists every PDF, its submission id and page count,
    and the answers that ran over a page.

    \b
    Example:
      autograder export written-pdf --out grading -o grading/written-pdf
    """
    from autograder.grader.exports.written_pdf import PdfExportError, write_answer_pdfs
    from autograder.grader.gradebook import Gradebook

    if not (out / "gradebook.sqlite").is_file():
        raise click.UsageError(f"There is no gradebook in {out} (no gradebook.sqlite); grade the submissions first "
                               f"with `autograder grade --assignment SLUG --out {out} SUBMISSIONS`.")
    output = output or out / "written-pdf"
    gradebook = Gradebook(out / "gradebook.sqlite")
    try:
        graded = gradebook.assignments()
        if slug is None and len(graded) != 1:
            raise click.UsageError(f"The gradebook in {out} holds {', '.join(graded) or 'no results'}; choose the "
                                   "assignment with --assignment.")
        assignment = _assignment(slug or graded[0], course, hidden=False)
        try:
            written = write_answer_pdfs(gradebook, assignment, output)
        except PdfExportError as error:
            raise click.UsageError(str(error)) from None
    finally:
        gradebook.close()
    longer = sum(bool(item.overflowing) for item in written)
    click.echo(f"Wrote {len(written)} PDF{'' if len(written) == 1 else 's'} of answers, {output / 'template.pdf'} "
               f"and {output / 'index.csv'}"
               + (f"; {longer} have an answer longer than a page (see index.csv)." if longer else "."))


@export.command("canvas")
@click.option("--out", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The --out folder of `autograder grade` (it holds gradebook.sqlite).")
@click.option("--roster", default=None, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="CSV with columns submission,student,id,sis_user_id,sis_login_id,section (optional for "
                   "students graded from a Canvas download: it adds names, SIS ids, sections and absentees).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The Canvas CSV to write (default: OUT/canvas.csv); a report is written next to it.")
@click.option("--assignment", "slug", default=None, help="Assignment to export (needed if the gradebook has several).")
@click.option("--canvas-id", default=None,
              help="The Canvas assignment's id (the number in its URL): the column is then 'Title (id)', "
                   "which Canvas matches exactly.")
@click.option("--title", default=None, help="The assignment's name in Canvas (default: its title in assignment.toml).")
@COURSE
def export_canvas(out: Path, roster: Path | None, output: Path | None, slug: str | None, canvas_id: str | None,
                  title: str | None, course: Path | None) -> None:
    """Write a CSV for Canvas's gradebook import (Grades > Import) from the gradebook in OUT.

    Students graded from a Canvas download (zip or folder) are known by their Canvas user ID, which
    is what Canvas matches: no roster is needed. Otherwise ROSTER maps submission ids to students: a
    CSV whose first line is submission,student,id,sis_user_id,sis_login_id,section (id, sis_user_id
    and sis_login_id are Canvas's user ID, SIS User ID and SIS Login ID; each row needs at least one);
    with a download it may add names, SIS ids and sections (rows found by submission or id). Students
    with no graded submission get an empty grade; graded submissions of no known student are left out.
    Both are listed on stderr and in the report.

    \b
    Examples:
      autograder export canvas --out grading --canvas-id 12345 -o canvas.csv
      autograder export canvas --out grading --roster roster.csv --canvas-id 12345 -o canvas.csv
    """
    from autograder.grader.exports.canvas import assignment_column, match, students_from_downloads, write_canvas_csv
    from autograder.grader.exports.roster import RosterError, read_roster
    from autograder.grader.gradebook import Gradebook
    from autograder.grader.intake.manifest import read_manifest

    if not (out / "gradebook.sqlite").is_file():
        raise click.UsageError(f"There is no gradebook in {out} (no gradebook.sqlite); grade the submissions first "
                               f"with `autograder grade --assignment SLUG --out {out} SUBMISSIONS`.")
    try:
        students = read_roster(roster) if roster is not None else []
    except RosterError as error:
        raise click.UsageError(str(error)) from None
    students = students_from_downloads(read_manifest(out), students)
    if not students:
        raise click.UsageError(f"No student in {out} came from a Canvas download, so Canvas's user IDs are unknown; "
                               "grade the zip Canvas's 'Download Submissions' gives, or pass --roster ROSTER.csv "
                               "(columns submission,student,id,sis_user_id,sis_login_id,section).")
    gradebook = Gradebook(out / "gradebook.sqlite")
    try:
        graded = gradebook.assignments()
        if not graded:
            raise click.UsageError(f"The gradebook in {out} holds no results; grade the submissions first.")
        if slug is None and len(graded) > 1:
            raise click.UsageError(f"The gradebook in {out} holds {', '.join(graded)}; choose one with --assignment.")
        slug = slug or graded[0]
        if slug not in graded:
            raise click.UsageError(f"The gradebook in {out} has no results for {slug!r} "
                                   f"(it has {', '.join(graded) or 'none'}).")
        try:
            assignment = load_assignment(slug, course)
        except AssignmentError:
            if title is None:
                raise click.UsageError(f"Cannot find the assignment {slug!r} to read its title; pass --course "
                                       "or give its Canvas name with --title.") from None
            assignment = None
        # Written answers count once a person has graded them; until then the student's grade is left empty.
        written = assignment.written if assignment is not None else ()
        results = [gradebook.with_written(result.without_plots_and_output(), written)
                   for result in gradebook.results(slug)]
    finally:
        gradebook.close()
    if title is None:
        assert assignment is not None
        title = assignment.title

    result = match(results, students, assignment_column(title, canvas_id))
    output = output or out / "canvas.csv"
    write_canvas_csv(output, students, result)
    report = result.report()
    report_path = output.with_name(f"{output.stem}-report.txt")
    report_path.write_text(report, encoding="utf-8")
    click.echo(report, err=True, nl=False)
    click.echo(f"Wrote {output} (import it in Canvas: Grades > Import) and {report_path}.")


@export.command("canvas-feedback")
@click.option("--out", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The --out folder of `autograder grade` that graded a Canvas download.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The zip to write (default: OUT/canvas-feedback.zip).")
def export_canvas_feedback(out: Path, output: Path | None) -> None:
    """Write a zip of feedback for Canvas's "Re-Upload Submissions", which attaches each file to the
    student's submission as a comment (seen in SpeedGrader and by the student).

    Each student graded from a Canvas download gets the annotated copy of their notebook
    (feedback/<id>.ipynb), named exactly like the file they handed in, since Canvas finds the student
    and the submission from that name. Upload it on the assignment's page: Re-Upload Submissions.

    \b
    Example:
      autograder export canvas-feedback --out grading -o feedback.zip
    """
    from autograder.grader.exports.canvas_feedback import write_feedback_zip
    from autograder.grader.intake.manifest import read_manifest

    records = {key: record for key, record in read_manifest(out).items() if record.get("platform") == "canvas"}
    if not records:
        raise click.UsageError(f"No student in {out} was graded from a Canvas download; grade the zip of Canvas's "
                               f"'Download Submissions' with `autograder grade --out {out} ...` first.")
    output = output or out / "canvas-feedback.zip"
    written = write_feedback_zip(out, records, output)
    if written.without_notebook:
        click.echo(f"No annotated notebook for {len(written.without_notebook)} student(s) (their file could not be "
                   "read as a notebook; their feedback is in feedback/<id>.html): "
                   f"{', '.join(printable(s) for s in written.without_notebook)}.", err=True)
    click.echo(f"Wrote {output} with feedback for {len(written.written)} student(s); upload it in Canvas on the "
               "assignment's page: Re-Upload Submissions.")


if __name__ == "__main__":
    main()
