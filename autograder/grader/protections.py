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
    # Why a layer is missing on this machine and how to get it (from detection; defaults for the tests).
    bwrap_problem: str = ("bubblewrap is not installed; install it with `apt-get install bubblewrap` (without it "
                          "the worker sees the grader's filesystem, less what Landlock denies, and its network)")
    uid_problem: str = "the grader is not running as root, so workers keep its uid"

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
                  "namespaces: no network, own pids and IPC, read-only view without course content, "
                  "size-capped scratch" if self.bwrap else self.bwrap_problem),
            Layer("dedicated uid", self.uid_switch,
                  "each concurrent worker runs as its own non-root uid with RLIMIT_NPROC" if self.uid_switch else
                  f"{self.uid_problem}; every worker still drops all capabilities and sets no_new_privs"),
            Layer("Landlock", self.landlock_abi > 0,
                  f"filesystem: read-only view, writes only in scratch (kernel ABI {self.landlock_abi}"
                  f"{', signals scoped' if self.landlock_abi >= 6 else ''})" if self.landlock_abi else
                  "the kernel has no Landlock (Linux 5.13+ with landlock in the lsm= boot list)"),
            Layer("seccomp", self.seccomp,
                  "an allow-list of system calls: no sockets, new processes, exec, ptrace, mounts, namespaces "
                  "or IPC" if self.seccomp else
                  "seccomp needs libseccomp2 (`apt-get install libseccomp2`)"),
            Layer("rlimits", True, "address space, CPU time, file size, open files, no core dumps"),
        ]

    def missing(self) -> list[Layer]:
        return [layer for layer in self.layers() if not layer.active]

    def summary(self) -> str:
        """The profile and every layer, one per line, for logs an instructor reads."""
        lines = [f"Sandbox profile: {self.profile}"]
        lines += [f"  {'active ' if layer.active else 'MISSING'} {layer.name}: {layer.detail}"
                  for layer in self.layers()]
        return "\n".join(lines)


DISABLE_ENV = "AUTOGRADER_DISABLE_PROTECTIONS"  # for measuring weaker profiles (benchmarks)


@functools.cache
def detect() -> Protections:
    forced_off = frozenset(os.environ.get(DISABLE_ENV, "").replace(",", " ").split())
    bwrap, bwrap_problem = (None, "") if "bubblewrap" in forced_off else _working_bwrap()
    unreadable = _unreadable_by_others()
    if os.geteuid() != 0:
        uid_switch, uid_problem = False, "the grader is not running as root, so workers keep its uid"
    elif bwrap is None and unreadable:
        uid_switch, uid_problem = False, (
            f"bubblewrap is missing and the Python that runs the grader is in {unreadable}, which other users "
            "cannot read, so workers run as root; install the grader in a venv made from a Python every user "
            "can read (for example `/usr/bin/python3 -m venv /opt/autograder`), or install bubblewrap")
    else:
        uid_switch, uid_problem = "uid" not in forced_off, ""
    abi = 0 if "landlock" in forced_off else confine.landlock_abi()
    seccomp = "seccomp" not in forced_off and confine.seccomp_available()
    return Protections(bwrap, uid_switch, abi, seccomp, forced_off & {"bubblewrap", "uid", "landlock", "seccomp"},
                       bwrap_problem=bwrap_problem, uid_problem=uid_problem)


def _working_bwrap() -> tuple[str | None, str]:
    """bubblewrap's path if it can build the sandbox here, else None and why not (it may be installed
    yet refused namespaces, as in most containers)."""
    path = shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap", "/bin/bwrap") if os.access(p, os.X_OK)),
                                         None)
    if path is None:
        return None, Protections.bwrap_problem
    probe = [path, *namespace_arguments(), "--ro-bind", "/", "/", "--", "/bin/true"]
    try:
        subprocess.run(probe, check=True, capture_output=True, timeout=10)
    except subprocess.CalledProcessError as error:
        said = error.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, (f"bubblewrap ({path}) cannot create namespaces here ({said[-1] if said else 'no message'}). "
                      + ("In a container, start it with the capability SYS_ADMIN and a seccomp profile that "
                         "allows unshare (Docker: --cap-add SYS_ADMIN --security-opt seccomp=unconfined)"
                         if os.geteuid() == 0 else
                         "It needs unprivileged user namespaces: `sysctl -w kernel.unprivileged_userns_clone=1` "
                         "and a nonzero user.max_user_namespaces, or an AppArmor profile that allows bwrap "
                         "(Ubuntu 24.04+)"))
    except (OSError, subprocess.SubprocessError) as error:
        return None, f"bubblewrap ({path}) could not be started ({error})"
    return path, ""


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


def _unreadable_by_others() -> str | None:
    """Without bubblewrap, a worker with another uid must read Python where it is installed: the first
    folder on the way to it that other users cannot enter or read, or None."""
    for path in worker_view().read_paths:
        for folder in [*reversed(Path(path).parents), Path(path)]:
            try:
                if not folder.stat().st_mode & 0o005:
                    return f"{folder} (mode {folder.stat().st_mode & 0o777:04o})"
            except OSError:
                return str(folder)
    return None


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
