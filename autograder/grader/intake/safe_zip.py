"""Unpacking a zip of submissions without trusting it: only regular files, only inside a private folder,
within a budget of entries and bytes.

A zip downloaded from a learning platform holds files that students named, and may have been built by
anyone. Each entry is checked before a byte is written; an entry that is refused keeps its name and the
reason, so the submission it belongs to can say why it was not graded, and the others are unpacked all
the same. Sizes are counted while decompressing (never taken from the zip's own header, which can lie).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.grader.notebook import MAX_NOTEBOOK_BYTES

MAX_ENTRIES = 20_000  # a course of 1,000 students with a dozen files each, with room to spare
MAX_TOTAL_BYTES = 4 * 2**30
MAX_ENTRY_BYTES = MAX_NOTEBOOK_BYTES  # a larger file is refused at grading anyway
MAX_RATIO = 200  # uncompressed / compressed; notebooks compress 5-20 times, zip bombs thousands of times
RATIO_FLOOR = 2**20  # small entries may compress as well as they like
_CHUNK = 1 << 16


class ZipUnusable(Exception):
    """The zip as a whole cannot be read (not a zip, or over the entry budget); the message says why."""


@dataclass(frozen=True)
class Entry:
    """One file of a folder or zip: its path there (``/``-separated), where it was unpacked, or why not."""
    name: str
    path: Path | None
    refusal: str | None = None
    modified: tuple[int, ...] = ()  # the zip's or file system's date, for ordering files without another date


@dataclass
class Budget:
    """What the zips of one batch may unpack in all, shared by every zip of the batch."""
    entries: int = MAX_ENTRIES
    total_bytes: int = MAX_TOTAL_BYTES
    entry_bytes: int = MAX_ENTRY_BYTES
    ratio: int = MAX_RATIO
    used_entries: int = 0
    used_bytes: int = 0


@dataclass
class Unpacked:
    entries: list[Entry] = field(default_factory=list)


def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name as its author wrote it: zips without the UTF-8 flag that hold UTF-8 names (as many
    tools write them) are decoded as UTF-8, so that accented names survive."""
    name = info.filename
    if not info.flag_bits & 0x800:
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("utf-8")
    return name


def name_problem(name: str) -> str | None:
    """Why a path inside a zip may not be unpacked, or None."""
    if "\x00" in name:
        return "its name holds a NUL character"
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        return "its path is absolute (it would be written outside the folder it is unpacked in)"
    if ".." in PurePosixPath(posix).parts:
        return "its path climbs out of the zip with '..' (it would be written outside the folder it is unpacked in)"
    return None


def unpack(archive: Path, into: Path, budget: Budget) -> Unpacked:
    """Unpack the regular files of ``archive`` under ``into`` (a new private folder); every entry is listed,
    refused ones with the reason. Raises :class:`ZipUnusable` when the zip cannot be read at all."""
    try:
        handle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ZipUnusable(f"{archive} cannot be read as a zip ({error}); download it again from the learning "
                          "platform, or unpack it and give the folder.") from None
    with handle:
        infos = handle.infolist()
        if budget.used_entries + len(infos) > budget.entries:
            raise ZipUnusable(f"{archive} holds {len(infos):,} entries, over the limit of {budget.entries:,} per "
                              "batch (a zip bomb, or several courses at once); grade it in parts.")
        budget.used_entries += len(infos)
        unpacked = Unpacked()
        seen: set[str] = set()
        for info in infos:
            name = entry_name(info)
            if name.endswith("/") or info.is_dir():
                continue
            clean = clean_name(name)
            refusal = _refusal(info, name, clean, seen, budget)
            target = None
            if refusal is None:
                target = into.joinpath(*clean.split("/"))
                refusal = _extract(handle, info, target, into, budget)
                target = None if refusal else target
            seen.add(clean)
            unpacked.entries.append(Entry(clean or name, target, refusal and f"The file {name!r} in {archive.name} "
                                          f"was not unpacked: {refusal}.", tuple(info.date_time)))
        return unpacked


def clean_name(name: str) -> str:
    """The entry's path with ``/`` separators, without a leading ``/`` or ``.`` parts (``./a`` is ``a``)."""
    return "/".join(part for part in PurePosixPath(name.replace("\\", "/")).parts if part not in ("/", "."))


def _refusal(info: zipfile.ZipInfo, name: str, clean: str, seen: set[str], budget: Budget) -> str | None:
    problem = name_problem(name)
    if problem:
        return problem
    if not clean:
        return "it has no file name"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "it is a symbolic link (links are never followed; submit the notebook itself)"
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):  # no type bits at all: a plain file (as many tools write)
        return "it is not a regular file"
    if info.flag_bits & 0x1:
        return "it is encrypted"
    if clean in seen:
        return "the zip holds another file of the same name"
    if info.file_size > RATIO_FLOOR and info.file_size > budget.ratio * max(info.compress_size, 1):
        return (f"it would grow {info.file_size // max(info.compress_size, 1):,} times when unpacked (a zip bomb; "
                "a notebook grows at most a few dozen times)")
    if info.file_size > budget.entry_bytes:
        return f"it is {_size(info.file_size)}, over the {_size(budget.entry_bytes)} limit per file"
    if budget.used_bytes + info.file_size > budget.total_bytes:
        return f"the batch's zips would unpack to more than {_size(budget.total_bytes)} in all"
    return None


def _extract(handle: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, root: Path, budget: Budget) -> str | None:
    """Copy one entry, counting what decompression really yields; the reason it stopped, or None."""
    if not target.resolve().is_relative_to(root.resolve()):
        return "its path leads outside the folder it is unpacked in"
    allowed = min(budget.entry_bytes, budget.total_bytes - budget.used_bytes,
                  max(info.file_size, 0))  # the header's size is an upper bound too: more is a lie
    ratio_cap = max(RATIO_FLOOR, budget.ratio * max(info.compress_size, 1))
    written, created = 0, False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL|O_NOFOLLOW: never write through a link or over a file a previous entry made.
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        created = True
        with os.fdopen(descriptor, "wb") as output, handle.open(info) as source:
            while block := source.read(_CHUNK):
                if written + len(block) > allowed or written + len(block) > ratio_cap:
                    raise _TooBig
                written += len(block)
                output.write(block)
    except _TooBig:
        problem = "it unpacks to more bytes than its header declares or than the limits allow (a zip bomb)"
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as error:
        problem = f"it cannot be unpacked ({error})"
    else:
        problem = None
    budget.used_bytes += written
    if problem and created:
        target.unlink(missing_ok=True)  # only what this entry made: never an earlier entry's file
    return problem


class _TooBig(Exception):
    pass


def _size(count: int) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if count >= scale:
            return f"{count / scale:,.0f} {unit}"
    return f"{count} bytes"


def private_folder() -> Path:
    """A new folder only this user can read, for unpacked submissions (removed by the caller)."""
    return Path(tempfile.mkdtemp(prefix="autograder-intake-"))
