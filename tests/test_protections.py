"""Sandbox layers: what the worker may see, uid leases, leftovers of killed graders, and `autograder doctor`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from click.testing import CliRunner

from autograder.grader import protections, sandbox
from autograder.grader.uids import UidLease
from autograder.grader.worker_view import outermost, split_around, worker_view
from click_cli import main


def test_split_around_cuts_out_hidden_folders(tmp_path: Path) -> None:
    for name in ["numpy/core", "reference", "assignments/toy", "click"]:
        (tmp_path / "site" / name).mkdir(parents=True)
    site = str(tmp_path / "site")
    pieces = split_around([site, "/usr"], [f"{site}/reference", f"{site}/assignments"])
    assert sorted(pieces) == sorted(["/usr", f"{site}/click", f"{site}/numpy"])


def test_outermost_keeps_only_enclosing_folders() -> None:
    assert outermost(["/a/b", "/a", "/ab", "/c/d/e", "/c/d"]) == ["/a", "/ab", "/c/d"]


def test_worker_view_excludes_reference_and_assignments() -> None:
    view = worker_view()
    readable = view.split()
    for secret in view.hidden:
        assert not any(secret == path or secret.startswith(path + "/") for path in readable)
    import reference

    reference_folder = str(Path(reference.__file__).resolve().parent)
    assert not any(reference_folder == p or reference_folder.startswith(p + "/") for p in readable)


def test_uid_leases_are_exclusive() -> None:
    first, second = UidLease(), UidLease()
    try:
        assert first.uid != second.uid
    finally:
        first.release()
        second.release()
    again = UidLease()
    again.release()
    assert again.uid == first.uid  # released uids are handed out again


def test_doctor_reports_every_layer(monkeypatch) -> None:
    monkeypatch.setenv("AUTOGRADER_DISABLE_PROTECTIONS", "seccomp")
    protections.detect.cache_clear()
    try:
        result = CliRunner().invoke(main, ["doctor"])
    finally:
        protections.detect.cache_clear()
    assert result.exit_code == 1
    assert "MISSING seccomp" in result.output
    assert "turned off by AUTOGRADER_DISABLE_PROTECTIONS=seccomp" in result.output
    for name in ["bubblewrap", "dedicated uid", "Landlock", "rlimits"]:
        assert name in result.output
    assert "profile: reduced" in result.output


def test_a_missing_layer_says_how_to_get_it() -> None:
    bare = protections.Protections(bwrap=None, uid_switch=False, landlock_abi=0, seccomp=False)
    details = {layer.name: layer.detail for layer in bare.missing()}
    assert set(details) == {"bubblewrap", "dedicated uid", "Landlock", "seccomp"}
    assert "apt-get install bubblewrap" in details["bubblewrap"]
    assert "apt-get install libseccomp2" in details["seccomp"]
    assert "lsm=" in details["Landlock"]
    assert bare.profile == "reduced"


def test_folders_of_zygotes_whose_grader_is_gone_are_removed(tmp_path: Path) -> None:
    finished = subprocess.Popen(["true"])
    finished.wait()  # its pid now names no process (until the kernel reuses it, which takes a while)
    stale = tmp_path / f"{sandbox.FOLDER_PREFIX}{finished.pid}-abc"
    live = tmp_path / f"{sandbox.FOLDER_PREFIX}{os.getpid()}-def"
    unrelated = tmp_path / f"{sandbox.FOLDER_PREFIX}old-style"
    for folder in (stale, live, unrelated):
        (folder / "scratch").mkdir(parents=True)
        (folder / "scratch" / "student-file.bin").write_bytes(b"0" * 1024)
    sandbox.remove_stale_folders(tmp_path)
    assert not stale.exists()
    assert live.exists() and unrelated.exists()
