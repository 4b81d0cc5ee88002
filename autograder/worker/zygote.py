"""The sandboxed parent of workers: imports once what every worker needs, then forks one per request.

Started by the grader (inside bubblewrap when available) as
``python -I -m autograder.worker.zygote CONTROL_FD``. It never runs student code itself. Over its control
socket (``SOCK_SEQPACKET``, JSON messages) the grader asks it to:

* ``spawn`` (with the worker's two pipe ends attached as file descriptors): preload the packages it names
  that the notebook imports (from a fixed list, see ``_ON_REQUEST``), then fork a child that
  takes its own session, scratch folder, rlimits, uid, Landlock and seccomp, points its standard
  output and error at /dev/null (nothing it writes there reaches the zygote's log or a neighbour),
  then serves the grader exactly like a freshly started worker; replies ``{"pid": ...}``;
* ``kill``: end that child's process group, reap it, remove its scratch folder; replies with its
  exit status (negative: the signal that ended it), so a child that already exited reports its own.

Forking from a parent that has already imported numpy, IPython's input transformer and the packages
notebooks import (matplotlib, pandas, scipy: once the first notebook asks for them) saves each
submission the interpreter's start-up and those imports (hundreds of milliseconds).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import signal
import socket
import sys
from typing import Any

import numpy as np

from autograder.worker import confine, server
from autograder.worker.cells import _transformer
from autograder.worker.cleanup import remove_tree

_MAX_MESSAGE = 1 << 20
SET_UP_FAILED = 70  # exit status of a child whose set-up failed


def _preload() -> None:
    """What every worker needs, imported once here instead of once per worker: numpy (with its legacy
    global RNG, which numpy builds on first use and each child reseeds) and the cell transformer."""
    _transformer()
    np.random.seed()
    random.seed()


def _load_matplotlib() -> None:
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot


def _load_pandas() -> None:
    import pandas  # noqa: F401


def _load_scipy() -> None:
    import scipy.optimize
    import scipy.special  # noqa: F401


# Packages a notebook may import that cost a worker 100 to 500 ms each when imported on demand: the zygote
# imports one when the grader first asks for a worker whose notebook imports it, and every later worker
# inherits it. Only these names are acted on, whatever a spawn request says; a package that is not
# installed is simply not preloaded.
_ON_REQUEST = {"matplotlib": _load_matplotlib, "pandas": _load_pandas, "scipy": _load_scipy}
_preloaded: set[str] = set()


def _preload_requested(names: Any) -> None:
    for name in names if isinstance(names, list) else []:
        if name in _ON_REQUEST and name not in _preloaded:
            _preloaded.add(name)
            with contextlib.suppress(ImportError):
                _ON_REQUEST[name]()


def main(argv: list[str]) -> None:
    control = socket.socket(fileno=int(argv[1]))
    _preload()
    children: dict[int, str] = {}  # pid -> scratch folder
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, _MAX_MESSAGE, 2)
        except OSError:
            break
        if not message:
            break  # the grader is gone; bubblewrap's --die-with-parent ends the children too
        request = json.loads(message)
        if request["op"] == "spawn":
            _preload_requested(request.get("preload"))
            pid = _spawn(request, fds, control)
            children[pid] = request["scratch"]
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"pid": pid}).encode())
        elif request["op"] == "kill":
            pid = int(request["pid"])
            status = _end(pid, children.pop(pid, None))
            control.send(json.dumps({"status": status}).encode())
    for pid, scratch in children.items():
        _end(pid, scratch)
    os._exit(0)


def _spawn(request: dict[str, Any], fds: list[int], control: socket.socket) -> int:
    # A worker sharing the grader's uid (no dedicated uids) owns the scratch root and may have made it
    # unreadable; every worker must be able to enter its own folder there.
    os.chmod(os.path.dirname(request["scratch"]), 0o711)
    pid = os.fork()
    if pid:
        return pid
    # The child: from here on, only this process's own business; it never returns to the loop above.
    try:
        control.close()
        read_fd, write_fd, confinement = _set_up_worker(request, fds)
        # Confine last, after every import the worker itself needs, and before any student code.
        confine.apply(confinement)
        _silence_standard_streams()
    except BaseException as error:  # anything before student code is the grader's to report
        print(f"worker set-up failed: {error!r}", file=sys.stderr)
        sys.stderr.flush()
        os._exit(SET_UP_FAILED)
    try:
        server.serve(read_fd, write_fd)
    finally:
        os._exit(1)


def _set_up_worker(request: dict[str, Any], fds: list[int]) -> tuple[int, int, confine.Confinement]:
    os.setsid()
    scratch = request["scratch"]
    os.makedirs(scratch, mode=0o700)
    confinement = confine.Confinement.from_json(request["confinement"])
    if confinement.uid is not None:
        os.chown(scratch, confinement.uid, confinement.uid)
    os.chdir(scratch)
    os.environ.update(HOME=scratch, TMPDIR=scratch, MPLCONFIGDIR=scratch)
    for which, value in request["limits"].items():
        resource.setrlimit(getattr(resource, which), (value, value))
    # A forked child would share the parent's random state; a fresh process would not.
    random.seed()
    np.random.seed()
    read_fd, write_fd = fds
    sys.argv = ["autograder.worker.server", str(read_fd), str(write_fd)]
    return read_fd, write_fd, confinement


def _silence_standard_streams() -> None:
    """Send what the worker writes to fds 1 and 2 nowhere: they were the zygote's log, shared by every
    worker. Cells' printed output is captured by the server in Python; the rest is not the grader's to keep."""
    null = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(null, fd)
    os.close(null)


def _end(pid: int, scratch: str | None) -> int:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)
    try:
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
    except ChildProcessError:
        code = -int(signal.SIGKILL)
    if scratch:
        remove_tree(scratch)
    return code


if __name__ == "__main__":
    main(sys.argv)
