"""The environments courses run the grader in, built for real on this (root) machine.

Each is a named combination of who runs the grader and what bubblewrap can do there, made with the
same means a real machine would have, never by switching layers off with an environment variable:

* ``root-full``: root, a venv made from the system Python, bubblewrap working (the full profile);
* ``gradescope-no-bwrap``: root, system Python, bubblewrap not installed (hidden by a bind mount of
  /dev/null over it in a private mount namespace);
* ``gradescope-container``: root, system Python, bubblewrap installed but unable to create namespaces,
  because the capabilities are Docker's defaults (no CAP_SYS_ADMIN), as in Gradescope's containers;
* ``laptop-bwrap``: an unprivileged user (created with useradd), bubblewrap in a user namespace, as on
  a laptop or a GitHub Actions runner;
* ``laptop-no-bwrap``: the same user without bubblewrap.

Everything the grader reads lives under one world-readable folder (the venv, copies of the courses,
the submissions), so the unprivileged user can read it too.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = Path("/usr/bin/python3")
TEST_USER = "autograder-env-test"
# Docker's default capability set: what a process in Gradescope's containers has as root.
DOCKER_CAPABILITIES = ("chown", "dac_override", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
                       "net_bind_service", "net_raw", "sys_chroot", "mknod", "audit_write", "setfcap")


@dataclass(frozen=True)
class Environment:
    name: str
    what: str
    unprivileged: bool
    bubblewrap: str  # "works", "absent" or "no-namespaces"
    missing: frozenset[str]  # the layers `autograder doctor` must report missing there

    @property
    def profile(self) -> str:
        return "reduced" if self.missing else "full"


ENVIRONMENTS = (
    Environment("root-full", "root, a venv from the system Python, bubblewrap working", False, "works",
                frozenset()),
    Environment("gradescope-no-bwrap", "root, system Python, bubblewrap not installed", False, "absent",
                frozenset({"bubblewrap"})),
    Environment("gradescope-container", "root, system Python, Docker's default capabilities (bubblewrap "
                "cannot create namespaces)", False, "no-namespaces", frozenset({"bubblewrap"})),
    Environment("laptop-bwrap", "an unprivileged user, bubblewrap in a user namespace", True, "works",
                frozenset({"dedicated uid"})),
    Environment("laptop-no-bwrap", "an unprivileged user, no bubblewrap", True, "absent",
                frozenset({"bubblewrap", "dedicated uid"})),
)
BY_NAME = {environment.name: environment for environment in ENVIRONMENTS}


def unavailable_reason() -> str | None:
    """Why the environments cannot be built on this machine (and how to get what is missing), or None."""
    if os.geteuid() != 0:
        return "building the environments needs root (useradd, private mount namespaces); run the tests as root"
    for tool in ("unshare", "setpriv", "useradd", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} is missing; install util-linux and passwd (`apt-get install util-linux passwd`)"
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} is missing; install the system Python (`apt-get install python3 python3-venv`)"
    probe = subprocess.run([str(SYSTEM_PYTHON), "-c", "import ensurepip, venv"], capture_output=True)
    if probe.returncode != 0:
        return "the system Python cannot make venvs; install python3-venv (`apt-get install python3-venv`)"
    return None


def bubblewrap_reason(environment: Environment) -> str | None:
    """Why an environment that needs a working bubblewrap cannot be built here, or None."""
    if environment.bubblewrap == "absent":
        return None
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed; install it with `apt-get install bubblewrap`"
    if environment.unprivileged and environment.bubblewrap == "works":
        user = test_user()
        probe = subprocess.run(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
                                "bwrap", "--unshare-user", "--ro-bind", "/", "/", "true"], capture_output=True)
        if probe.returncode != 0:
            return ("unprivileged users cannot create user namespaces here, so bubblewrap cannot run for them "
                    "(`sysctl -w kernel.unprivileged_userns_clone=1`)")
    return None


def test_user() -> pwd.struct_passwd:
    """The unprivileged user, created on first use."""
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER],
                       check=True, capture_output=True)
        return pwd.getpwnam(TEST_USER)


@dataclass
class Installation:
    """A venv made from the system Python with the engine installed from a wheel, and copies of the courses,
    all under one folder every user can read."""

    folder: Path

    @property
    def python(self) -> Path:
        return self.folder / "venv" / "bin" / "python"

    @property
    def autograder(self) -> Path:
        return self.folder / "venv" / "bin" / "autograder"

    @property
    def course(self) -> Path:
        return self.folder / "course"

    @property
    def toy_course(self) -> Path:
        return self.folder / "toy-course"

    def workspace(self, name: str, environment: Environment) -> Path:
        """A fresh folder the environment's user may write (outputs, submissions, home)."""
        folder = self.folder / "work" / f"{environment.name}-{name}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        if environment.unprivileged:
            user = test_user()
            os.chown(folder, user.pw_uid, user.pw_gid)
        return folder


def install(wheel_folder: Path) -> Installation:
    """Build the shared installation: a venv from the system Python with the engine from a wheel of this
    checkout (its dependencies from the package index, as a course's machine gets them)."""
    folder = Path(tempfile.mkdtemp(prefix="autograder-environments-"))
    folder.chmod(0o755)
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(folder / "venv")], check=True, capture_output=True)
    wheel = next(wheel_folder.glob("*.whl"))
    installed = subprocess.run([str(folder / "venv" / "bin" / "pip"), "install", "--disable-pip-version-check",
                                "-q", str(wheel)], capture_output=True, text=True, timeout=900)
    if installed.returncode != 0:
        raise RuntimeError(f"pip could not install the engine into a venv of the system Python:\n{installed.stderr}")
    (folder / "course").mkdir()
    for part in ("assignments", "reference"):
        shutil.copytree(REPOSITORY / part, folder / "course" / part,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    shutil.copytree(REPOSITORY / "tests" / "course", folder / "toy-course",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPOSITORY / "tests" / "grader_with_limits.py", folder / "grader_with_limits.py")
    (folder / "work").mkdir()
    subprocess.run(["chmod", "-R", "a+rX", str(folder)], check=True)
    (folder / "work").chmod(0o755)
    return Installation(folder)


def command(environment: Environment, argv: list[str]) -> list[str]:
    """``argv`` as it runs in ``environment``: as its user, with its capabilities, with or without bubblewrap."""
    wrapped = list(argv)
    if environment.unprivileged:
        user = test_user()
        wrapped = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", *wrapped]
    elif environment.bubblewrap == "no-namespaces":
        bounding = ",".join(["-all", *(f"+{capability}" for capability in DOCKER_CAPABILITIES)])
        wrapped = ["setpriv", f"--bounding-set={bounding}", "--inh-caps=-all", *wrapped]
    if environment.bubblewrap == "absent":
        bwrap = shutil.which("bwrap")
        if bwrap is not None:  # hide it in a private mount namespace: /dev/null is no program
            wrapped = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                       f'mount --bind /dev/null {bwrap} && exec "$@"', "sh", *wrapped]
    return wrapped


def run(environment: Environment, argv: list[str], *, cwd: Path, home: Path, timeout: float = 600,
        extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``argv`` in ``environment`` with a plain environment (no variable of this test process)."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(home), "LANG": "C.UTF-8",
           "NO_COLOR": "1", **(extra_env or {})}
    return subprocess.run(command(environment, argv), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)

