"""Which layers of the sandbox this machine offers, detected once per grading process.

The strongest profile is bubblewrap (no network, its own pid/ipc/uts namespaces, no user namespaces
inside, a read-only view of only what the worker needs, a size-capped scratch tmpfs, dies with the
grader) plus, inside it, a dedicated non-root uid per concurrent worker, Landlock and seccomp (see
:mod:`autograder.worker.confine`), plus rlimits. Where a layer is missing, grading goes on with the others,
and :func:`warn_once` says what is missing and how to get it. ``autograder doctor`` prints the table.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from autograder.grader.worker_view import worker_view
from autograder.worker import confine


@dataclass(frozen=True)
class Layer:
    name: str
    active: bool
    detail: str  # what it does when active; what is missing and how to get it when not


@dataclass(frozen=True)
class Protections:
    bwrap: str | None  # path of a working bubblewrap
    uid_switch: bool  # the grader may give each worker its own uid
    landlock_abi: int
    seccomp: bool
    turned_off: frozenset[str] = frozenset()  # layers named in $AUTOGRADER_DISABLE_PROTECTIONS

    @property
    def profile(self) -> str:
        return "full" if self.bwrap and self.uid_switch and self.landlock_abi and self.seccomp else "reduced"

    def layers(self) -> list[Layer]:
        layers = self._detected_layers()
        keys = {"bubblewrap": "bubblewrap", "dedicated uid": "uid", "Landlock": "landlock", "seccomp": "seccomp"}
        return [Layer(layer.name, False, f"turned off by {DISABLE_ENV}={','.join(sorted(self.turned_off))}; "
                                         "unset it to use this layer")
                if keys.get(layer.name) in self.turned_off else layer for layer in layers]

    def _detected_layers(self) -> list[Layer]:
        return [
            Layer("bubblewrap", bool(self.bwrap),
                  "namespaces: no network, own pids, read-only view without hidden tests or reference, "
                  "size-capped scratch" if self.bwrap else
                  "bubblewrap is missing or cannot create namespaces here; install it with "
                  "`apt-get install bubblewrap` (without it the worker sees the grader's filesystem and network)"),
            Layer("dedicated uid", self.uid_switch,
                  "each concurrent worker runs as its own non-root uid with RLIMIT_NPROC" if self.uid_switch else
                  _uid_switch_missing()),
            Layer("Landlock", self.landlock_abi > 0,
                  f"filesystem: read-only view, writes only in scratch (kernel ABI {self.landlock_abi}"
                  f"{', signals scoped' if self.landlock_abi >= 6 else ''})" if self.landlock_abi else
                  "the kernel has no Landlock (Linux 5.13+ with landlock in the lsm= boot list)"),
            Layer("seccomp", self.seccomp,
                  "no sockets, new processes, exec, ptrace, mounts or namespaces" if self.seccomp else
                  "seccomp needs libseccomp2 (`apt-get install libseccomp2`)"),
            Layer("rlimits", True, "address space, CPU time, file size, open files, no core dumps"),
        ]

    def missing(self) -> list[Layer]:
        return [layer for layer in self.layers() if not layer.active]


def _uid_switch_missing() -> str:
    if os.geteuid() != 0:
        return "the grader is not running as root, so workers share its uid (a fork bomb is stopped by seccomp)"
    return ("the Python installation is not readable by other users and bubblewrap is missing; "
            "install bubblewrap (`apt-get install bubblewrap`)")


DISABLE_ENV = "AUTOGRADER_DISABLE_PROTECTIONS"  # for measuring and testing weaker profiles


@functools.cache
def detect() -> Protections:
    forced_off = frozenset(os.environ.get(DISABLE_ENV, "").replace(",", " ").split())
    bwrap = None if "bubblewrap" in forced_off else _working_bwrap()
    uid_switch = "uid" not in forced_off and os.geteuid() == 0 and (bwrap is not None or _python_world_readable())
    abi = 0 if "landlock" in forced_off else confine.landlock_abi()
    seccomp = "seccomp" not in forced_off and confine.seccomp_available()
    return Protections(bwrap, uid_switch, abi, seccomp, forced_off & {"bubblewrap", "uid", "landlock", "seccomp"})


def _working_bwrap() -> str | None:
    """bubblewrap's path if it can build the sandbox here (it may be installed yet refused namespaces)."""
    path = shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap", "/bin/bwrap") if os.access(p, os.X_OK)),
                                         None)
    if path is None:
        return None
    probe = [path, *namespace_arguments(), "--ro-bind", "/", "/", "--", "/bin/true"]
    try:
        subprocess.run(probe, check=True, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return path


def namespace_arguments() -> list[str]:
    """bubblewrap's namespace options for the uid the grader runs as.

    As root, no user namespace: the zygote runs as real root with a few capabilities and each
    worker switches to its dedicated uid itself (a uid inside a user namespace made by root would still be
    root outside, where RLIMIT_NPROC does not count). Unprivileged, a user namespace is the only way
    in, and ``--disable-userns`` stops the worker from making more.
    """
    common = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
              "--die-with-parent", "--new-session", "--clearenv"]
    if os.geteuid() == 0:
        # The zygote keeps what it needs to hand each child its own uid and folder and to clean up
        # after it; a child loses every capability when it switches to its uid.
        kept = ["CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER"]
        return [*common, "--cap-drop", "ALL", *(argument for cap in kept for argument in ("--cap-add", cap))]
    return [*common, "--unshare-user", "--disable-userns", "--cap-drop", "ALL"]


def _python_world_readable() -> bool:
    """Without bubblewrap, a worker with another uid must read Python where it is installed."""
    return all(_traversable_by_others(Path(path)) for path in worker_view().read_paths)


def _traversable_by_others(path: Path) -> bool:
    for folder in [path, *path.parents]:
        try:
            if not folder.stat().st_mode & 0o005:
                return False
        except OSError:
            return False
    return True


_warned = False


def warn_once() -> None:
    """Tell the instructor, once per process, which protections are missing and how to get them."""
    global _warned
    missing = detect().missing()
    if _warned or not missing:
        return
    _warned = True
    lines = ["WARNING: student code runs with reduced protection on this machine:"]
    lines += [f"  - {layer.name}: {layer.detail}" for layer in missing]
    lines.append("  Run `autograder doctor` for the full list.")
    print("\n".join(lines), file=sys.stderr)
