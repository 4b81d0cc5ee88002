"""Progress of a batch: a bar on a terminal, sparse lines in logs, nothing when quiet."""

from __future__ import annotations

import io

from autograder.grader.progress import ProgressReport


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_logs_get_a_line_every_few_seconds_and_one_at_the_end() -> None:
    stream, clock = io.StringIO(), Clock()
    report = ProgressReport(10, stream=stream, log_every=5, clock=clock)
    for _ in range(9):
        clock.now += 1
        report.advance()
    clock.now += 1
    report.advance(reused=False, problem=True)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("1/10 submissions (1.0/s")  # the first one, then every 5 s
    assert lines[1].startswith("6/10 submissions") and "about 4 s left" in lines[1]
    assert lines[-1] == "10/10 submissions (1.0/s, 1 could not run)"
    assert len(lines) == 3


def test_a_terminal_gets_a_bar_redrawn_in_place() -> None:
    stream, clock = FakeTerminal(), Clock()
    report = ProgressReport(4, stream=stream, clock=clock)
    for reused in (True, True, False, False):
        clock.now += 0.5
        report.advance(reused=reused)
    text = stream.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n")
    assert "[##############################] 4/4 submissions (1.0/s, 2 unchanged)" in text


def test_quiet_prints_nothing() -> None:
    stream = FakeTerminal()
    report = ProgressReport(3, stream=stream, quiet=True)
    for _ in range(3):
        report.advance()
    assert stream.getvalue() == ""
