"""Gradescope's "Export Submissions": one folder per submission beside ``submission_metadata.yml``.

The metadata maps each folder (``submission_123456789``) to its ``:submitters`` (each with ``:name``,
``:sid`` and ``:email``; several for a group), its ``:created_at`` time and its ``:history`` of earlier
submissions (Gradescope keeps their files out of the export: they are listed as superseded). A student
is known by their SID, or their email when the course has no SIDs. A group's notebook is graded once per
member, so that each has a row.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from autograder.grader.intake.attempts import Attempt, Superseded, not_notebook
from autograder.grader.intake.safe_zip import Entry

METADATA = "submission_metadata.yml"
MAX_METADATA_BYTES = 64 * 2**20


class MetadataError(Exception):
    """The metadata cannot be read; the message says what to do."""


def matches(entry: Entry) -> bool:
    return entry.name.rsplit("/", 1)[-1] == METADATA


def attempts(entries: list[Entry], source: str) -> tuple[list[Attempt], dict[tuple[str, str], list[Superseded]]]:
    """The attempts of the export (one per submitter), and each student's earlier submissions."""
    metadata_entry = min((e for e in entries if matches(e)), key=lambda e: e.name.count("/"))
    root = str(PurePosixPath(metadata_entry.name).parent)
    root = "" if root == "." else root + "/"
    metadata = _load(metadata_entry)
    found: list[Attempt] = []
    history: dict[tuple[str, str], list[Superseded]] = {}
    for folder, record in metadata.items():
        if not isinstance(record, dict):
            continue
        files = [e for e in entries if e.name.startswith(f"{root}{folder}/")]
        notebooks = [e for e in files if e.name.lower().endswith(".ipynb")]
        chosen, problem = _pick(notebooks, files, str(folder))
        created = str(record.get(":created_at", "") or "")
        earlier = [Superseded(f"{folder} (earlier submission{_id_text(item)})", str(item.get(":created_at", "")))
                   for item in reversed(_list(record.get(":history", record.get(":previous_submissions"))))
                   if isinstance(item, dict)]
        for submitter in _list(record.get(":submitters")):
            if not isinstance(submitter, dict):
                continue
            key = _text(submitter.get(":sid")) or _text(submitter.get(":email")) or _text(submitter.get(":name"))
            if not key:
                continue
            found.append(Attempt(
                lms="gradescope", student_key=key, student_name=_text(submitter.get(":name")) or key,
                file_name=chosen.name if chosen else str(folder), path=chosen.path if chosen else None,
                order=(created,), submitted_at=created, problem=problem, source=source,
                platform_ids={"sid": _text(submitter.get(":sid")), "email": _text(submitter.get(":email")),
                              "submission": str(folder), "folder": f"{root}{folder}/"}))
            history.setdefault(("gradescope", key), []).extend(earlier)
    return found, history


def _pick(notebooks: list[Entry], files: list[Entry], folder: str) -> tuple[Entry | None, str | None]:
    if len(notebooks) == 1:
        return notebooks[0], notebooks[0].refusal
    if not notebooks:
        names = ", ".join(sorted(e.name.rsplit("/", 1)[-1] for e in files)) or "nothing"
        return None, not_notebook(names) if files else f"The submission {folder} holds no files; submit the notebook."
    names = ", ".join(sorted(e.name.rsplit("/", 1)[-1] for e in notebooks))
    return None, (f"The submission holds {len(notebooks)} notebooks ({names}); submit only the assignment's "
                  "notebook, so that it is clear which one to grade.")


def _load(entry: Entry) -> dict:
    if entry.path is None:
        raise MetadataError(f"{METADATA} was not unpacked: {entry.refusal}")
    try:
        import yaml
    except ImportError:
        raise MetadataError(f"Reading Gradescope's {METADATA} needs PyYAML: pip install 'gd-autograder[instructor]'.")\
            from None
    if entry.path.stat().st_size > MAX_METADATA_BYTES:
        raise MetadataError(f"{METADATA} is over {MAX_METADATA_BYTES // 2**20} MB; export the submissions again.")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # safe: plain data only, never Python objects
    try:
        data = yaml.load(entry.path.read_text(encoding="utf-8", errors="replace"), Loader=loader)
    except yaml.YAMLError as error:
        raise MetadataError(f"{METADATA} cannot be read ({error}); export the submissions again.") from None
    if not isinstance(data, dict):
        raise MetadataError(f"{METADATA} does not map submission folders to their submitters; export again.")
    return data


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _id_text(item: dict) -> str:
    return f" {item[':id']}" if item.get(":id") is not None else ""
