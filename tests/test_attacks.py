"""Notebooks that attack the grader, graded for real under each sandbox profile this machine has.

Every attack notebook defines ``double`` wrongly (it adds 1) and ``apply_twice`` correctly, then
attacks. For each one the tests assert: ``double`` gets no credit (or, for an attack that is right
on some inputs, loses points); grading ends within its budget; no process of it survives; nothing
changes outside its scratch folder (canary files, the grader's home, the submissions folder); no
secret (canary text in files, in the grader's environment) reaches any output; and the next
submission in the same batch gets exactly the result it gets when graded alone.

Attack cells print ``ESCAPED: ...`` when they manage something they must not; no output may say so.
"""

from __future__ import annotations

import hashlib
import os
import socket
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.grader import protections, sandbox
from autograder.grader.batch import discover, grade_batch
from autograder.grader.results import SubmissionResult
from tests.conftest import TOY_CORRECT

CANARY = "CANARY-7f3a9c-secret-of-the-grader"
WRONG_DOUBLE = "import numpy as np\ndef double(x):\n    return np.asarray(x, dtype=float) + 1"
APPLY_TWICE = "def apply_twice(f, x):\n    return f(f(x))"
BUDGET_SECONDS = 30  # generous: toy budgets are 4 s per notebook run and 1.5 s per call


@dataclass(frozen=True)
class Attack:
    name: str
    cells: tuple[str, ...]
    reduced_stops_it: bool = True  # False: only the full profile is expected to stop it
    double_right_on_some_inputs: bool = False


def _attack(name: str, *cells: str, **options: bool) -> Attack:
    return Attack(name, (WRONG_DOUBLE, APPLY_TWICE, *(textwrap.dedent(c) for c in cells)), **options)


ATTACKS = [
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
        """, reduced_stops_it=False),
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


PROFILES = {
    "full": "",
    "reduced": "bubblewrap,uid",  # what a machine without bubblewrap (or not root) gets
}


@pytest.fixture
def profile(request, monkeypatch) -> str:
    monkeypatch.setenv("AUTOGRADER_DISABLE_PROTECTIONS", PROFILES[request.param])
    protections.detect.cache_clear()
    found = protections.detect()
    if request.param == "full" and found.profile != "full":
        missing = ", ".join(f"{layer.name} ({layer.detail})" for layer in found.missing())
        pytest.skip(f"the full sandbox profile is not available on this machine: {missing}")
    yield request.param
    protections.detect.cache_clear()


@pytest.fixture
def grader_home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "grader-home"
    home.mkdir()
    (home / "secret.txt").write_text(CANARY)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AUTOGRADER_TEST_SECRET", CANARY)
    return home


@pytest.fixture
def workers(monkeypatch) -> list[sandbox.WorkerProcess]:
    """Every worker process started during the test, to check that none survives."""
    started: list[sandbox.WorkerProcess] = []
    original = sandbox.WorkerProcess.__init__

    def recording_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        started.append(self)

    monkeypatch.setattr(sandbox.WorkerProcess, "__init__", recording_init)
    return started


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


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
            for path in sorted(folder.rglob("*"))}


def _all_outputs(result: SubmissionResult) -> str:
    parts = [result.summary(), *(test.output for test in result.tests)]
    parts += [cell.stdout + (cell.error or "") + " ".join(cell.notes) for cell in result.cells]
    return "\n".join(parts)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _processes_of_uid(uid: int) -> list[int]:
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@pytest.fixture(scope="module")
def alone(tmp_path_factory) -> dict[str, tuple[float, bool]]:
    """The correct toy notebook graded alone: test name -> (score, passed)."""
    import nbformat

    from autograder.grader.assignment import load_assignment
    from tests.conftest import TEST_COURSE

    folder = tmp_path_factory.mktemp("alone")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in TOY_CORRECT]
    nbformat.write(notebook, folder / "next.ipynb")
    summary = grade_batch(load_assignment("toy", TEST_COURSE), discover([folder / "next.ipynb"]),
                          folder / "out")
    return {test.name: (test.score, test.passed) for test in summary.results()[0].tests}


# Each attack under each profile expected to stop it: filling the disk is stopped only by the full
# profile's size-capped scratch tmpfs (without bubblewrap, scratch is on the grader's disk, and only
# RLIMIT_FSIZE caps each file), so it is not run under the reduced one.
CASES = [(attack, name) for attack in ATTACKS for name in PROFILES if name == "full" or attack.reduced_stops_it]


@pytest.mark.parametrize(("attack", "profile"), CASES, indirect=["profile"],
                         ids=[f"{attack.name}-{name}" for attack, name in CASES])
def test_attack_is_contained(attack: Attack, profile: str, toy, write_notebook, tmp_path: Path, grader_home: Path,
                             workers: list[sandbox.WorkerProcess], alone) -> None:
    submissions = tmp_path / "submissions"
    out = tmp_path / "out"
    listener = LoopbackListener()
    secret_paths = [str(grader_home / "secret.txt"), str(Path(toy.hidden_suite).resolve()),
                    str(Path(__file__).resolve().parents[1] / "reference" / "gradient_descent.py")]
    write_targets = [str(out / "results.json"), str(out / "results" / "attack.json"),
                     str(submissions / "results.json"), str(grader_home / "results.json")]
    preamble = (f"SECRET_PATHS = {secret_paths!r}\nWRITE_TARGETS = {write_targets!r}\n"
                f"LOOPBACK_PORT = {listener.port}\nGRADER_HOME = {str(grader_home)!r}")
    write_notebook([preamble, *attack.cells], name="attack.ipynb", folder=submissions)
    write_notebook(TOY_CORRECT, name="next.ipynb", folder=submissions)
    home_before = _tree_digest(grader_home)
    submissions_before = _tree_digest(submissions)
    secret_suite_before = Path(toy.hidden_suite).read_bytes()

    started = time.monotonic()
    try:
        summary = grade_batch(toy, discover([submissions]), out)
    finally:
        listener.close()
    elapsed = time.monotonic() - started
    results = {result.submission: result for result in summary.results()}
    attacked, following = results["attack"], results["next"]

    # No credit for a wrong function.
    double_score, double_max = attacked.function_scores()["double"]
    if attack.double_right_on_some_inputs:
        assert double_score < double_max, attacked.summary()
    else:
        assert double_score == 0, attacked.summary()
    # Within budget.
    assert elapsed < BUDGET_SECONDS, f"grading took {elapsed:.1f} s"
    # No process survives: neither a worker nor anything running as a worker's uid.
    assert workers and not [w.pid for w in workers if w.alive()], "a worker was not reaped"
    if profile == "reduced":  # no pid namespace: the worker's pid is a pid of this machine
        assert not [w.pid for w in workers if _alive(w.pid)]
    for uid in {w.uid_lease.uid for w in workers if w.uid_lease is not None}:
        assert _processes_of_uid(uid) == [], f"processes of worker uid {uid} survived"
    # Nothing changed outside the scratch folder.
    assert _tree_digest(grader_home) == home_before
    assert _tree_digest(submissions) == submissions_before
    assert Path(toy.hidden_suite).read_bytes() == secret_suite_before
    assert not (out / "results.json").exists()
    assert sorted(p.name for p in (out / "results").iterdir()) == ["attack.json", "next.json"]
    assert listener.connections == 0, "a submission connected to the grader's loopback"
    # No secret in any output, no escape reported by the attack itself.
    outputs = _all_outputs(attacked)
    assert CANARY not in outputs
    assert "def test_double_array" not in outputs and "Hidden suite of the toy assignment" not in outputs
    assert "ESCAPED" not in outputs, outputs
    assert len(outputs) < 200_000, "the feedback must stay small whatever the notebook prints"
    # The next submission is graded exactly as if alone.
    assert {test.name: (test.score, test.passed) for test in following.tests} == alone
