"""The feedback on a terminal, for ``autograder check``: the same findings as the pages, in words.

Styles come from ``click.style``; ``click.echo`` drops them when the output is not a terminal, and
:func:`use_colour` turns them off when ``NO_COLOR`` is set (https://no-color.org).
"""

from __future__ import annotations

import os

import click

from autograder.grader.feedback.summaries import describe
from autograder.grader.feedback.view import CheckView, FeedbackView, same_reason_text, score_text

INDENT = "      "


def use_colour() -> bool | None:
    """For ``click.echo(color=...)``: False when NO_COLOR is set, else None (colour only on a terminal)."""
    return False if os.environ.get("NO_COLOR") else None


def _indent(text: str, prefix: str = INDENT) -> str:
    return "\n".join(prefix + line for line in text.rstrip().splitlines())


def render_checks(checks: list[CheckView]) -> str:
    """Each check passed or failed, with its message: what a student sees of the public checks, in
    ``autograder check`` and in the notebook's own ``grader.check(...)`` cells alike."""
    return "\n".join(line for check in checks if not check.same_reason for line in _check(check))


def render_terminal(view: FeedbackView) -> str:
    lines: list[str] = [click.style(line, fg="yellow", bold=True) for line in view.mistakes]
    lines += [""] if view.mistakes else []
    lines += [render_checks(view.checks)] if view.checks else []
    lines += ["", click.style(f"Score: {score_text(view.score, view.max_score)}", bold=True)]
    lines += [f"  {f.name}: {score_text(f.score, f.max_score)}" for f in view.functions]
    if view.problem:
        lines += ["", click.style("Your notebook could not be run. ", fg="red", bold=True) + view.problem]
    for cell in view.cells:
        lines.append("")
        if cell.error:
            lines += [click.style(f"{cell.heading} raised an error", fg="red", bold=True)
                      + " (the cells after it still ran):", _indent(cell.error)]
        lines += [f"{cell.heading}: {note}." for note in cell.notes]
        if cell.stdout:
            cut = f" (the last {cell.cut:,} characters are not shown)" if cell.cut else ""
            lines += [click.style(f"{cell.heading} printed{cut}:", bold=True), _indent(cell.stdout)]
    return "\n".join(lines)


def _check(check: CheckView) -> list[str]:
    score = click.style(f"({score_text(check.score, check.max_score)})", dim=True)
    if check.hidden:
        return [f"{click.style('----', dim=True)}  {check.function}: hidden test {score}"]
    mark = click.style("PASS", fg="green", bold=True) if check.passed else click.style("FAIL", fg="red", bold=True)
    lines = [f"{mark}  {check.function}: {check.title} {score}"]
    if check.message:
        lines.append(_indent(check.message))
    if check.same_reason_titles:
        lines.append(INDENT + click.style(same_reason_text(check), dim=True))
        lines += [INDENT + "  - " + title for title in check.same_reason_titles]
    for artifact in check.artifacts:
        lines.append(INDENT + click.style(f"plot: {artifact.get('title', '')}", fg="cyan"))
        lines += [INDENT + "  " + line for line in describe(artifact)]
    return lines
