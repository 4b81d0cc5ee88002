"""Notebooks that attack the grader, graded for real in every environment courses run it in.

Each environment of tests/environments.py grades one batch per attacked assignment, through
tests/grader_with_limits.py (an rlimit on the grader's memory and CPU, so a failure cannot take down
the machine running the tests): first a correct control notebook alone, then every attack followed
by the same control. For each attack the tests assert:

* no credit beyond the honest control (a wrong function stays at zero; a stub scores nothing);
* the batch completes with a stored result for every submission, within its budget;
* no effect on any other submission (the control after it scores exactly as when graded alone);
* nothing of the grader's reaches an output (canary text in files and in the grader's environment,
  hidden tests, reference solutions, example solutions), and no attack reports an escape;
* nothing left behind (processes of worker uids or of the grader's user, SysV IPC objects, zygote
  folders), nothing changed outside scratch (canary files, the submissions, the course, the host
  name, a canary process's priority), and the grader's peak memory under :data:`GRADER_PEAK_BYTES`.

Toy attacks define ``double`` wrongly (it adds 1) and ``apply_twice`` correctly, then attack. Attack
cells print ``ESCAPED: ...`` when they manage something they must not.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from autograder.grader.output_paths import submission_path
from tests import environments
from tests.environments import ENVIRONMENTS, Environment, Installation

pytestmark = pytest.mark.slow

CANARY = "CANARY-7f3a9c-secret-of-the-grader"
WRONG_DOUBLE = "import numpy as np\ndef double(x):\n    return np.asarray(x, dtype=float) + 1"
APPLY_TWICE = "def apply_twice(f, x):\n    return f(f(x))"
TOY_CORRECT = ["import numpy as np", "def double(x):\n    return 2 * np.asarray(x, dtype=float)", APPLY_TWICE]
GRADER_PEAK_BYTES = 1 * 2**30  # the grading process's resident memory, whatever a notebook does
BATCH_SECONDS_PER_NOTEBOOK = 12  # toy budgets are 4 s per notebook run and 1.5 s per call


@dataclass(frozen=True)
class Attack:
    name: str
    cells: tuple[str, ...]
    assignment: str = "toy"
    needs_bubblewrap: bool = False  # only the full profile's size-capped scratch stops it
    double_right_on_some_inputs: bool = False
    file_name: str = "a.ipynb"  # the attack's notebook, graded before b-next.ipynb
    # Functions that must score nothing (a wrong or stubbed function); None: every function of the assignment.
    zero_functions: tuple[str, ...] | None = ("double",)
    absent_from_output: tuple[str, ...] = ()  # text that must appear in no output of any submission


def _attack(name: str, *cells: str, **options) -> Attack:
    return Attack(name, (WRONG_DOUBLE, APPLY_TWICE, *(textwrap.dedent(c) for c in cells)), **options)


ROUND_ONE = [
    _attack("sys-exit", "import sys\nsys.exit(0)"),
    _attack("os-exit", "import os\nos._exit(0)"),
    _attack("infinite-loop-top-level", "while True:\n    pass"),
    Attack("infinite-loop-for-some-inputs", (textwrap.dedent("""
        import numpy as np
        def double(x):
            if np.ndim(x) == 0:
                while True:
                    pass
            return 2 * np.asarray(x, dtype=float)
        """), APPLY_TWICE), double_right_on_some_inputs=True),
    _attack("allocate-50GB", "import numpy as np\nbig = np.ones(50 * 2**30 // 8)\nprint('ESCAPED: 50 GB')",
            """
            _wrong = double
            def double(x):
                try:
                    np.ones(50 * 2**30 // 8)
                    print('ESCAPED: 50 GB in a call')
                except MemoryError:
                    pass
                return _wrong(x)
            """),
    _attack("fork-bomb", """
        import os
        for _ in range(6):
            try:
                if os.fork() == 0:
                    print('ESCAPED: fork')
            except OSError as error:
                print('fork refused:', error)
                break
        """),
    _attack("fork-bomb-setsid", """
        import os, time
        for _ in range(20):
            try:
                if os.fork() == 0:
                    os.setsid()
                    print('ESCAPED: fork with setsid')
                    time.sleep(3600)
            except OSError as error:
                print('fork refused:', error)
                break
        """),
    _attack("subprocess", """
        import subprocess
        try:
            print('ESCAPED:', subprocess.run(['id'], capture_output=True, text=True).stdout)
        except OSError as error:
            print('exec refused:', error)
        """),
    _attack("monkeypatch-numpy", """
        import numpy as np
        np.allclose = lambda *a, **k: True
        np.isclose = lambda a, b, *x, **k: np.ones(np.shape(a), dtype=bool)
        np.array_equal = lambda *a, **k: True
        np.testing.assert_allclose = lambda *a, **k: None
        np.testing.assert_array_equal = lambda *a, **k: None
        """),
    _attack("custom-eq", """
        class AlwaysEqual(float):
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            def __array__(self, *a, **k): raise TypeError('no')
        def double(x):
            return AlwaysEqual(0.0)
        """),
    _attack("ndarray-subclass", """
        import numpy as np
        class Liar(np.ndarray):
            def __eq__(self, other): return np.ones(self.shape, dtype=bool)
            def __array_finalize__(self, obj): pass
        def double(x):
            return (np.asarray(x, dtype=float) + 1).view(Liar)
        """),
    _attack("forged-frame-huge-length", """
        import os, sys, struct
        def double(x):
            os.write(int(sys.argv[2]), b'AGW1' + struct.pack('>II', 2**32 - 1, 0))
            return 2 * x
        """),
    _attack("forged-frame-deep-nesting", """
        import os, sys, struct
        def double(x):
            text = ('{"op": "return", "data": ' + '[' * 100000 + ']' * 100000 + '}').encode()
            os.write(int(sys.argv[2]), b'AGW1' + struct.pack('>II', len(text), 0) + text)
            return 2 * x
        """),
    _attack("forged-frame-object-array", """
        import io, os, sys, struct
        import numpy as np
        def double(x):
            buffer = io.BytesIO()
            np.save(buffer, np.array([print], dtype=object), allow_pickle=True)
            blob = buffer.getvalue()
            text = b'{"op": "return", "data": {"$array": 0}}'
            frame = b'AGW1' + struct.pack('>II', len(text), 1) + text + struct.pack('>Q', len(blob)) + blob
            os.write(int(sys.argv[2]), frame)
            return 2 * x
        """),
    _attack("read-secret-files", """
        import os, glob
        found = []
        for path in SECRET_PATHS + ['/etc/shadow', '/proc/1/environ', f'/proc/{os.getppid()}/environ']:
            try:
                with open(path, errors='replace') as handle:
                    text = handle.read()
                found.append(path)
                print('read', path, text[:2000])
            except OSError as error:
                print('refused', path, type(error).__name__)
        for folder in ['.', '/', os.path.expanduser('~'), '/proc', '/tmp', '/root']:
            try:
                print('listed', folder, sorted(os.listdir(folder))[:50])
            except OSError as error:
                print('refused listing', folder, type(error).__name__)
        for pid in [p for p in os.listdir('/proc') if p.isdigit()] if os.path.isdir('/proc') else []:
            try:
                print('environ of', pid, open(f'/proc/{pid}/environ', errors='replace').read())
            except OSError:
                pass
        if found:
            print('ESCAPED: read', found)
        def double(x):
            return [len(open(p, errors='replace').read()) for p in found] or x + 1
        """),
    _attack("write-fake-results", """
        import json, os
        fake = json.dumps({"score": 1000, "tests": []})
        for path in WRITE_TARGETS + ['results.json', '/autograder/results/results.json', '/tmp/results.json',
                                     os.path.expanduser('~/results.json')]:
            try:
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
                with open(path, 'w') as handle:
                    handle.write(fake)
                print('wrote', path)
                if not os.path.abspath(path).startswith(os.getcwd()):
                    print('ESCAPED: wrote', path)
            except OSError as error:
                print('refused', path, type(error).__name__)
        """),
    _attack("print-fake-score", """
        print('Score: 3 / 3')
        print('{"score": 3, "max_score": 3, "tests": [{"name": "double", "score": 3, "status": "passed"}]}')
        def double(x):
            print('double: 3 / 3 passed')
            return x + 1
        """),
    _attack("network-loopback", """
        import socket
        try:
            connection = socket.create_connection(('127.0.0.1', LOOPBACK_PORT), timeout=1)
            connection.sendall(b'hello from a submission')
            print('ESCAPED: connected to the grader host')
        except OSError as error:
            print('network refused:', error)
        """),
    _attack("network-outside", """
        import socket
        for host, port in [('1.1.1.1', 53), ('8.8.8.8', 443), ('example.com', 80)]:
            try:
                socket.create_connection((host, port), timeout=1)
                print('ESCAPED: connected to', host)
            except OSError as error:
                print('network refused:', host, error)
        """),
    _attack("fill-the-disk", """
        import os
        written = 0
        try:
            for index in range(4000):
                with open(f'fill-{index}.bin', 'wb') as handle:
                    for _ in range(16):
                        handle.write(b'0' * 2**20)
                        written += 2**20
        except OSError as error:
            print('disk refused after', written // 2**20, 'MB:', error)
        if written > 512 * 2**20:
            print('ESCAPED: wrote', written // 2**20, 'MB')
        """, needs_bubblewrap=True),
    _attack("ipython-startup-file", """
        import os
        for home in [os.path.expanduser('~'), GRADER_HOME]:
            folder = os.path.join(home, '.ipython', 'profile_default', 'startup')
            try:
                os.makedirs(folder, exist_ok=True)
                with open(os.path.join(folder, '00-everything-passes.py'), 'w') as handle:
                    handle.write('import numpy as np\\nnp.allclose = lambda *a, **k: True\\n')
                if home == GRADER_HOME:
                    print('ESCAPED: startup file in the grader home')
            except OSError as error:
                print('refused', folder, type(error).__name__)
        """),
    _attack("signal-the-parent", """
        import os, signal
        for target in [os.getppid(), 1, -1, 0]:
            try:
                os.kill(target, signal.SIGKILL if target > 0 else signal.SIGTERM)
                print('sent a signal to', target)
            except OSError as error:
                print('signal refused:', target, error)
        """),
    _attack("billion-line-print", "for i in range(10**9):\n    print('line', i)"),
    _attack("kept-callback", """
        kept = []
        def apply_twice(f, x):
            kept.append(f)
            return f(f(x))
        _wrong = double
        def double(x):
            for f in kept:
                try:
                    f(x)
                    print('ESCAPED: a kept callback ran after its call')
                except Exception as error:
                    print('kept callback refused:', error)
            return _wrong(x)
        """),
]


ROUND_TWO = [
    # ---------------------------------------------------------------- the grader builds without bound
    Attack("callback-broadcast-blowup", (textwrap.dedent("""
        import numpy as np
        def gradient_step(w, grad, lr):
            return w - lr * grad
        def gradient_descent(loss_fn, grad_fn, w0, lr, max_iters=1000, tol=1e-10):
            # (K, 1) and (1, K) into the grader's reference step: K x K numbers if it computed them
            k = 40_000
            for _ in range(3):
                try:
                    gradient_step(np.ones((k, 1)), np.ones((1, k)), lr)
                    print('ESCAPED: the grader built a', k, 'x', k, 'array')
                except Exception as error:
                    print('refused:', str(error)[:200])
            return w0, [0.0]
        """),), assignment="gradient-descent", zero_functions=("gradient_descent",)),
    Attack("recorder-flood", (textwrap.dedent("""
        import numpy as np
        def gradient_step(w, grad, lr):
            return w - lr * grad
        def gradient_descent(loss_fn, grad_fn, w0, lr, max_iters=1000, tol=1e-10):
            w = np.array(w0, dtype=float)
            for i in range(200_000):  # near-miss points: each a little off the path, kept by the recorder
                try:
                    grad_fn(w + 1e-9 * i)
                except Exception as error:
                    print('stopped after', i, 'calls:', str(error)[:200])
                    break
            return w + 1, [0.0]
        """),), assignment="gradient-descent", zero_functions=("gradient_descent",)),
    _attack("one-payload-many-references", """
        import os, sys, struct, io
        import numpy as np
        def double(x):
            blob = io.BytesIO()
            np.save(blob, np.zeros(4_000_000), allow_pickle=False)
            payload = blob.getvalue()
            text = ('{"op":"return","data":{"value":[' + ','.join(['{"$array":0}'] * 1000) + '],"arguments":[],'
                    '"stdout":""}}').encode()
            frame = b'AGW1' + struct.pack('>II', len(text), 1) + text + struct.pack('>Q', len(payload)) + payload
            os.write(int(sys.argv[2]), frame)
            return 2 * x
        """),
    # ------------------------------------------------------------------ facts the worker could forge
    Attack("forged-unchanged-argument", (textwrap.dedent("""
        import numpy as np, builtins, inspect
        np.array_equal = lambda *a, **k: True
        np.allclose = lambda *a, **k: True
        np.ascontiguousarray = lambda a, *x, **k: np.zeros(np.shape(a))
        np.save = lambda *a, **k: None
        def gradient_step(w, grad, lr):
            w -= lr * np.asarray(grad)  # in place: the caller's w changes
            return w
        def gradient_descent(loss_fn, grad_fn, w0, lr, max_iters=1000, tol=1e-10):
            w = np.array(w0, dtype=float)
            losses = [float(loss_fn(w))]
            for _ in range(max_iters):
                w = w - lr * grad_fn(w)
                losses.append(float(loss_fn(w)))
                if abs(losses[-2] - losses[-1]) < tol:
                    break
            return w, losses
        """),), assignment="gradient-descent", zero_functions=()),
    # --------------------------------------------------------------- neighbours share nothing
    _attack("sysv-shared-memory", """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        for name, args in [('shmget', (0, 1 << 20, 0o1666)), ('semget', (0, 1, 0o1666)), ('msgget', (0, 0o1666))]:
            result = getattr(libc, name)(*args)
            if result >= 0:
                print('ESCAPED: created a SysV object with', name, result)
            else:
                print(name, 'refused:', os.strerror(ctypes.get_errno()))
        import glob
        print('other shm ids:', open('/proc/sysvipc/shm').read()[:200] if os.path.exists('/proc/sysvipc/shm') else '')
        """),
    _attack("posix-shared-memory", """
        import os
        for path in ['/dev/shm/autograder-attack', '/dev/mqueue/x']:
            try:
                with open(path, 'w') as handle:
                    handle.write('left for the next submission')
                print('ESCAPED: wrote', path)
            except OSError as error:
                print('refused', path, type(error).__name__)
        try:
            print('memfd', os.memfd_create('x'))
            print('ESCAPED: memfd outside the memory limit')
        except OSError as error:
            print('memfd refused', error)
        """),
    _attack("forged-lines-on-the-real-stdout", """
        import os
        for fd in (1, 2):
            try:
                os.write(fd, b'FORGED-LINE: grader bug, every check passed\\n' * 100)
            except OSError:
                pass
        """, absent_from_output=("FORGED-LINE",)),
    # ------------------------------------------------- names and contents that could crash the grader
    _attack("overlong-file-name", file_name="a" + "n" * 240 + ".ipynb"),
    _attack("cell-that-exhausts-the-parser", "x = " + "-" * 100_000 + "1"),
    _attack("deeply-nested-folders", """
        import os
        for _ in range(1500):
            os.mkdir('d')
            os.chdir('d')
        print('made 1500 nested folders')
        """),
    # ---------------------------------------------------------------- injection into what people open
    _attack("markup-in-output-and-notes", """
        print('<script>alert("feedback")</script> \\x1b]0;pwned\\x07\\x1b[2J')
        """, "!echo <script>alert(1)</script>", file_name="=HYPERLINK(1) <img src=x onerror=alert(1)>.ipynb"),
    # -------------------------------------------------------- hidden inputs carried into visible messages
    Attack("hidden-inputs-in-a-visible-message", (textwrap.dedent("""
        import numpy as np
        seen = []
        def double(x):
            seen.append(repr(x))
            return 2 * np.asarray(x, dtype=float) + 1
        def apply_twice(f, x):
            raise ValueError('INPUTS SEEN: ' + ' | '.join(seen))
        """),), absent_from_output=()),
    # ---------------------------------------------- the reduced profile: files, handles, other processes
    _attack("read-course-files", """
        import os
        found = []
        for path in SECRET_PATHS:
            for attempt in (path, '/proc/self/root' + path, '/proc/1/root' + path):
                try:
                    with open(attempt, errors='replace') as handle:
                        print('read', attempt, handle.read()[:3000])
                    found.append(attempt)
                except OSError as error:
                    print('refused', attempt, type(error).__name__)
        for folder in COURSE_FOLDERS:
            try:
                print('listed', folder, os.listdir(folder))
                found.append(folder)
            except OSError as error:
                print('refused listing', folder, type(error).__name__)
        if found:
            print('ESCAPED: read', found)
        """),
    _attack("file-handles", """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        handle = ctypes.create_string_buffer(8 + 128)
        ctypes.memmove(handle, (128).to_bytes(4, 'little'), 4)
        mount_id = ctypes.c_int()
        for path in SECRET_PATHS[:2]:
            result = libc.syscall(303, -100, path.encode(), handle, ctypes.byref(mount_id), 0)
            print('name_to_handle_at', path, result, os.strerror(ctypes.get_errno()))
            if result == 0:
                fd = libc.syscall(304, -100, handle, 0)
                print('open_by_handle_at', fd, os.strerror(ctypes.get_errno()))
                if fd >= 0:
                    print('ESCAPED: opened', path, 'by its handle')
        """),
    _attack("other-processes", """
        import ctypes, os, signal, struct
        libc = ctypes.CDLL(None, use_errno=True)
        for pid in [CANARY_PID, os.getppid(), 1]:
            limits = ctypes.create_string_buffer(16)
            if libc.syscall(302, pid, 7, None, limits) == 0:  # prlimit64: read another process's limits
                print('ESCAPED: prlimit64 on', pid)
            try:
                os.setpriority(os.PRIO_PROCESS, pid, 19)
                print('ESCAPED: setpriority on', pid)
            except OSError as error:
                print('setpriority refused', pid, error)
            info = ctypes.create_string_buffer(128)
            if libc.syscall(129, pid, 0, info) == 0:  # rt_sigqueueinfo, signal 0
                print('ESCAPED: rt_sigqueueinfo reached', pid)
            if libc.syscall(297, pid, pid, 0, info) == 0:  # rt_tgsigqueueinfo
                print('ESCAPED: rt_tgsigqueueinfo reached', pid)
            try:
                os.kill(pid, 0)
                print('ESCAPED: kill reached', pid)
            except OSError as error:
                print('kill refused', pid, error)
        try:
            os.setpriority(os.PRIO_USER, 0, 19)
            print('ESCAPED: setpriority on every process of this uid')
        except OSError as error:
            print('PRIO_USER refused', error)
        """),
    _attack("machine-wide-changes", """
        import ctypes, os, socket, stat
        libc = ctypes.CDLL(None, use_errno=True)
        try:
            socket.sethostname('pwned-by-a-notebook')
            print('ESCAPED: changed the host name')
        except OSError as error:
            print('sethostname refused', error)
        try:
            os.mknod('device', stat.S_IFCHR | 0o666, os.makedev(1, 3))
            print('ESCAPED: made a device node')
        except OSError as error:
            print('mknod refused', error)
        if libc.syscall(300, 0, 0) >= 0:  # fanotify_init
            print('ESCAPED: fanotify')
        status = open('/proc/self/status').read() if os.path.exists('/proc/self/status') else ''
        for line in status.splitlines():
            if line.startswith(('CapEff', 'CapPrm', 'NoNewPrivs', 'Seccomp:')):
                print(line)
            if line.startswith(('CapEff', 'CapPrm')) and int(line.split()[1], 16):
                print('ESCAPED: the worker holds capabilities', line)
        """),
]

STUBS = {
    # Functions that return zeros (or neutral values) of the right shape, doing none of the work, and
    # touch what a check might only count (the W +/- h e_i points, w0 unchanged).
    "gradient-descent": """
        import numpy as np
        def gradient_step(w, grad, lr):
            return np.zeros_like(np.asarray(w, dtype=float)) if np.ndim(w) else 0.0
        def gradient_descent(loss_fn, grad_fn, w0, lr, max_iters=1000, tol=1e-10):
            return np.zeros_like(np.asarray(w0, dtype=float)) if np.ndim(w0) else 0.0, [0.0] * (max_iters + 1)
        """,
    "learning-rate": """
        import numpy as np
        def diagnose_trace(losses):
            return "good"
        def pick_learning_rate(loss_fn, grad_fn, w0, candidates, n_iters):
            return candidates[0]
        """,
    "logistic-loss": """
        import numpy as np
        def sigmoid(z):
            return np.zeros_like(np.asarray(z, dtype=float)) if np.ndim(z) else 0.0
        def logistic_loss(W, X, y):
            return 0.0
        def logistic_loss_grad(W, X, y):
            return np.zeros_like(np.asarray(W, dtype=float))
        def numerical_gradient(f, W, h=1e-6):
            W = np.array(W, dtype=float)
            for j in np.ndindex(W.shape):
                for step in (h, -h):
                    moved = W.copy()
                    moved[j] += step
                    f(moved)
            return np.zeros_like(W) if W.ndim else 0.0
        def fit_logistic(X, y, lr, n_iters):
            return np.zeros(np.shape(X)[1]), [0.0] * (n_iters + 1)
        """,
    "random-restarts": """
        import numpy as np
        def random_restarts(train_loss, train_grad, val_loss, init_fn, n_restarts, lr, n_iters, seed=0):
            rng = np.random.default_rng(seed)
            starts = [init_fn(rng) for _ in range(n_restarts)]
            return starts[0], [0.0] * n_restarts
        """,
    "relu-fit": """
        import numpy as np
        def relu(z):
            return np.zeros_like(np.asarray(z, dtype=float)) if np.ndim(z) else 0.0
        def relu_loss(params, x, y):
            return 0.0
        def relu_loss_grad(params, x, y):
            return np.zeros(2)
        def fit_relu(x, y, lr, n_iters, params0):
            return np.array(params0, dtype=float), [0.0] * (n_iters + 1)
        """,
}
STUB_ATTACKS = [Attack(f"zeros-of-the-right-shape-{slug}", (textwrap.dedent(source),), assignment=slug,
                       zero_functions=None) for slug, source in STUBS.items()]
STUB_ATTACKS.append(Attack("gradient-from-the-problem-object", (textwrap.dedent("""
    import numpy as np, functools, inspect
    def sigmoid(z):
        return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))
    def numerical_gradient(f, W, h=1e-6):
        # find the analytic gradient next to the loss the grader handed over, instead of differencing
        target = f
        while isinstance(target, functools.partial):
            target = target.func
        module = getattr(target, '__globals__', None) or {}
        for name in module:
            if name.endswith('grad') and callable(module[name]):
                try:
                    return module[name](W, *getattr(f, 'args', ()), **getattr(f, 'keywords', {}))
                except Exception:
                    continue
        return np.zeros_like(np.asarray(W, dtype=float))
    """),), assignment="logistic-loss", zero_functions=("numerical_gradient",)))

# Figures cross as numbers and short strings only, whatever the notebook draws or puts in their place.
FIGURE_ATTACKS = [Attack("figure-payloads", (textwrap.dedent("""
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.lines import Line2D

    class Payload:
        # a number, an array, a string and a pickle all at once, if anything in the grader asked
        def __float__(self):
            return 0.5
        def __array__(self, dtype=None, copy=None):
            return np.array([Payload(), Payload()], dtype=object)
        def __str__(self):
            return "<script>alert(1)</script>" * 100_000
        def __reduce__(self):
            return (print, ("ESCAPED: a figure's object was unpickled by the grader",))

    class SneakyLine(Line2D):
        def __getattr__(self, name):
            return Payload()
        def get_xydata(self):
            return Payload()
        def get_label(self):
            return Payload()

    fig, ax = plt.subplots()
    ax.plot(np.arange(1e6), np.full(10**6, np.inf), label="\\x1b[31m" + "x" * 10**6)
    ax.plot([np.nan, np.inf, -np.inf, 1e308], label=Payload())
    ax.set_title(Payload())
    ax.set_yscale("log")
    ax.legend()
    ax.add_line(SneakyLine([0, 1], [1, 2]))  # after the legend, which would ask it for a string label
    for _ in range(20):  # more lines on one axes, more axes on one figure, more figures than are kept
        ax.plot(np.random.rand(300))
    plt.subplots(4, 4)
    for _ in range(10):
        plt.figure().gca().plot(np.random.rand(300))
    """),), assignment="learning-rate", zero_functions=("trace_plot",),
    absent_from_output=("a figure's object was unpickled",)),
    Attack("figure-recorder-replaced", (textwrap.dedent("""
    import gc
    import numpy as np
    # The worker's recorder is the student's too: hand it 600 lines that fit a frame (3.5 MB of JSON) but not
    # the grader's limits.
    line = {"label": "lr = 0.08 <img src=x onerror=alert(1)>", "x": np.arange(256.0), "y": np.ones(256), "points": 256}
    bulk = [{"number": k, "title": "t" * 1000, "legend": ["<b>x</b>"] * 1000,
             "axes": [{"title": "a", "x_label": "", "y_label": "", "x_scale": "linear", "y_scale": "log",
                       "legend": None, "lines": [line] * 5} for _ in range(12)]} for k in range(10)]
    for found in gc.get_objects():
        if type(found).__name__ == "FigureRecorder":
            found.data = lambda: bulk
    """),), assignment="learning-rate", zero_functions=("trace_plot",))]

ATTACKS = ROUND_ONE + ROUND_TWO + STUB_ATTACKS + FIGURE_ATTACKS
BY_NAME = {attack.name: attack for attack in ATTACKS}


# ----------------------------------------------------------------------------------------- the runs
def _control(course: Path, slug: str) -> Path | None:
    """A correct notebook for ``slug``, graded alone first and after each attack (None: TOY_CORRECT)."""
    if slug == "toy":
        return None
    return sorted((course / "assignments" / slug / "solutions" / "correct").glob("*.ipynb"))[0]


@dataclass
class Batch:
    """One environment's attack batches, run once and read by every test of that environment."""

    environment: Environment
    results: dict[tuple[str, str], dict] = field(default_factory=dict)  # (assignment, id) -> results.json
    feedback: dict[tuple[str, str], str] = field(default_factory=dict)  # (assignment, id) -> Markdown page
    grades_csv: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    peak_bytes: dict[str, int] = field(default_factory=dict)
    returncodes: dict[str, int] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    left_behind: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    connections: int = 0

    def result(self, attack: Attack, which: str) -> dict:
        name = attack.file_name if which == "attack" else "b-next.ipynb"
        return self.results[(attack.assignment, f"{attack.name}/{Path(name).stem}")]


def _write(path: Path, cells: list[str]) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a digest (bytecode the grader caches for the suites left out)."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
            for path in sorted(folder.rglob("*")) if not path.is_symlink() and "__pycache__" not in path.parts}


def _differences(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


def _sysv_objects() -> set[str]:
    found = set()
    for kind in ("shm", "sem", "msg"):
        path = Path("/proc/sysvipc") / kind
        if path.exists():
            found |= {f"{kind}:{line.split()[1]}" for line in path.read_text().splitlines()[1:] if line.split()}
    return found


def _processes_of(uids: set[int], installation: Path) -> list[str]:
    """Live processes of ``uids`` (zombies are dead already: they wait for their parent, or init, to reap them).

    Workers of graders started from another Python than the batch's installation are not the batch's (other
    tests, or a developer's run of `autograder` from another checkout while this suite runs, share the pool
    of worker uids). Anything else running as those uids is, whatever its command line: student code may
    exec any program."""
    own = os.fsencode(sys.prefix)
    batch_python = os.fsencode(str(installation))
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                state = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
                command = Path(entry.path, "cmdline").read_bytes()
                another_grader = b"autograder.worker.zygote" in command and not command.startswith(batch_python)
                if (entry.stat().st_uid in uids and state != "Z" and not command.startswith(own)
                        and not another_grader):
                    found.append(f"{entry.name}: {command[:80]!r}")
            except (OSError, IndexError):
                continue
    return found


class LoopbackListener:
    """A TCP server on the grader's loopback that counts connections."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.server.close()


def run_batches(environment: Environment, installation: Installation) -> Batch:
    batch = Batch(environment)
    work = installation.workspace("attacks", environment)
    home = work / "home"
    home.mkdir()
    (home / "secret.txt").write_text(CANARY)
    course, toy_course = installation.course, installation.toy_course
    secrets = [str(home / "secret.txt"), str(toy_course / "assignments" / "toy" / "hidden_tests.py"),
               str(course / "reference" / "gradient_descent.py"),
               str(course / "assignments" / "gradient-descent" / "hidden_tests.py"),
               str(course / "assignments" / "gradient-descent" / "solutions" / "correct" / "vectorised.ipynb"),
               str(course / "assignments" / "gradient-descent" / "source" / "gradient-descent.ipynb"), "/etc/shadow"]
    listener = LoopbackListener()
    canary_command = ["sleep", "3600"]
    if environment.unprivileged:
        user = environments.test_user()
        canary_command = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
                          *canary_command]
    canary = subprocess.Popen(canary_command)
    out_root = work / "out"
    preamble = "\n".join([
        f"SECRET_PATHS = {secrets!r}",
        f"COURSE_FOLDERS = {[str(course / 'assignments'), str(course / 'reference'), str(toy_course)]!r}",
        f"WRITE_TARGETS = {[str(out_root / 'results.json'), str(home / 'results.json'), secrets[1]]!r}",
        f"LOOPBACK_PORT = {listener.port}", f"GRADER_HOME = {str(home)!r}", f"CANARY_PID = {canary.pid}"])
    by_assignment: dict[str, list[Attack]] = {}
    for attack in ATTACKS:
        if attack.needs_bubblewrap and environment.bubblewrap != "works":
            continue
        by_assignment.setdefault(attack.assignment, []).append(attack)
    folders = {}
    for slug, attacks in by_assignment.items():
        folder = work / "submissions" / slug
        source = _control(course, slug)
        for name in ["00-alone/a.ipynb", *(f"{attack.name}/b-next.ipynb" for attack in attacks)]:
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            _write(target, TOY_CORRECT) if source is None else shutil.copy(source, target)
        for attack in attacks:
            _write(folder / attack.name / attack.file_name, [preamble, *attack.cells])
        folders[slug] = folder
    # Links to a neighbour's notebook are refused, never a copy of its grade.
    (folders["toy"] / "zz-link-to-a-neighbour").mkdir()
    (folders["toy"] / "zz-link-to-a-neighbour" / "a.ipynb").symlink_to("../00-alone/a.ipynb")
    (home / ".keep").write_text("")
    for path in [work, *work.rglob("*")]:
        if environment.unprivileged and not path.is_symlink():
            user = environments.test_user()
            os.chown(path, user.pw_uid, user.pw_gid)
    watched = {"home": home, "submissions": work / "submissions", "course": course, "toy course": toy_course}
    before = {name: _tree(folder) for name, folder in watched.items()}
    sysv_before, hostname = _sysv_objects(), socket.gethostname()
    tmp_before = {path.name for path in Path("/tmp").iterdir() if path.name.startswith("autograder-zygote-")}
    try:
        for slug, folder in folders.items():
            out = out_root / slug
            peak_file = work / f"peak-{slug}"
            started = time.monotonic()
            done = environments.run(environment, [
                str(installation.python), str(installation.folder / "grader_with_limits.py"), str(peak_file),
                "grade", "--jobs", "1", "--quiet", "--course", str(toy_course if slug == "toy" else course),
                "--assignment", slug, "--out", str(out), str(folder)],
                cwd=work, home=home, timeout=900,
                # The grader's own matplotlib cache goes elsewhere: the home folder is watched for the workers.
                extra_env={"AUTOGRADER_TEST_SECRET": CANARY, "MPLCONFIGDIR": str(work / "grader-cache")})
            batch.seconds[slug] = time.monotonic() - started
            count = len(list(folder.rglob("*.ipynb")))
            print(f"\n{environment.name} {slug}: {count} notebooks in {batch.seconds[slug]:.1f} s")
            batch.returncodes[slug] = done.returncode
            batch.logs[slug] = done.stdout[-3000:] + done.stderr[-3000:]
            batch.peak_bytes[slug] = int(peak_file.read_text()) if peak_file.exists() else -1
            for path in (out / "results").rglob("*.json"):
                data = json.loads(path.read_text())
                batch.results[(slug, data["extra_data"]["submission"])] = data
            for (assignment, submission) in [key for key in batch.results if key[0] == slug]:
                page = submission_path(out / "feedback", submission, ".md")
                batch.feedback[(assignment, submission)] = page.read_text() if page.exists() else ""
            batch.grades_csv[slug] = (out / "grades.csv").read_text() if (out / "grades.csv").exists() else ""
    finally:
        listener.close()
        batch.connections = listener.connections
        nice = os.getpriority(os.PRIO_PROCESS, canary.pid)
        canary.kill()
        canary.wait()
    time.sleep(0.5)  # let the kernel reap what was killed at the end of the batch
    uids = set(range(61000, 61512)) | ({environments.test_user().pw_uid} if environment.unprivileged else set())
    batch.left_behind += _processes_of(uids, installation.folder)
    batch.left_behind += sorted(_sysv_objects() - sysv_before)
    # A zygote folder of a grader that has exited (other graders may be running on this machine meanwhile).
    batch.left_behind += sorted(name for name in {path.name for path in Path("/tmp").iterdir()
                                                  if path.name.startswith("autograder-zygote-")} - tmp_before
                                if not Path("/proc", name.removeprefix("autograder-zygote-").split("-")[0]).exists())
    batch.changed += [f"{name}: {', '.join(_differences(before[name], _tree(folder))[:5])}"
                      for name, folder in watched.items() if _tree(folder) != before[name]]
    batch.changed += ["host name"] if socket.gethostname() != hostname else []
    batch.changed += [f"canary priority {nice}"] if nice != 0 else []
    return batch


_BATCHES: dict[str, Batch] = {}


@pytest.fixture
def batch(request, installation: Installation) -> Batch:
    environment = request.param
    reason = environments.bubblewrap_reason(environment)
    if reason:
        pytest.skip(f"{environment.name} cannot be built here: {reason}")
    if environment.name not in _BATCHES:
        _BATCHES[environment.name] = run_batches(environment, installation)
    return _BATCHES[environment.name]


def _cases() -> list:
    return [pytest.param(attack, environment, id=f"{attack.name}-{environment.name}")
            for environment in ENVIRONMENTS for attack in ATTACKS
            if not (attack.needs_bubblewrap and environment.bubblewrap != "works")]


def _outputs(result: dict) -> str:
    parts = [result.get("output", ""), *(test.get("output", "") for test in result.get("tests", []))]
    cells = result.get("extra_data", {}).get("cells", [])
    parts += [cell.get("stdout", "") + (cell.get("error") or "") + " ".join(cell.get("notes", [])) for cell in cells]
    return "\n".join(parts)


def _scores(result: dict) -> dict[str, tuple[float, bool]]:
    return {test["name"]: (test["score"], test["status"] == "passed") for test in result["tests"]}


@pytest.mark.parametrize(("attack", "batch"), [(case.values[0], case.values[1]) for case in _cases()],
                         ids=[case.id for case in _cases()], indirect=["batch"])
def test_attack_is_contained(attack: Attack, batch: Batch) -> None:
    attacked, following = batch.result(attack, "attack"), batch.result(attack, "next")
    alone = batch.results[(attack.assignment, "00-alone/a")]
    functions = attacked["extra_data"]["functions"]
    if attack.double_right_on_some_inputs:
        assert functions["double"]["score"] < functions["double"]["max_score"], attacked["output"]
    else:  # no credit beyond the honest control: what the attack gets wrong (or stubs) earns nothing
        for name in functions if attack.zero_functions is None else attack.zero_functions:
            assert functions[name]["score"] == 0, f"{name} earned points:\n{attacked['output']}"
    # The next submission is graded exactly as if alone.
    assert _scores(following) == _scores(alone), following["output"]
    # Nothing secret in any output, no escape reported, the feedback stays small.
    outputs = _outputs(attacked)
    assert CANARY not in outputs
    for secret_text in ("def test_double_array", "Hidden suite of the toy assignment", "BEGIN SOLUTION",
                        "from reference import", "def gradient_step(w: float"):
        assert secret_text not in outputs
    assert "ESCAPED" not in outputs, outputs[-3000:]
    assert len(outputs) < 200_000, "the feedback must stay small whatever the notebook prints"
    for text in attack.absent_from_output:
        assert not [key for key, result in batch.results.items() if text in _outputs(result)]


@pytest.mark.parametrize("batch", [pytest.param(environment, id=environment.name) for environment in ENVIRONMENTS],
                         indirect=True)
def test_every_batch_completes_within_budget_and_leaves_nothing_behind(batch: Batch) -> None:
    for slug, code in batch.returncodes.items():
        assert code == 0, f"{slug}: {batch.logs[slug]}"
        notebooks = sum(1 for key in batch.results if key[0] == slug)
        assert batch.seconds[slug] < BATCH_SECONDS_PER_NOTEBOOK * notebooks, f"{slug} took {batch.seconds[slug]:.0f} s"
        peak = batch.peak_bytes[slug]
        assert 0 < peak < GRADER_PEAK_BYTES, f"{slug}: the grader peaked at {peak:,} bytes"
    expected = {(attack.assignment, f"{attack.name}/{Path(attack.file_name).stem}") for attack in ATTACKS
                if not (attack.needs_bubblewrap and batch.environment.bubblewrap != "works")}
    assert expected <= set(batch.results), "every submission has a stored result"
    assert batch.left_behind == [], "left behind: " + ", ".join(batch.left_behind)
    assert batch.changed == [], "changed outside scratch: " + ", ".join(batch.changed)
    assert batch.connections == 0, "a submission connected to the grader's loopback"


@pytest.mark.parametrize("batch", [pytest.param(environment, id=environment.name) for environment in ENVIRONMENTS],
                         indirect=True)
def test_targeted_outcomes(batch: Batch) -> None:
    """What some attacks must lead to, beyond containment."""
    # A link to a neighbour's notebook is refused with a message, never a copy of its grade.
    link = batch.results[("toy", "zz-link-to-a-neighbour/a")]
    assert link["score"] == 0 and "symbolic link to another submission, 00-alone/a.ipynb" in link["output"]
    # An in-place update is found whatever the notebook reassigned.
    forged = {test["name"]: test for test in batch.result(BY_NAME["forged-unchanged-argument"], "attack")["tests"]}
    unchanged = forged["gradient_step: returns a new value and leaves w unchanged"]
    assert unchanged["status"] == "failed" and "in place" in unchanged["output"]
    # The problem object handed to numerical_gradient does not lead to its analytic gradient.
    introspecting = batch.result(BY_NAME["gradient-from-the-problem-object"], "attack")
    assert introspecting["extra_data"]["functions"]["numerical_gradient"]["score"] == 0, introspecting["output"]
    # Hidden inputs never reach a visible message: apply_twice (visible) runs before double(1.5)
    # (after_due_date), so what it raises cannot hold 1.5.
    carrying = batch.result(BY_NAME["hidden-inputs-in-a-visible-message"], "attack")
    visible = [test["output"] for test in carrying["tests"] if test["visibility"] == "visible"]
    assert any("INPUTS SEEN" in output for output in visible)
    assert not any("1.5" in output for output in visible)
    # What people open is escaped.
    markup = ("toy", "markup-in-output-and-notes/=HYPERLINK(1) <img src=x onerror=alert(1)>")
    rows = batch.grades_csv["toy"].splitlines()
    assert any("=HYPERLINK(1)" in row for row in rows) and not any(row.startswith(("=", "+", "-", "@")) for row in rows)
    page = batch.feedback[markup]
    assert page and "<img" not in page.split("```")[0] and "\x1b" not in page


def _strings_and_numbers(value, found: list) -> None:
    """Every leaf of a JSON value, to check that only numbers and short strings were kept."""
    if isinstance(value, dict):
        for key, item in value.items():
            _strings_and_numbers(key, found)
            _strings_and_numbers(item, found)
    elif isinstance(value, list):
        for item in value:
            _strings_and_numbers(item, found)
    else:
        found.append(value)


@pytest.mark.parametrize("batch", [pytest.param(environment, id=environment.name) for environment in ENVIRONMENTS],
                         indirect=True)
def test_figures_cross_as_numbers_and_short_strings(batch: Batch) -> None:
    """A figure made of objects, million-point lines, huge labels and a recorder replaced by the notebook
    reaches the results (and the feedback page) only as numbers and short printable strings, within limits."""
    from autograder.grader import artifacts

    for name, axes_kept in (("figure-payloads", 1), ("figure-recorder-replaced", artifacts.MAX_FIGURE_AXES)):
        attacked = batch.result(BY_NAME[name], "attack")
        plot_tests = [test for test in attacked["tests"] if test["name"].startswith("trace_plot:")]
        assert plot_tests and all(test["score"] == 0 for test in plot_tests)
        drawn = [artifact for test in plot_tests for artifact in test.get("extra_data", {}).get("artifacts", [])
                 if artifact.get("kind") == "figure"]
        assert drawn, f"{name}: the failed trace_plot check shows the figure the grader read"
        for figure in drawn:
            assert len(figure["axes"]) == axes_kept
            assert sum(len(line["x"]) for axes in figure["axes"] for line in axes["lines"]) <= (
                artifacts.MAX_FIGURE_POINTS)
            leaves: list = []
            _strings_and_numbers(figure, leaves)
            assert all(leaf is None or type(leaf) in (int, float, bool) or (type(leaf) is str and len(leaf) <= 200)
                       for leaf in leaves), name
            assert not any(isinstance(leaf, str) and "\x1b" in leaf for leaf in leaves), name
        # Outside code blocks (where Markdown shows text as it is), nothing of the notebook's markup.
        page = batch.feedback[("learning-rate", f"{name}/a")]
        outside = "".join(page.split("```")[::2])
        assert page and "<img" not in outside and "<script" not in outside, name
    payloads = batch.result(BY_NAME["figure-payloads"], "attack")
    figure = next(a for t in payloads["tests"] for a in t.get("extra_data", {}).get("artifacts", [])
                  if a.get("kind") == "figure")
    long_line = next(line for line in figure["axes"][0]["lines"] if line["points"] == 10**6)
    assert long_line["y"][0] == "inf" and len(long_line["label"]) <= 160  # a million points, kept as a few numbers
