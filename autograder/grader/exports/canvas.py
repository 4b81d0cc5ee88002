"""A CSV that Canvas's gradebook import accepts, from the gradebook and the students of a Canvas download
(or a roster).

Canvas imports the layout it exports: a header ``Student,ID,SIS User ID,SIS Login ID,Section``
followed by one column per assignment, named ``Title (canvas id)`` to update that assignment or just
``Title`` to match one by name (or create it); then a ``Points Possible`` row; then one row per
student, matched on ID, SIS User ID or SIS Login ID. A student without a submission gets an empty grade,
not a zero: whether a missing submission counts as zero is the instructor's call, made in Canvas. A
submission with written answers still to be graded by a person (``autograder review``) also gets an
empty grade, and is listed, rather than a total that leaves those points out.

Students graded from a Canvas download carry their Canvas user ID (``OUT/intake.json``), which is the
``ID`` Canvas matches: they need no roster. A roster adds names, SIS ids and sections, and students who
handed nothing in.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grader.escaping import csv_cell
from autograder.grader.exports.roster import Student
from autograder.grader.results import SubmissionResult

STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
# Canvas writes the label indented by four spaces in its exports; its import recognises the row either way.
POINTS_POSSIBLE = "    Points Possible"


@dataclass
class CanvasExport:
    column: str
    points_possible: float
    graded: list[tuple[Student, SubmissionResult]] = field(default_factory=list)
    unknown: list[SubmissionResult] = field(default_factory=list)  # graded, but not in the roster
    missing: list[Student] = field(default_factory=list)  # in the roster, but never graded
    pending: list[tuple[Student, SubmissionResult]] = field(default_factory=list)  # written answers to grade
    notes: list[str] = field(default_factory=list)

    def report(self) -> str:
        """What the instructor must look at, as plain text (also printed on stderr)."""
        lines = [f"Canvas column {self.column!r}, {self.points_possible:g} points possible: "
                 f"{len(self.graded)} graded, {len(self.missing)} without a submission, "
                 f"{len(self.unknown)} submission(s) not in the roster"
                 + (f", {len(self.pending)} with written answers still to grade." if self.pending else ".")]
        if self.pending:
            lines += ["", "Students whose written answers are not all graded yet (their grade is left empty; grade "
                          "them with `autograder review`, then export again):"]
            lines += [f"  {s.name} (submission {s.submission!r}, {r.pending_points:g} points pending)"
                      for s, r in self.pending]
        if self.missing:
            lines += ["", "Students in the roster with no graded submission (their grade is left empty):"]
            lines += [f"  {s.name} (submission {s.submission!r}, {_identifier(s)})" for s in self.missing]
        if self.unknown:
            lines += ["", "Graded submissions that are not in the roster (not in the CSV; add them to the roster "
                          "if they belong to a student):"]
            lines += [f"  {r.submission}: {r.score:g} / {r.max_score:g}" for r in self.unknown]
        lines += ["", *self.notes] if self.notes else []
        return "\n".join(lines) + "\n"


def assignment_column(title: str, canvas_id: str | None) -> str:
    return f"{title} ({canvas_id})" if canvas_id else title


def students_from_downloads(records: dict[str, dict], roster: list[Student]) -> list[Student]:
    """One student per Canvas user graded from a download (by name), then the roster's others.

    A roster row describes a downloaded student when its ``submission`` is theirs or its ``id`` is their
    Canvas user ID; its name, SIS ids and section are then used. The download's names (``smithjohn``)
    are only shown: Canvas matches on the ID."""
    downloaded = sorted((record for record in records.values() if record.get("platform") == "canvas"),
                        key=lambda record: (record["student"], record["student_id"]))
    by_submission = {student.submission: student for student in roster if student.submission}
    by_id = {student.id: student for student in roster if student.id}
    students, described = [], set()
    for record in downloaded:
        known = by_submission.get(record["submission"]) or by_id.get(record["student_id"])
        if known is not None:
            described.add(id(known))
            students.append(Student(record["submission"], known.name, record["student_id"], known.sis_user_id,
                                    known.sis_login_id, known.section))
        else:
            students.append(Student(record["submission"], record["student"], record["student_id"]))
    return students + [student for student in roster if id(student) not in described]


def match(results: Iterable[SubmissionResult], roster: list[Student], column: str) -> CanvasExport:
    by_submission = {result.submission: result for result in results}
    maxima = sorted({result.max_score for result in by_submission.values()})
    export = CanvasExport(column=column, points_possible=maxima[-1] if maxima else 0.0)
    if len(maxima) > 1:
        export.notes.append(f"Results differ in points possible ({', '.join(f'{m:g}' for m in maxima)}): some were "
                            "graded with an older suite. Run `autograder grade` with the same --out again to "
                            "regrade them, then export again.")
    on_roster = set()
    for student in roster:
        on_roster.add(student.submission)
        result = by_submission.get(student.submission) if student.submission else None
        if result is None:
            export.missing.append(student)
        elif result.pending_points:
            export.pending.append((student, result))
        else:
            export.graded.append((student, result))
    export.unknown = [result for submission, result in sorted(by_submission.items()) if submission not in on_roster]
    return export


def write_canvas_csv(path: Path, roster: list[Student], export: CanvasExport) -> None:
    """One row per roster student, in roster order; students without a submission get an empty grade."""
    grades = {student.submission: f"{result.score:g}" for student, result in export.graded}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*STUDENT_COLUMNS, export.column])
        writer.writerow([POINTS_POSSIBLE, "", "", "", "", f"{export.points_possible:g}"])
        for student in roster:
            # Names and sections are shown, never matched on (ids are), so they are made formula-free.
            writer.writerow([csv_cell(student.name), student.id, student.sis_user_id, student.sis_login_id,
                             csv_cell(student.section), grades.get(student.submission, "")])
    os.replace(temporary, path)


def _identifier(student: Student) -> str:
    for label, value in (("ID", student.id), ("SIS User ID", student.sis_user_id),
                         ("SIS Login ID", student.sis_login_id)):
        if value:
            return f"{label} {value}"
    return "no identifier"
