"""A wheel of the installed gd-autograder, built from the files Python imports.

An export must run on an instructor's machine without network access or build tools, and the result
must install offline (Gradescope's ``setup.sh``, a student repository's CI). A pure-Python wheel is a
zip of the package files plus a ``.dist-info`` folder (PEP 427), so we write it directly instead of
calling a build backend, which would need setuptools (and, with build isolation, the network).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import re
import zipfile
from pathlib import Path

DISTRIBUTION = "gd-autograder"

# Fixed timestamps keep the wheel byte-identical across exports of the same files.
_EPOCH = (1980, 1, 1, 0, 0, 0)
_SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}


class WheelError(Exception):
    """The installed package cannot be packed into a wheel; the message says what to do."""


def build_wheel(folder: Path, distribution: str = DISTRIBUTION) -> Path:
    """Write ``<name>-<version>-py3-none-any.whl`` into ``folder`` and return its path."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise WheelError(f"{distribution} is not installed in this Python; install it (pip install .) "
                         "and export again.") from None
    # A source checkout on sys.path is found through its .egg-info, whose PKG-INFO has the same format.
    metadata = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    top_level = (dist.read_text("top_level.txt") or "").split()
    if not metadata or not top_level:
        raise WheelError(f"The installed {distribution} has no METADATA (or PKG-INFO) or top_level.txt; "
                         "reinstall it with pip install . and export again.")
    dist_info = f"{_stem(dist)}.dist-info"
    files = {f"{dist_info}/METADATA": metadata.encode(),
             f"{dist_info}/WHEEL": (f"Wheel-Version: 1.0\nGenerator: {distribution} export\n"
                                    "Root-Is-Purelib: true\nTag: py3-none-any\n").encode(),
             f"{dist_info}/top_level.txt": ("\n".join(top_level) + "\n").encode()}
    entry_points = dist.read_text("entry_points.txt")
    if entry_points:
        files[f"{dist_info}/entry_points.txt"] = entry_points.encode()
    for name in top_level:
        files.update(_module_files(name))

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_stem(dist)}-py3-none-any.whl"
    record = f"{dist_info}/RECORD"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        lines = []
        for arcname in sorted(files):
            data = files[arcname]
            _write(archive, arcname, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            lines.append(f"{arcname},sha256={digest},{len(data)}")
        lines.append(f"{record},,")
        _write(archive, record, ("\n".join(lines) + "\n").encode())
    return path


def _module_files(name: str) -> dict[str, bytes]:
    """The files of top-level module or package ``name``, as importing it finds them."""
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise WheelError(f"The installed package lists the module {name!r}, but Python cannot import it; "
                         "reinstall the package and export again.")
    if spec.submodule_search_locations:
        root = Path(next(iter(spec.submodule_search_locations)))
        return {f"{name}/{path.relative_to(root).as_posix()}": path.read_bytes()
                for path in sorted(root.rglob("*"))
                if path.is_file() and not _SKIPPED_PARTS & set(path.relative_to(root).parts)
                and path.suffix not in {".pyc", ".pyo"}}
    origin = Path(spec.origin or "")
    return {origin.name: origin.read_bytes()}


def _write(archive: zipfile.ZipFile, arcname: str, data: bytes) -> None:
    info = zipfile.ZipInfo(arcname, date_time=_EPOCH)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def _stem(dist: importlib.metadata.Distribution) -> str:
    # Wheel file names write the project name normalized and the version without dashes (PEP 427).
    return f"{re.sub(r'[-_.]+', '_', dist.metadata['Name']).lower()}-{dist.version.replace('-', '_')}"
