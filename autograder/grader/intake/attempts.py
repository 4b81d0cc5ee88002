"""Attempts, and which of a student's attempts is graded: the latest notebook; the rest are superseded.

Each layout turns the files of a download into :class:`Attempt` records; grading then sees one
submission per student, whose id comes from the platform's identifier of the student (stable when the
course is downloaded again, so a re-run grades only students whose latest notebook changed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Attempt:
    """One file a student handed in, as the platform's download describes it."""
    lms: str  # "canvas", "gradescope", "moodle", "blackboard" or "folder"
    student_key: str  # the platform's identifier of the student (the submission id is built from it)
    student_name: str  # for people to read; never used to match
    file_name: str  # the name of the file in the download
    path: Path | None  # where it was unpacked; None when it was refused
    order: tuple = ()  # later attempts sort higher
    late: bool | None = None  # None: the platform does not say
    submitted_at: str = ""
    problem: str | None = None  # why it cannot be graded (refused by the unpacking, not a notebook...)
    is_notebook: bool = True
    platform_ids: dict[str, str] = field(default_factory=dict)  # e.g. Canvas's user and attachment ids
    source: str = ""  # the zip or folder it came from, for messages


@dataclass(frozen=True)
class Superseded:
    """An earlier attempt, listed but not graded (Gradescope lists them without their files)."""
    file_name: str
    submitted_at: str = ""
    late: bool | None = None


@dataclass
class Chosen:
    """The attempt graded for one student, with the attempts it supersedes."""
    id: str
    attempt: Attempt
    superseded: list[Superseded] = field(default_factory=list)


def not_notebook(file_name: str, refusal: str | None = None) -> str:
    """What a student who handed in only something else is told."""
    return refusal or (f"The file handed in, {file_name}, is not a notebook. Submit the .ipynb file itself "
                       "(in Jupyter: File > Download, or File > Save and Export Notebook As > Notebook).")


def submission_id(lms: str, student_key: str) -> str:
    """``canvas-12345``: the platform and its identifier, so ids of two platforms never meet. A plain
    folder keeps today's ids: the notebook's path without ``.ipynb``."""
    return student_key if lms == "folder" else f"{lms}-{student_key}"


def choose_latest(attempts: Iterable[Attempt], history: dict[tuple[str, str], list[Superseded]] | None = None
                  ) -> list[Chosen]:
    """One :class:`Chosen` per student (in order of first appearance): their latest notebook, or, if they
    handed in no notebook at all, their latest file (which then says what to submit instead)."""
    by_student: dict[tuple[str, str], list[Attempt]] = {}
    for attempt in attempts:
        by_student.setdefault((attempt.lms, attempt.student_key), []).append(attempt)
    chosen = []
    for key, theirs in by_student.items():
        notebooks = [a for a in theirs if a.is_notebook] or theirs
        # On a tie (the same file twice in a zip), the copy that could be unpacked wins.
        ranked = sorted(notebooks, key=lambda a: (a.order, a.file_name, a.problem is None))
        latest = ranked[-1]
        # The same file met twice (a download given unpacked and zipped) is one attempt, not a superseded one.
        copies = {(latest.order, latest.file_name)}
        earlier = []
        for attempt in reversed(ranked[:-1]):
            if (attempt.order, attempt.file_name) not in copies:
                copies.add((attempt.order, attempt.file_name))
                earlier.append(Superseded(attempt.file_name, attempt.submitted_at, attempt.late))
        earlier += (history or {}).get(key, [])
        chosen.append(Chosen(submission_id(*key), latest, list(dict.fromkeys(earlier))))  # two exports: listed once
    return chosen
