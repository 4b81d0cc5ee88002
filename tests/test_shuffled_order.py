"""What a grading process keeps between submissions (each suite collected once, reference work computed
once) never changes a grade: the same notebooks graded in other orders, and spread over other grading
processes, get exactly the same results, test by test and message by message."""

from __future__ import annotations

import random
import textwrap

import pytest

from autograder.grader.executors import GradingTask, InProcess, LocalPool
from autograder.grader.notebook import read_code_cells
from tests.conftest import COURSE, TEST_COURSE, TOY_CORRECT

# learning-rate's suite reuses reference work (traces, picks) across submissions; toy comes from another
# course, so grading both in one process also switches course back and forth.
SOLUTIONS = COURSE / "assignments" / "learning-rate" / "solutions"

ATTACKS = {
    # Changing numpy in the worker must not reach the grader's checks, nor what it keeps for later notebooks.
    "monkeypatch-numpy": textwrap.dedent("""
        import numpy as np
        np.allclose = lambda *a, **k: True
        np.isfinite = lambda x, *a, **k: np.ones(np.shape(x), dtype=bool)
        np.testing.assert_allclose = lambda *a, **k: None
        """),
    "sys-exit": "import sys\nsys.exit(0)",
    # A function that writes into the trace it was given: the grader's kept traces must not change.
    "overwrites-its-input": textwrap.dedent("""
        _honest = diagnose_trace
        def diagnose_trace(losses):
            label = _honest(losses)
            if hasattr(losses, 'fill'):
                losses.fill(0.0)
            elif isinstance(losses, list):
                losses[:] = [0.0] * len(losses)
            return label
        """),
}


@pytest.fixture(scope="module")
def tasks(tmp_path_factory) -> list[GradingTask]:
    import nbformat

    folder = tmp_path_factory.mktemp("shuffled")
    correct = sorted((SOLUTIONS / "correct").glob("*.ipynb"))[0]
    buggy = sorted((SOLUTIONS / "buggy").glob("*.ipynb"))[:1]

    def write(name: str, cells: list[str]) -> str:
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
        path = folder / f"{name}.ipynb"
        nbformat.write(notebook, path)
        return str(path)

    correct_cells = [source for _, source in read_code_cells(correct)]
    found = [GradingTask(path.stem, str(path), "learning-rate", str(COURSE), "") for path in [correct, *buggy]]
    found += [GradingTask(f"attack-{name}", write(name, [*correct_cells, cell]), "learning-rate", str(COURSE), "")
              for name, cell in ATTACKS.items()]
    found += [GradingTask("toy-correct", write("toy-correct", TOY_CORRECT), "toy", str(TEST_COURSE), ""),
              GradingTask("toy-wrong", write("toy-wrong", [TOY_CORRECT[0], "def double(x):\n    return x",
                                                           TOY_CORRECT[2]]), "toy", str(TEST_COURSE), "")]
    return found


def graded(executor, tasks: list[GradingTask]) -> dict[str, tuple]:
    try:
        return {task.submission: (result.problem, [(t.name, t.score, t.max_score, t.passed, t.output)
                                                   for t in result.tests])
                for task, result in executor.results(tasks)}
    finally:
        executor.close()


@pytest.mark.slow
def test_order_and_grading_processes_never_change_a_result(tasks):
    in_order = graded(InProcess(), tasks)
    # This process again, now with every suite collected and every reference result kept, in reverse.
    reversed_order = graded(InProcess(), list(reversed(tasks)))
    shuffled = list(tasks)
    random.Random(7).shuffle(shuffled)
    two_processes = graded(LocalPool(2), shuffled)

    assert reversed_order == in_order
    assert two_processes == in_order
    # The comparison means something only if the grades differ where they should.
    scores = {name: sum(test[1] for test in tests) for name, (_, tests) in in_order.items()}
    top = sum(test[2] for test in in_order["toy-correct"][1])
    assert scores["toy-correct"] == top and scores["toy-wrong"] < top
    correct_name, buggy_name = tasks[0].submission, tasks[1].submission
    assert all(test[3] for test in in_order[correct_name][1])
    assert scores[buggy_name] < scores[correct_name]
