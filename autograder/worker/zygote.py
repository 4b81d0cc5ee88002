"""The sandboxed parent of workers: imports once what every worker needs, then forks one per request.

Started by the grader (inside bubblewrap when available) as
``python -I -m autograder.worker.zygote CONTROL_FD [light]``. It never runs student code itself. Over its control
socket (``SOCK_SEQPACKET``, JSON messages) the grader asks it to:

* ``spawn`` (with the worker's two pipe ends attached as file descriptors): fork a child that
  takes its own session, scratch folder, rlimits, uid, Landlock and seccomp, points its standard
  output and error at /dev/null (nothing it writes there reaches the zygote's log or a neighbour),
  then serves the grader exactly like a freshly started worker; replies ``{"pid": ...}``;
* ``kill``: end that child's process group, reap it, remove its scratch folder; replies with its
  exit status (negative: the signal that ended it), so a child that already exited reports its own.

Forking from a parent that has already imported numpy, matplotlib and IPython's input transformer
saves each submission the interpreter's start-up and those imports (hundreds of milliseconds).
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


def _preload(light: bool = False) -> None:
    """What most notebooks of these assignments use; imported once here instead of once per worker.

    ``light`` (a command grading one notebook): numpy and the cell transformer only. The rest would cost
    that one notebook a second before its first cell whether it uses them or not; a notebook that does
    imports them itself, at the same cost.
    """
    _transformer()
    if light:
        np.random.seed()
        random.seed()
        return
    with contextlib.suppress(ImportError):
        import matplotlib

        matplotlib.use("agg")
        import matplotlib.pyplot  # loaded before any fork, for every child
    # The packages students of this module import (scipy.special.expit, pandas): imported on demand they
    # cost a notebook 100 to 300 ms; preloaded, nothing (measured with a fresh worker per notebook), for
    # about 46 MB more in the zygote, shared copy-on-write with its workers.
    with contextlib.suppress(ImportError):
        import pandas  # noqa: F401
        import scipy.special  # noqa: F401
    # numpy imports its random module (and builds the legacy global RandomState) on first use, which
    # each forked child would pay in its own np.random.seed() unless pandas or scipy above imported it
    # already. Done once here, whatever is installed; each child still reseeds.
    np.random.seed()
    random.seed()


def main(argv: list[str]) -> None:
    control = socket.socket(fileno=int(argv[1]))
    _preload(light=argv[2:3] == ["light"])
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
