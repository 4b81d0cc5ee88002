"""A submission's feedback as Markdown; plots are picture files next to it (``<id>.files/plot-N.svg``)."""

from __future__ import annotations

from autograder.grader.escaping import markdown_text
from autograder.grader.feedback.summaries import describe, table
from autograder.grader.feedback.view import (
    CheckView,
    FeedbackView,
    function_score_text,
    same_reason_text,
    score_text,
    total_score_text,
)
from autograder.grader.written_answers.questions import FUNCTION_PREFIX

Links = dict[int, str]  # relative path of each artifact's image, by id() of the artifact dict


def _fence(text: str) -> str:
    """A code block whose fence is longer than any backtick run inside (student output may hold some)."""
    longest, run = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def _cell_text(value: str) -> str:
    return markdown_text(value)


def render_markdown(view: FeedbackView, links: Links) -> str:
    lines = [f"# {markdown_text(view.title)}", "", f"Feedback for **{markdown_text(view.submission)}**", "",
             *(f"> **{markdown_text(line)}**\n" for line in view.mistakes),
             f"**Score: {total_score_text(view)}**", ""]
    if view.problem:
        lines += ["> **Your notebook could not be run.** " + markdown_text(view.problem), ""]
    lines += ["## Score per function", "", "| function | score | checks passed |", "|---|---:|---:|"]
    lines += [f"| {markdown_text(f.name)} | {function_score_text(f)} | "
              f"{sum(c.passed for c in f.checks)} of {len(f.checks)} |" for f in view.functions]
    for function in view.functions:
        lines += ["", f"## {markdown_text(function.name)} ({function_score_text(function)})", ""]
        for check in function.checks:
            lines += check_lines(check, links)
    lines += ["", "## Your notebook", ""]
    if not view.cells:
        lines.append("Every cell ran without errors and printed nothing.")
    for cell in view.cells:
        lines += [f"### {markdown_text(cell.heading)}", ""]
        if cell.error:
            lines += ["This cell raised an error (the cells after it still ran):", "", _fence(cell.error), ""]
        lines += [f"- {markdown_text(note)}." for note in cell.notes] + ([""] if cell.notes else [])
        if cell.stdout:
            cut = f" (the last {cell.cut:,} characters are not shown)" if cell.cut else ""
            lines += [f"Printed output{cut}:", "", _fence(cell.stdout), ""]
    return "\n".join(lines).rstrip() + "\n"


def check_lines(check: CheckView, links: Links) -> list[str]:
    """One check as Markdown list lines (message and plots indented under it)."""
    if check.same_reason:
        return []
    if check.hidden:
        return [f"- hidden test: {score_text(check.score, check.max_score)}"]
    if check.pending:
        return [f"- pending (- / {check.max_score:g}): {markdown_text(check.title)}", "",
                "\n".join("  " + line for line in _fence(check.message).splitlines()), ""]
    mark = "graded by hand" if check.function.startswith(FUNCTION_PREFIX) else \
        "passed" if check.passed else "**failed**"
    lines = [f"- {mark} ({score_text(check.score, check.max_score)}): {markdown_text(check.title)}"]
    if check.message:
        lines += ["", "\n".join("  " + line for line in _fence(check.message).splitlines()), ""]
    if check.same_reason_titles:
        lines += [f"  *{same_reason_text(check)}*", ""]
        lines += [f"  - {markdown_text(title)}" for title in check.same_reason_titles] + [""]
    for artifact in check.artifacts:
        title = markdown_text(str(artifact.get("title", "plot")))
        link = links.get(id(artifact))
        lines += ["", f"  ![{title}]({link})" if link else f"  *{title}*", ""]
        grid = table(artifact)
        if grid is not None:
            header, rows = grid
            lines += ["  | " + " | ".join(map(_cell_text, header)) + " |",
                      "  |" + "---|" + "---:|" * (len(header) - 1)]
            lines += ["  | " + " | ".join(map(_cell_text, row)) + " |" for row in rows]
        else:
            lines += [f"  - {markdown_text(line)}" for line in describe(artifact)]
        lines.append("")
    return lines
