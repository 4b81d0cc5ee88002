"""Each cost the performance work removed, measured before and after side by side in this process.

Every "before" is still in the code (the JSON form of a frame, matplotlib's PNGs, collecting a suite
afresh, the store of reference results emptied, a cold numpy RNG, an array sent back by value), so the
two are timed in the same run on the same machine and their ratio is the figure.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _best(task: Callable[[], Any], rounds: int, repeat: int = 5) -> float:
    """Seconds per call: the median of ``repeat`` timings of ``rounds`` calls."""
    task()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(rounds):
            task()
        samples.append((time.perf_counter() - started) / rounds)
    return statistics.median(samples)


def frame_costs() -> dict[str, tuple[float, float]]:
    """Encoding and decoding a callback round trip's two frames, and a call passing a run of 1,000 losses."""
    from autograder.worker import wire

    w = np.linspace(-1.0, 1.0, 5)
    callback = [1, [w, w * 0.5, 0.1], {}]
    losses = [float(v) for v in np.geomspace(10.0, 1e-6, 1000)]
    call = {"name": "classify", "args": [losses, 1e-3], "kwargs": {}, "overrides": {}, "sent": []}
    X = np.random.default_rng(0).standard_normal((20_000, 5))
    results = {}
    for label, op, value in (("callback round trip (both frames)", None, None),
                             ("call with 1,000 losses", "call", call)):
        def both(encode: Callable[..., bytes], op: str | None = op, value: Any = value) -> None:
            if op is None:
                wire.decode_frame(encode("callback", callback))
                wire.decode_frame(encode("callback_return", w))
            else:
                wire.decode_frame(encode(op, value))
        results[label] = (_best(lambda: both(wire.encode_json), 2000), _best(lambda: both(wire.encode), 2000))
    # The grader's own X handed back in a callback: by value (as before) or by its fingerprint.
    sent = {wire.fingerprint(X): X}
    results["the grader's X (20,000 x 5) handed back in a callback"] = (
        _best(lambda: wire.decode_frame(wire.encode("callback", [1, [w, X], {}]), sent=sent), 50),
        _best(lambda: wire.decode_frame(wire.encode("callback", [1, [w, X], {}], sent=frozenset(sent)), sent=sent),
              50))
    return results


def picture_costs() -> dict[str, tuple[float, float]]:
    """A failed check's pictures: matplotlib's PNG against the SVG written directly."""
    from autograder.grader import artifacts
    from autograder.grader.feedback.plots import render_png
    from autograder.grader.feedback.svg_plots import render_svg

    curve = artifacts.lines("Loss per step", [("yours", [10 * 0.9**i for i in range(300)]),
                                              ("reference", [10 * 0.8**i for i in range(300)])], log_y=True)
    panels = artifacts.panels("Traces", [(f"lr = {rate}", [rate**i for i in range(100)])
                                         for rate in (0.5, 0.9, 1.0, 1.1, 2.0)], log_y=True)
    bars = artifacts.bars("Gradient components", [f"w[{i}]" for i in range(6)],
                          [("yours", [1, 2, 3, 4, 5, 6]), ("reference", [1, 2, 3, 4, 5, 7])])
    return {f"{name} picture": (_best(lambda artifact=artifact: render_png(artifact), 3),
                                _best(lambda artifact=artifact: render_svg(artifact), 50))
            for name, artifact in (("loss-curve", curve), ("five-panel trace", panels), ("bar chart", bars))}


def suite_costs(reference_sessions: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Each hidden suite on the reference notebook in-process: collected afresh and with no reference result
    kept (as for every submission before), against the collected suite and the kept results reused."""
    from autograder.grader import once_per_process
    from autograder.grader.suite import forget_collected_suites, run_suite

    results = {}
    for slug, (assignment, make_session) in reference_sessions.items():
        def cold(assignment: Any = assignment, make_session: Any = make_session) -> None:
            forget_collected_suites()
            once_per_process.forget()
            run_suite(assignment.hidden_suite, assignment, make_session())

        def warm(assignment: Any = assignment, make_session: Any = make_session) -> None:
            run_suite(assignment.hidden_suite, assignment, make_session())

        results[f"{slug} suite (collection and reference work)"] = (_best(cold, 1, 3), _best(warm, 1, 3))
    return results


_SEED = ("import time, numpy as np; started = time.perf_counter(); np.random.seed(); "
         "print(time.perf_counter() - started)")
_WARMED = ("import time, numpy as np; np.random.seed(); started = time.perf_counter(); np.random.seed(); "
           "print(time.perf_counter() - started)")


def seed_cost() -> dict[str, tuple[float, float]]:
    """A worker's first np.random.seed(): in a process where numpy's global RNG was never built (a zygote
    that did not warm it) against one where it was (what the zygote now does before forking)."""
    def seconds(code: str) -> float:
        return statistics.median(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                      check=True).stdout) for _ in range(5))
    return {"a worker's first np.random.seed()": (seconds(_SEED), seconds(_WARMED))}
