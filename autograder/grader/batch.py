"""Grading a batch: find submissions, grade each (or reuse its stored result), write the outputs.

Layout of ``--out DIR``: ``gradebook.sqlite`` (the record), ``results/<id>.json`` (Gradescope schema)
and ``grades.csv`` (``submission,score,max_score,<function>...``), both derived from the gradebook.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from autograder.grader.assignment import Assignment
from autograder.grader.escaping import csv_cell
from autograder.grader.executors import Executor, GradingTask, InProcess
from autograder.grader.feedback import feedback_path, write_feedback
from autograder.grader.feedback.report import write_report
from autograder.grader.gradebook import Gradebook
from autograder.grader.output_paths import submission_path
from autograder.grader.results import SubmissionResult
from autograder.grader.written_answers.questions import extract_answers


class BatchError(Exception):
    """The batch cannot start (for example a path that does not exist); the message says why."""


@dataclass(frozen=True)
class SubmissionFile:
    id: str
    path: Path
    problem: str | None = None  # set when the file must not be graded (the message says why)
    note: str | None = None  # something the instructor should know (graded all the same)
    about: dict | None = None  # who handed it in, as a platform's download says (results.json's extra_data.intake)


def discover(paths: Iterable[Path]) -> list[SubmissionFile]:
    """Notebooks given directly (id: file stem) or found under folders (id: relative path, no suffix)."""
    found: list[SubmissionFile] = []
    for path in paths:
        if path.is_dir():
            root = path.resolve()
            for notebook in sorted(path.rglob("*.ipynb")):
                if ".ipynb_checkpoints" in notebook.parts:
                    continue
                relative = notebook.relative_to(path).with_suffix("").as_posix()
                problem = _link_problem(notebook, root)
                note = f"{notebook} is a symbolic link ({problem}); it is not graded." if problem else None
                found.append(SubmissionFile(relative, notebook, problem and f"The submission is {problem}. "
                                            "Submit the notebook itself: links are not graded.", note))
        elif path.exists():
            found.append(SubmissionFile(path.stem, path))
        else:
            raise BatchError(f"{path} does not exist; give notebooks or folders of notebooks.")
    return _unique_ids(found)


def _link_problem(notebook: Path, root: Path) -> str | None:
    """What a notebook that is a symbolic link points to, in words; None for a regular file.

    A link is never graded: one to another student's notebook would otherwise copy that grade silently,
    and one to a file outside the folder would read what was not submitted. (Folders that are links are
    not searched at all.)"""
    if not notebook.is_symlink():
        return None
    target = notebook.resolve()
    if target.is_relative_to(root):
        return f"a symbolic link to another submission, {target.relative_to(root).as_posix()}"
    return "a symbolic link to a file outside the submissions folder"


def _unique_ids(found: list[SubmissionFile]) -> list[SubmissionFile]:
    seen: dict[str, int] = {}
    unique = []
    for item in found:
        count = seen.get(item.id, 0) + 1
        seen[item.id] = count
        if count > 1:  # two paths map to one id: grade both, under distinct ids, and say so
            note = (f"{item.path} has the same id {item.id!r} as an earlier submission (given twice, or "
                    f"under two folders); it is graded as {item.id}~{count}.")
            item = SubmissionFile(f"{item.id}~{count}", item.path, item.problem, note, item.about)
        unique.append(item)
    return unique


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        digest.update(f"unreadable: {error}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Outcome:
    """What a batch remembers of one result: enough for the closing line, small enough for 3,000 of them."""
    submission: str
    score: float
    max_score: float
    could_not_run: bool


@dataclass
class BatchSummary:
    gradebook: Path
    assignment: str
    graded: int = 0
    reused: int = 0
    outcomes: list[Outcome] = field(default_factory=list)  # in the order they were reported
    interrupted: bool = False  # Ctrl-C: everything graded so far is stored; re-run to finish

    def submission_ids(self) -> set[str]:
        return {outcome.submission for outcome in self.outcomes}

    def results(self) -> list[SubmissionResult]:
        """The full results of this batch's submissions, read back from the gradebook (by submission id)."""
        gradebook = Gradebook(self.gradebook)
        try:
            return list(gradebook.results(self.assignment, self.submission_ids()))
        finally:
            gradebook.close()


Progress = Callable[[SubmissionFile, SubmissionResult, bool], None]


def check_out_folder(out: Path, slug: str) -> None:
    """Refuse an output folder that holds another assignment's outputs: grades.csv, results/ and the
    report are per folder, so grading ``slug`` there would replace them."""
    if not (out / "gradebook.sqlite").is_file():
        return
    gradebook = Gradebook(out / "gradebook.sqlite")
    try:
        others = [name for name in gradebook.assignments() if name != slug]
    finally:
        gradebook.close()
    if others:
        raise BatchError(f"{out} holds the outputs of {', '.join(others)}; grading {slug} there would replace its "
                         f"grades.csv, results and report. Give each assignment its own --out, for example "
                         f"--out {out.parent / (out.name + '-' + slug)}.")


def grade_batch(assignment: Assignment, submissions: list[SubmissionFile], out: Path, *,
                regrade: bool = False, progress: Progress | None = None,
                executor: Executor | None = None, feedback: bool = False) -> BatchSummary:
    """Grade what is new or changed, reuse the rest; each result is stored before it is reported.

    ``executor`` decides where grading runs (default: in this process). With ``feedback``, every
    result gets its pages under ``feedback/`` (drawn by the grading process when it is local) and the
    batch ends with ``report.html``. On Ctrl-C the batch stops taking submissions, keeps every
    stored result and still writes ``grades.csv`` and the report of what is stored. An ``out`` that
    holds another assignment's outputs is refused (:func:`check_out_folder`).
    """
    check_out_folder(out, assignment.slug)
    out.mkdir(parents=True, exist_ok=True)
    gradebook = Gradebook(out / "gradebook.sqlite")
    # Results are not kept in memory while grading: a long batch would grow by every result; the
    # outputs that need them all (grades.csv, report.html) read them back from the gradebook at the end.
    summary = BatchSummary(out / "gradebook.sqlite", assignment.slug)
    by_id = {item.id: item for item in submissions}
    executor = executor or InProcess()

    def report(item: SubmissionFile, result: SubmissionResult, reused: bool) -> None:
        data = result.to_gradescope()
        if item.about is not None:
            data["extra_data"]["intake"] = item.about
        _write_json(submission_path(out / "results", item.id, ".json"), data)
        if feedback and not feedback_path(out, item.id, ".html").exists():  # reused, or graded on another machine
            # with the written answers' grades given by people, or "pending"
            write_feedback(out, gradebook.with_written(result, assignment.written), assignment, notebook=item.path)
        summary.outcomes.append(Outcome(result.submission, result.score, result.max_score,
                                        result.problem is not None))
        if progress is not None:
            progress(item, result, reused)

    try:
        tasks = []
        for item in submissions:
            digest = content_hash(item.path)
            if assignment.written and item.problem is None:  # read from the JSON, never by running the notebook
                gradebook.store_answers(assignment.slug, item.id, extract_answers(item.path, assignment.written),
                                        item.path.resolve())
            stored = gradebook.get(assignment.slug, item.id)
            if (not regrade and stored is not None and stored.content_hash == digest
                    and stored.suite_version == assignment.suite_version):
                summary.reused += 1
                report(item, stored.result, True)
            else:
                feedback_path(out, item.id, ".html").unlink(missing_ok=True)  # stale until the new result's is drawn
                # Pages that show written grades are drawn here, where the gradebook is (see report()).
                draw_there = feedback and not assignment.written
                tasks.append(GradingTask(item.id, str(item.path), assignment.slug, str(assignment.course),
                                         digest, item.problem, str(out) if draw_there else None))
        for task, result in executor.results(tasks):
            started = datetime.fromtimestamp(time.time() - result.execution_time, UTC)
            gradebook.store(result, task.digest, assignment.suite_version, started.isoformat(timespec="seconds"))
            summary.graded += 1
            report(by_id[task.submission], result, False)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        executor.close()
    try:
        # Read back once for both outputs, less the plot data and printed output neither needs.
        results = [result.without_plots_and_output()
                   for result in gradebook.results(assignment.slug, summary.submission_ids())]
        # grades.csv shows the written answers' grades (or pending); the report is about the autograder's tests.
        write_grades_csv(out / "grades.csv", assignment,
                         [gradebook.with_written(result, assignment.written) for result in results])
        if feedback:
            write_report(out, assignment, results)
    finally:
        gradebook.close()
    return summary


def write_grades_csv(path: Path, assignment: Assignment, results: Iterable[SubmissionResult]) -> None:
    """One row per result, in the order given (the gradebook yields them by submission id).

    Written questions follow the functions, one column each (``written:<id>``): the points a person
    gave, or ``pending`` until then; ``pending`` counts the points not graded yet, which ``score`` leaves out."""
    written = [question.function for question in assignment.written]
    temporary = path.with_suffix(".csv.tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", "score", "max_score", *assignment.functions,
                         *([*written, "pending"] if written else [])])
        for result in results:
            per_function = result.function_scores()
            pending = {test.function for test in result.tests if test.pending}
            writer.writerow([csv_cell(result.submission), f"{result.score:g}", f"{result.max_score:g}",
                             *(f"{per_function.get(f, (0.0, 0.0))[0]:g}" for f in assignment.functions),
                             *("pending" if f in pending else f"{per_function.get(f, (0.0, 0.0))[0]:g}"
                               for f in written),
                             *([f"{result.pending_points:g}"] if written else [])])
    os.replace(temporary, path)


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(temporary, path)
