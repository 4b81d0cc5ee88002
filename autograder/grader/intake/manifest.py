"""Who each graded submission belongs to: ``intake.json`` (read back by the exports) and ``intake.csv``
(for people) in the ``--out`` folder, beside grades.csv.

One record per submission id from a platform's download: the platform, the student's identifier and
name, the file graded, when it was handed in and whether the platform marked it late, and the earlier
attempts it superseded. Records of earlier runs are kept (a re-run with a newer download updates the
students it holds), so the exports know every student the gradebook holds. Plain folders of notebooks
add nothing: their ids are their paths.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from autograder.grader.escaping import csv_cell, printable
from autograder.grader.intake.attempts import Chosen

MANIFEST = "intake.json"
TABLE = "intake.csv"
COLUMNS = ("submission", "platform", "student", "student_id", "late", "submitted_at", "graded_file", "superseded")


def record(chosen: Chosen) -> dict:
    attempt = chosen.attempt
    return {"submission": chosen.id, "platform": attempt.lms, "student_id": attempt.student_key,
            "student": attempt.student_name, "file": attempt.file_name, "late": attempt.late,
            "submitted_at": attempt.submitted_at, "source": attempt.source, "problem": attempt.problem,
            "platform_ids": dict(attempt.platform_ids),
            "superseded": [asdict(earlier) for earlier in chosen.superseded]}


def about(chosen: Chosen) -> dict:
    """What results/<id>.json says of who handed the submission in (its ``extra_data.intake``)."""
    attempt = chosen.attempt
    return {"platform": attempt.lms, "student": attempt.student_name, "student_id": attempt.student_key,
            "file": attempt.file_name, "late": attempt.late, "submitted_at": attempt.submitted_at,
            "superseded": [asdict(earlier) for earlier in chosen.superseded]}


def read_manifest(out: Path) -> dict[str, dict]:
    """The records by submission id (empty when nothing was graded from a platform's download)."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {item["submission"]: item for item in data.get("submissions", []) if isinstance(item, dict)
            and isinstance(item.get("submission"), str)}


def write_manifest(out: Path, chosen: Iterable[Chosen]) -> dict[str, dict]:
    """Add (or update) the records of this batch, keep the others; write both files; return all records."""
    records = read_manifest(out)
    records.update({item.id: record(item) for item in chosen if item.attempt.lms != "folder"})
    if not records:
        return records
    out.mkdir(parents=True, exist_ok=True)
    ordered = [records[key] for key in sorted(records)]
    _replace(out / MANIFEST, json.dumps({"submissions": ordered}, indent=1, ensure_ascii=False))
    temporary = out / (TABLE + ".tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for item in ordered:
            late = {True: "late", False: "", None: "not marked"}[item.get("late")]
            superseded = "; ".join(f"{s['file_name']}" + (f" ({s['submitted_at']})" if s.get("submitted_at") else "")
                                   + (" late" if s.get("late") else "") for s in item.get("superseded", []))
            writer.writerow([csv_cell(item["submission"]), item["platform"], csv_cell(item["student"]),
                             csv_cell(item["student_id"]), late, csv_cell(printable(str(item["submitted_at"]))),
                             csv_cell(item["file"]), csv_cell(superseded)])
    os.replace(temporary, out / TABLE)
    return records


def _replace(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
