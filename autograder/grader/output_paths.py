"""Where a submission's files go under ``--out``: one path per submission id, safe whatever the id holds.

Ids come from file names that students (or an LMS) chose. Each ``/``-separated part of an id becomes a
folder or file name with:

* ``%`` and ``.`` written as ``%25`` and ``%2E``, and control characters and ``\\`` as their ``%XX`` code.
  No part then holds a dot, and every name the grader adds holds one (``.html``, ``.files``, ``.json``,
  ``.tmp``), so one submission's files can never be another's (``bob``'s plots in ``bob.files/``
  against a submission ``bob.files/plot``);
* ``.`` and ``..`` parts dropped, so nothing leaves its folder;
* parts longer than :data:`MAX_PART_BYTES` shortened, with a digest of the whole part, so that a
  255-byte file name plus ``.html.tmp`` stays under the file system's limit of 255 bytes per name.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

MAX_PART_BYTES = 200  # leaves room for the longest suffix the grader adds (".html.tmp", ".files")
_KEPT_SHORT = 150


def id_parts(submission: str) -> list[str]:
    """The folder and file names of ``submission`` (its last part without any suffix)."""
    parts = [_encode(part) for part in PurePosixPath(submission.replace("\\", "/")).parts
             if part not in ("", ".", "..", "/")]
    return parts or ["unnamed"]


def submission_path(folder: Path, submission: str, suffix: str) -> Path:
    """``folder/<id><suffix>``, the id's parts as nested folders."""
    parts = id_parts(submission)
    return folder.joinpath(*parts[:-1], parts[-1] + suffix)


def _encode(part: str) -> str:
    encoded = "".join(f"%{ord(char):02X}" if char in "%.\\" or ord(char) < 32 or ord(char) == 127 else char
                      for char in part)
    raw = encoded.encode("utf-8", "surrogateescape")
    if len(raw) <= MAX_PART_BYTES:
        return encoded
    digest = hashlib.sha256(raw).hexdigest()[:16]
    return raw[:_KEPT_SHORT].decode("utf-8", "ignore") + "~" + digest
