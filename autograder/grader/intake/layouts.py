"""Which platform a folder or zip of submissions came from, told by its file names.

Checked from the most specific sign to the least: Gradescope's ``submission_metadata.yml``; Moodle's
``_assignsubmission_`` folders; Blackboard's ``_attempt_<date>`` names; Canvas's ``name_userid_
attachmentid_file``. A platform's names must be most of the files (a plain folder where one student
named a notebook ``alice_2024_01_hw.ipynb`` stays a plain folder). Anything else is a plain folder of
notebooks (ids: their paths). Files a Mac adds when re-zipping (``__MACOSX/``, ``._name``,
``.DS_Store``) and Jupyter's ``.ipynb_checkpoints`` are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.grader.intake import blackboard, canvas, gradescope, moodle
from autograder.grader.intake.attempts import Attempt, Superseded
from autograder.grader.intake.safe_zip import Entry

BY_NAMES = (("moodle", moodle.matches), ("blackboard", blackboard.matches), ("canvas", canvas.matches))


@dataclass
class Parsed:
    layout: str
    attempts: list[Attempt] = field(default_factory=list)
    history: dict[tuple[str, str], list[Superseded]] = field(default_factory=dict)
    unclaimed: list[Entry] = field(default_factory=list)  # files no student's attempt accounts for


def detect(entries: list[Entry]) -> str:
    if any(gradescope.matches(entry) for entry in entries):
        return "gradescope"
    for name, matches in BY_NAMES:
        if 2 * sum(matches(entry) for entry in entries) > len(entries):
            return name
    return "folder"


def is_clutter(entry: Entry) -> bool:
    base = entry.name.rsplit("/", 1)[-1]
    return (entry.name.startswith("__MACOSX/") or base.startswith("._") or base == ".DS_Store"
            or ".ipynb_checkpoints" in entry.name.split("/"))


def parse(entries: list[Entry], source: str) -> Parsed:
    """The attempts of a detected platform's download (``folder``: none; the caller lists notebooks)."""
    entries = [entry for entry in entries if not is_clutter(entry)]
    layout = detect(entries)
    parsed = Parsed(layout)
    if layout == "gradescope":
        parsed.attempts, parsed.history = gradescope.attempts(entries, source)
    elif layout != "folder":
        parsed.attempts = {"moodle": moodle, "blackboard": blackboard, "canvas": canvas}[layout].attempts(entries,
                                                                                                         source)
    claimed = {attempt.platform_ids.get("file_name") for attempt in parsed.attempts}
    folders = tuple({attempt.platform_ids["folder"] for attempt in parsed.attempts if "folder" in attempt.platform_ids})
    parsed.unclaimed = [entry for entry in entries if entry.name not in claimed and not gradescope.matches(entry)
                        and entry.name.rsplit("/", 1)[-1] not in claimed and not entry.name.startswith(folders)]
    return parsed
