"""From the paths given to ``autograder grade`` to the submissions graded: notebooks, folders, zips of
submissions, and folders holding zips, whichever platform they were downloaded from.

Zips are unpacked into one private temporary folder (removed when the :class:`Intake` is closed), under
one budget for the whole batch. The attempts of every path are pooled before the latest is chosen, so
that two downloads of one course (say, before and after the late deadline) give one row per student.
A plain folder with no zip is read exactly as before (:func:`autograder.grader.batch.discover`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.grader.batch import BatchError, SubmissionFile, _unique_ids, discover
from autograder.grader.intake import layouts
from autograder.grader.intake.attempts import Attempt, Chosen, Superseded, choose_latest
from autograder.grader.intake.gradescope import MetadataError
from autograder.grader.intake.manifest import about
from autograder.grader.intake.safe_zip import Budget, Entry, ZipUnusable, private_folder, unpack

DESCRIPTIONS = {"canvas": "a Canvas download", "gradescope": "a Gradescope export", "moodle": "a Moodle download",
                "blackboard": "a Blackboard download", "folder": "a plain folder of notebooks"}


@dataclass
class Intake:
    """The submissions to grade, who they belong to, and what the instructor should know about the paths."""
    submissions: list[SubmissionFile] = field(default_factory=list)
    chosen: dict[str, Chosen] = field(default_factory=dict)  # by submission id; platform downloads only
    messages: list[str] = field(default_factory=list)  # about the batch, not one submission
    layouts: list[str] = field(default_factory=list)  # "submissions.zip as a Canvas download", ...
    workspace: Path | None = None

    def close(self) -> None:
        if self.workspace is not None:
            shutil.rmtree(self.workspace, ignore_errors=True)
            self.workspace = None

    def __enter__(self) -> Intake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def gather(paths: Iterable[Path], budget: Budget | None = None) -> Intake:
    intake = Intake()
    budget = budget or Budget()
    attempts: list[Attempt] = []
    history: dict[tuple[str, str], list[Superseded]] = {}
    plain: list[SubmissionFile] = []
    try:
        for path in paths:
            if not path.exists() and not path.is_symlink():
                raise BatchError(f"{path} does not exist; give notebooks, zips or folders of them.")
            if path.is_dir():
                zips = sorted(p for p in path.rglob("*.zip") if p.is_file() and not p.is_symlink()
                              and ".ipynb_checkpoints" not in p.parts)
                parsed = _parse(intake, _folder_entries(path), path)
                if parsed is not None and parsed.layout == "folder":
                    plain += discover([path])
                elif parsed is not None:
                    _take(intake, parsed, "", path, attempts, history, plain)
                for archive in zips:
                    prefix = archive.relative_to(path).with_suffix("").as_posix() + "/"
                    _take_zip(intake, archive, prefix, budget, attempts, history, plain)
            elif path.suffix.lower() == ".zip" and not path.is_symlink():
                _take_zip(intake, path, "", budget, attempts, history, plain)
            else:
                plain += discover([path])
    except BaseException:
        intake.close()
        raise
    for chosen in choose_latest(attempts, history):
        attempt = chosen.attempt
        intake.chosen[chosen.id] = chosen
        path = attempt.path if attempt.path is not None else _stand_in(intake, attempt.problem)
        plain.append(SubmissionFile(chosen.id, path, attempt.problem, about=about(chosen)))
    intake.submissions = _unique_ids(plain)
    return intake


def _take_zip(intake: Intake, archive: Path, prefix: str, budget: Budget, attempts: list[Attempt],
              history: dict, plain: list[SubmissionFile]) -> None:
    if intake.workspace is None:
        intake.workspace = private_folder()
    into = Path(tempfile.mkdtemp(prefix="zip-", dir=intake.workspace))
    try:
        unpacked = unpack(archive, into, budget)
    except ZipUnusable as error:
        intake.messages.append(str(error))
        return
    parsed = _parse(intake, unpacked.entries, archive)
    if parsed is not None:
        _take(intake, parsed, prefix, archive, attempts, history, plain)


def _parse(intake: Intake, entries: list[Entry], source: Path) -> layouts.Parsed | None:
    try:
        return layouts.parse(entries, source.name)
    except MetadataError as error:
        intake.messages.append(f"{source}: {error} Its submissions are not graded.")
        return None


def _take(intake: Intake, parsed: layouts.Parsed, prefix: str, source: Path, attempts: list[Attempt],
          history: dict, plain: list[SubmissionFile]) -> None:
    intake.layouts.append(f"{source.name} as {DESCRIPTIONS[parsed.layout]}")
    attempts += parsed.attempts
    for key, earlier in parsed.history.items():
        history.setdefault(key, []).extend(earlier)
    for entry in parsed.unclaimed:
        if entry.name.lower().endswith(".ipynb") and ".ipynb_checkpoints" not in entry.name.split("/"):
            path = entry.path if entry.path is not None else _stand_in(intake, entry.refusal)
            plain.append(SubmissionFile(_plain_id(prefix, entry.name), path, entry.refusal))
        elif entry.refusal:
            intake.messages.append(entry.refusal)


def _plain_id(prefix: str, name: str) -> str:
    """A notebook's path in its zip (after the zip's own path in a folder), without ``.ipynb``; parts that
    would climb out (``..``, a leading ``/``) are dropped, so a refused entry still has a readable id."""
    parts = [part for part in PurePosixPath(prefix + name).with_suffix("").parts if part not in ("/", "..", ".")]
    return "/".join(parts) or "unnamed"


def _folder_entries(folder: Path) -> list[Entry]:
    """The files of a folder as entries: a symbolic link is listed, refused, never followed."""
    entries = []
    for path in sorted(folder.rglob("*")):
        if ".ipynb_checkpoints" in path.parts or path.suffix.lower() == ".zip":
            continue
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            entries.append(Entry(name, None, f"The file {name!r} in {folder} is a symbolic link; links are never "
                                             "followed. Submit the notebook itself."))
        elif path.is_file():
            entries.append(Entry(name, path, None, (int(path.stat().st_mtime),)))
    return entries


def _stand_in(intake: Intake, problem: str | None) -> Path:
    """A file holding the reason a submission has no file to grade: its content fingerprint is then the
    same on every run (a re-run reuses the result), and the grader never reads it (the problem is set)."""
    if intake.workspace is None:
        intake.workspace = private_folder()
    folder = intake.workspace / "not-unpacked"
    folder.mkdir(exist_ok=True)
    path = folder / f"{sum(1 for _ in folder.iterdir()) + 1}.txt"
    path.write_text(problem or "No file to grade.", encoding="utf-8")
    return path


__all__ = ["Intake", "MetadataError", "gather"]
