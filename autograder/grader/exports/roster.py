"""The roster: which student each submission id belongs to, for exports to a learning platform.

A CSV file whose first line names its columns (in any order, case ignored)::

    submission,student,id,sis_user_id,sis_login_id,section
    section-a/alice,"Liddell, Alice",1001,S001,aliddell,Section A

* ``submission``: the submission id, as in grades.csv (the notebook's path relative to the folder
  graded, without ``.ipynb``); it may be left out for students graded from a Canvas download, whom the
  ``id`` (Canvas user ID) finds (a row needs one or the other);
* ``student`` (required): the name shown in the platform's gradebook;
* ``id``, ``sis_user_id``, ``sis_login_id``: the platform's identifiers; a row needs at least one, since
  that is what the platform matches students on (Canvas: its user ID, SIS User ID or SIS Login ID);
* ``section`` (optional).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("submission", "student", "id", "sis_user_id", "sis_login_id", "section")
REQUIRED = ("student",)
IDENTIFIERS = ("id", "sis_user_id", "sis_login_id")


class RosterError(Exception):
    """The roster cannot be used; the message says which line and what to fix."""


@dataclass(frozen=True)
class Student:
    submission: str
    name: str
    id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


def read_roster(path: Path) -> list[Student]:
    """The roster's students in file order, after checking every row can be matched unambiguously."""
    try:
        # utf-8-sig: spreadsheets often save CSV with a byte-order mark.
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip().lower() for name in next(reader, [])]
            rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise RosterError(f"The roster {path} cannot be read ({error}); save it as a UTF-8 CSV file.") from None

    expected = f"its first line must name the columns {','.join(COLUMNS)}"
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in COLUMNS]
    if missing or unknown:
        problems = ([f"has no column {', '.join(missing)}"] if missing else []) + \
                   ([f"has unknown column(s) {', '.join(unknown)}"] if unknown else [])
        raise RosterError(f"The roster {path} {' and '.join(problems)}; {expected} (id, sis_user_id, "
                          "sis_login_id and section may be left out).")

    students: list[Student] = []
    first_line: dict[tuple[str, str], int] = {}  # (column, value) -> line, to catch duplicates
    for line, row in rows:
        if len(row) != len(header):
            raise RosterError(f"Line {line} of the roster {path} has {len(row)} fields but the header has "
                              f"{len(header)}; quote names that contain commas (\"Liddell, Alice\").")
        values = {name: cell.strip() for name, cell in zip(header, row, strict=True)}
        values.setdefault("submission", "")
        for name in REQUIRED:
            if not values[name]:
                raise RosterError(f"Line {line} of the roster {path} has an empty {name}; fill it in.")
        if not any(values.get(name) for name in IDENTIFIERS):
            raise RosterError(f"Line {line} of the roster {path} ({values['student']}) has none of "
                              f"{', '.join(IDENTIFIERS)}; give at least one, or the platform cannot match the student.")
        if not values["submission"] and not values.get("id"):
            raise RosterError(f"Line {line} of the roster {path} ({values['student']}) has neither a submission nor "
                              "an id; give the submission id (as in grades.csv) or the student's Canvas user ID.")
        for name in ("submission", *IDENTIFIERS):
            key = (name, values.get(name, ""))
            if key[1] and key in first_line:
                raise RosterError(f"Lines {first_line[key]} and {line} of the roster {path} have the same {name} "
                                  f"{key[1]!r}; each submission and each student may appear once.")
            first_line.setdefault(key, line)
        students.append(Student(submission=values["submission"], name=values["student"],
                                **{name: values.get(name, "") for name in (*IDENTIFIERS, "section")}))
    return students
