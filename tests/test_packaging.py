"""What `pip install .` installs: every folder of the engine's code, and nothing of the course."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def listed_packages() -> set[str]:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(settings["tool"]["setuptools"]["packages"])


def test_every_folder_of_engine_code_is_a_listed_package():
    """A folder missing from the list installs without its modules: the engine then fails to import them only
    where it was installed with a plain pip install (Gradescope, a student's venv), never in an editable one."""
    folders = {path.parent for path in (ROOT / "autograder").rglob("*.py") if "__pycache__" not in path.parts}
    names = {".".join(folder.relative_to(ROOT).parts) for folder in folders}
    assert names <= listed_packages(), f"add to [tool.setuptools] packages: {sorted(names - listed_packages())}"
    assert all((folder / "__init__.py").is_file() for folder in folders)


def test_course_content_is_never_a_package_of_the_engine():
    assert not any(name.split(".")[0] in {"assignments", "reference", "tests", "benchmarks"}
                   for name in listed_packages())
