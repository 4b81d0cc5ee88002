"""The Gradescope autograder zip: ``setup.sh``, ``run_autograder``, ``requirements.txt``, a wheel of
the engine and, under ``course/``, the course content grading needs (:func:`grading_files`: the
assignment's suites, problems and configuration, and the reference modules its suites import).
Solutions, source notebooks and other assignments' files are never in it.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` there once to build its
image, then for each submission copies ``run_autograder`` to ``/autograder/run_autograder`` and runs
it; the student's files are in ``/autograder/submission`` and the result must be written to
``/autograder/results/results.json``. ``AUTOGRADER_GRADESCOPE_ROOT`` moves ``/autograder`` (for
trying the zip on a laptop), ``AUTOGRADER_PYTHON`` picks the Python that runs the grader.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import tempfile
import zipfile
from pathlib import Path

from autograder.grader.assignment import Assignment, grading_files
from autograder.grader.exports.wheel import DISTRIBUTION, build_wheel

ROOT_ENV = "AUTOGRADER_GRADESCOPE_ROOT"
PYTHON_ENV = "AUTOGRADER_PYTHON"

_SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, when it builds the autograder image.
# It installs what the sandbox uses where the image allows (bubblewrap, libseccomp2), Python 3.11+ if
# the image lacks it, the grader's dependencies from PyPI, and the grader itself from the wheel in this
# zip (never from the network, so the grader is exactly the exported one).
set -euo pipefail
ROOT="${{{root_env}:-/autograder}}"
SOURCE="$ROOT/source"

export DEBIAN_FRONTEND=noninteractive
apt_install() {{
    [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
    apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 \\
        || {{ apt-get update -q >/dev/null 2>&1 \\
            && apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1; }}
}}
# The sandbox's layers (see `autograder doctor`): without them grading still works, with fewer protections.
for package in bubblewrap libseccomp2; do
    apt_install "$package" || echo "Could not install $package; students' code runs without the protection it gives."
done

find_python() {{
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \\
                && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}}

if ! PYTHON="$(find_python)"; then
    # Gradescope's Ubuntu 22.04 base image has Python 3.10; Ubuntu's universe repository has 3.11.
    apt-get update
    apt-get install -y python3.11 python3.11-venv
    PYTHON=python3.11
fi
if ! "$PYTHON" -m venv "$ROOT/venv"; then
    # Debian and Ubuntu ship the venv module separately from the interpreter.
    version="$("$PYTHON" -c 'import sys; print(f"{{sys.version_info[0]}}.{{sys.version_info[1]}}")')"
    apt-get update
    apt-get install -y "python$version-venv"
    "$PYTHON" -m venv --clear "$ROOT/venv"
fi
"$ROOT/venv/bin/python" -m pip install --disable-pip-version-check -r "$SOURCE/requirements.txt"
"$ROOT/venv/bin/python" -m pip install --disable-pip-version-check --no-index --no-deps "$SOURCE/{wheel}"
"$ROOT/venv/bin/python" -c 'import autograder.grader.grading' && echo "gd-autograder is installed."
"$ROOT/venv/bin/autograder" doctor || true  # the protections students' code will run under
"""

_RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission: grade the notebook in /autograder/submission with the
# hidden suite of {slug!r} and write /autograder/results/results.json (exactly one, always). What it
# prints (the sandbox profile among it) is the autograder output only instructors see.
set -euo pipefail
ROOT="${{{root_env}:-/autograder}}"
PYTHON="${{{python_env}:-$ROOT/venv/bin/python}}"
exec "$PYTHON" -m autograder.grader.exports.gradescope_run --assignment {slug}
"""


def requirements(distribution: str = DISTRIBUTION) -> list[str]:
    """The package's runtime requirements (its ``dev`` extra and other extras left out)."""
    required = importlib.metadata.requires(distribution) or []
    return [line for line in required if "extra ==" not in line.split(";", 1)[-1]]


def build_zip(assignment: Assignment, destination: Path) -> Path:
    """Write the Gradescope autograder zip for ``assignment`` to ``destination``."""
    with tempfile.TemporaryDirectory(prefix="gradescope-export-") as scratch:
        wheel = build_wheel(Path(scratch))
        files: dict[str, tuple[bytes, int]] = {
            "setup.sh": (_SETUP_SH.format(root_env=ROOT_ENV, wheel=wheel.name).encode(), 0o755),
            "run_autograder": (_RUN_AUTOGRADER.format(root_env=ROOT_ENV, python_env=PYTHON_ENV,
                                                      slug=assignment.slug).encode(), 0o755),
            "requirements.txt": (("\n".join(requirements()) + "\n").encode(), 0o644),
            wheel.name: (wheel.read_bytes(), 0o644),
        }
    for relative, path in grading_files(assignment):
        files[f"course/{relative}"] = (path.read_bytes(), 0o644)

    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(destination.name + ".tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for arcname, (data, mode) in files.items():
            info = zipfile.ZipInfo(arcname, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    shutil.move(temporary, destination)
    return destination
