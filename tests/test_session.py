"""The worker and the grader's session: cells, magics, calls, callbacks, timeouts and crashes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.grader.fixtures import ProblemSet, Submission
from autograder.grader.sandbox import Budgets
from autograder.grader.session import (
    MissingFunction,
    StudentCodeError,
    StudentTimeout,
    SubmissionFault,
    WorkerCrashed,
    WorkerSession,
    WorkerUnavailable,
)

FAST = Budgets(notebook_seconds=4, call_seconds=1.5, max_restarts=2)
PROBLEMS = "import numpy as np\ndef scale(x, factor):\n    return factor * np.asarray(x, dtype=float)\n"


@pytest.fixture
def start():
    sessions = []

    def start(*cells: str, budgets: Budgets = FAST) -> WorkerSession:
        session = WorkerSession(list(enumerate(cells, start=1)), PROBLEMS, budgets)
        session.start()
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        session.close()


def call(session: WorkerSession, name: str, *args, **kwargs):
    return session.call(name, args, kwargs).value


# ------------------------------------------------------------------------------------------- cells
def test_a_failing_cell_is_recorded_and_later_cells_run(start):
    session = start("x = 1", "raise ValueError('scratch')", "def f():\n    return x + 1")
    cells = {cell.index: cell for cell in session.load_report.cells}
    assert "ValueError: scratch" in cells[2].error and "<cell 2>" in cells[2].error
    assert cells[1].error is None and cells[3].error is None
    assert call(session, "f") == 2


def test_last_definition_wins_and_helpers_may_come_later(start):
    session = start("def f(x):\n    return helper(x) - 100", "def f(x):\n    return helper(x)",
                    "def helper(x):\n    return 3 * x")
    assert call(session, "f", 2) == 6


def test_line_magics_work_and_shell_escapes_are_not_run(start, tmp_path: Path):
    marker = tmp_path / "marker"
    session = start(f"%matplotlib inline\n%time y = 41 + 1\n!touch {marker}\nlisting = !ls\n",
                    "%%time\nz = y + 1\n", "def f():\n    return y, z, listing")
    assert call(session, "f") == (42, 43, [])
    assert not marker.exists()
    notes = session.load_report.cells[0].notes
    assert any(f"!touch {marker}" in note for note in notes), notes


def test_matplotlib_plots_and_otter_preamble_run(start):
    session = start("import otter\ngrader = otter.Notebook('hw.ipynb')",
                    "import matplotlib.pyplot as plt\nplt.plot([3, 2, 1])\nplt.show()",
                    "grader.check('q1')\ndef f():\n    return 1")
    assert [cell.error for cell in session.load_report.cells] == [None, None, None]
    assert call(session, "f") == 1


def test_student_output_is_kept_and_capped(start):
    session = start("print('hello from the notebook')\nfor i in range(100_000):\n    print(i)",
                    "def f():\n    print('inside')\n    return 0")
    stdout = session.load_report.cells[0].stdout
    assert stdout.startswith("hello from the notebook") and "more characters of output not kept" in stdout
    assert len(stdout) < 25_000
    session.call("f", (), {})
    assert session.last_call.stdout == "inside\n"


# ------------------------------------------------------------------------------------------- calls
def test_values_cross_as_plain_data(start):
    session = start("import numpy as np\ndef f(a):\n    return a * 2, [np.float64(1.5), np.array(2.0)], {'k': a}")
    pair, scalars, mapping = call(session, "f", np.arange(3.0))
    assert np.array_equal(pair, [0.0, 2.0, 4.0]) and scalars[0] == 1.5 and np.array_equal(mapping["k"], np.arange(3.0))


def test_missing_function_and_student_exception_are_explained(start):
    session = start("def f(x):\n    return 1 / x")
    with pytest.raises(MissingFunction, match="does not define a function named g"):
        call(session, "g")
    with pytest.raises(StudentCodeError, match="ZeroDivisionError") as error:
        call(session, "f", 0)
    assert "<cell 1>" in error.value.traceback and "return 1 / x" in error.value.traceback
    assert call(session, "f", 4) == 0.25  # the worker lives on after a student exception


def test_sys_exit_in_a_cell_and_in_a_call_fail_only_there(start):
    session = start("import sys\nsys.exit(0)", "def f():\n    import sys\n    sys.exit(1)", "def g():\n    return 7")
    assert "SystemExit" in session.load_report.cells[0].error
    with pytest.raises(StudentCodeError, match=r"sys\.exit"):
        call(session, "f")
    assert call(session, "g") == 7


def test_in_place_modification_of_arguments_is_reported(start):
    session = start("def f(w, g):\n    w -= g\n    return w", "def h(w, g):\n    return w - g")
    session.call("f", (np.ones(2), np.ones(2)), {})
    assert session.last_call.mutated == ["w"]
    session.call("h", (np.ones(2), np.ones(2)), {})
    assert session.last_call.mutated == []


def test_in_place_modification_is_decided_by_the_grader_whatever_the_notebook_patches(start):
    patches = ("import numpy as np, builtins, inspect\n"
               "np.array_equal = lambda *a, **k: True\n"
               "np.ascontiguousarray = lambda a, *x, **k: np.zeros(np.shape(a))\n"
               "np.save = lambda *a, **k: None\n"
               "inspect.signature = lambda f: (_ for _ in ()).throw(ValueError('no'))")
    session = start(patches, "def f(w, g, *, scale):\n    w -= g\n    scale[0] = 9\n    return w")
    session.call("f", (np.ones(300), np.ones(300)), {"scale": np.ones(1)})
    assert sorted(session.last_call.mutated) == ["scale", "w"]  # names from the signature bound before the patch


def test_unsendable_results_are_a_clear_failure(start):
    session = start("class Liar:\n    def __eq__(self, other):\n        return True\n"
                    "def f():\n    return Liar()")
    with pytest.raises(SubmissionFault, match="cannot check"):
        call(session, "f")


def test_worker_does_not_see_the_graders_environment(start, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_TEST_SECRET", "do-not-leak")
    session = start("import os\ndef f():\n    return os.environ.get('AUTOGRADER_TEST_SECRET'), os.getcwd()")
    secret, cwd = call(session, "f")
    assert secret is None and cwd != os.getcwd()


# --------------------------------------------------------------------------------------- callbacks
def test_callbacks_run_in_the_grader_and_errors_reach_the_student(start):
    session = start("def f(g, x):\n    return g(x) + g(x + 1)",
                    "def safe(g):\n    try:\n        return g('not a number')\n    except RuntimeError as e:\n"
                    "        return 'caught: ' + str(e)")
    seen = []
    assert call(session, "f", lambda x: seen.append(x) or x * 10, 1.0) == 30.0
    assert seen == [1.0, 2.0]
    assert call(session, "safe", lambda x: x + 1).startswith("caught: TypeError")


def test_a_kept_callback_stops_working_after_its_call(start):
    session = start("kept = []\ndef keep(g):\n    kept.append(g)\n    return g(1)",
                    "def use_kept():\n    return kept[0](2)")
    calls = []
    assert call(session, "keep", lambda x: calls.append(x) or x) == 1
    with pytest.raises(StudentCodeError, match="earlier call"):
        call(session, "use_kept")
    assert calls == [1]


def test_problem_functions_are_rebuilt_in_the_worker(start):
    session = start("def run(f, x, n):\n    for _ in range(n):\n        x = f(x)\n    return x")
    problems = ProblemSet(PROBLEMS)
    halve = problems.bind("scale", factor=0.5)
    assert np.array_equal(halve(np.ones(2)), [0.5, 0.5])  # also callable in the grader
    assert np.allclose(call(session, "run", halve, np.ones(2), 10_000), 0.0)


def test_with_reference_replaces_globals_only_during_the_call(start):
    session = start("def helper(x):\n    return -1", "def f(x):\n    return helper(x)")
    submission = Submission(session, ("f",))
    assert submission.with_reference(helper=lambda x: x * 2).f(4) == 8
    assert submission.f(4) == -1


def test_a_reference_swapped_in_runs_in_the_grader_and_never_enters_the_worker(start):
    """Hidden suites swap in reference answers this way: the student's code can call them, not find them."""
    session = start("import gc\ndef helper(x):\n    return -1",
                    "def f(x):\n    return helper(x)",
                    "def seen():\n    return repr(helper)",
                    "def find(name):\n    return [repr(o) for o in gc.get_objects()\n"
                    "            if callable(o) and getattr(o, '__name__', None) == name][:1]")
    submission = Submission(session, ("f", "seen", "find"))
    calls = []

    def reference_answer(x):
        calls.append(x)
        return x * 2

    isolated = submission.with_reference(helper=reference_answer)
    assert isolated.f(4) == 8 and calls == [4]  # ran here, called back from the worker
    assert isolated.seen() == "<function provided by the grader>"
    assert isolated.find("reference_answer") == []
    # A problem function, by contrast, is rebuilt in the worker, where student code can reach it: this
    # is why problems.py must never hold an answer.
    rebuilt = submission.with_reference(helper=ProblemSet(PROBLEMS).bind("scale", factor=2.0))
    assert rebuilt.f(4) == 8.0 and rebuilt.find("scale") != []


# ------------------------------------------------------------------------------ timeouts and crashes
def test_a_call_that_hangs_times_out_and_the_next_call_gets_a_fresh_worker(start):
    session = start("count = [0]\ndef spin(n):\n    count[0] += 1\n    while n > 0:\n        pass\n    return count[0]")
    started = time.monotonic()
    with pytest.raises(StudentTimeout, match=r"time budget of 1\.5 s"):
        call(session, "spin", 1)
    assert time.monotonic() - started < 4
    assert call(session, "spin", 0) == 1  # the notebook ran again: its state is fresh


def test_restarts_are_bounded(start):
    session = start("def spin():\n    while True:\n        pass")
    for _ in range(FAST.max_restarts + 1):
        with pytest.raises(StudentTimeout):
            call(session, "spin")
    with pytest.raises(WorkerUnavailable, match="stopped running this notebook"):
        call(session, "spin")


def test_os_exit_in_a_call_is_a_crash_of_that_call_only(start):
    session = start("import os\ndef die():\n    os._exit(0)", "def ok():\n    return 5")
    with pytest.raises(WorkerCrashed, match="ended the Python process"):
        call(session, "die")
    assert call(session, "ok") == 5


@pytest.mark.parametrize("bad_cell", ["while True:\n    pass", "import os\nos._exit(3)"], ids=["loop", "os-exit"])
def test_a_top_level_cell_that_hangs_or_exits_is_skipped_on_a_second_run(start, bad_cell):
    session = start("def before():\n    return 1", bad_cell, "def after():\n    return 2")
    errors = [cell.error for cell in session.load_report.cells if cell.error]
    assert len(errors) == 1 and "Cell 2" in errors[0] and "without this cell" in errors[0]
    assert call(session, "before") == 1 and call(session, "after") == 2


def test_memory_bomb_is_a_student_error(start):
    session = start("import numpy as np\ndef bomb():\n    return np.ones(50 * 2**30 // 8)")
    with pytest.raises(SubmissionFault, match=r"MemoryError|ended the Python process"):
        call(session, "bomb")


def test_garbage_written_to_the_channel_is_a_crash_not_a_grade(start):
    session = start("import os, sys\ndef forge():\n    os.write(int(sys.argv[2]), b'AGW1' + b'\\xff' * 8)\n"
                    "    while True:\n        pass")
    with pytest.raises((WorkerCrashed, StudentTimeout)):
        call(session, "forge")


def test_unreadable_notebook_session_fails_every_call():
    session = WorkerSession.unavailable("The file is empty.", FAST)
    with pytest.raises(WorkerUnavailable, match="The file is empty"):
        session.call("f", (), {})


def test_imports_outside_the_allowed_packages_fail_with_a_message_naming_them(start):
    session = start("import numpy, scipy.special, pandas, matplotlib.pyplot, math, json", "import sklearn",
                    "try:\n    import torch\nexcept ImportError as error:\n    print('caught', type(error).__name__)",
                    "import importlib\nimportlib.import_module('requests')",
                    "def f():\n    import pandas as pd\n    return float(pd.Series([1.0, 2.0]).sum())")
    cells = {cell.index: cell for cell in session.load_report.cells}
    assert cells[1].error is None
    assert "The package 'sklearn' is not available while your notebook is graded" in cells[2].error
    assert "numpy, pandas, scipy" in cells[2].error.replace("matplotlib, ", "")
    assert "caught PackageNotAvailable" in cells[3].stdout and cells[3].error is None
    assert "The package 'requests' is not available" in cells[4].error
    assert call(session, "f") == 3.0  # allowed packages import inside functions too (pandas' own imports as well)
