"""A submission's feedback as one self-contained HTML page."""

from __future__ import annotations

from autograder.grader.feedback.page import document, escape, figure, html_table, meter
from autograder.grader.feedback.view import (
    CheckView,
    FeedbackView,
    function_score_text,
    same_reason_text,
    score_text,
    total_score_text,
)
from autograder.grader.written_answers.questions import FUNCTION_PREFIX

Images = dict[int, bytes | None]  # PNG of each artifact, by id() of the artifact dict


def render_html(view: FeedbackView, images: Images) -> str:
    parts = [f"<h1>{escape(view.title)}</h1>",
             f'<p class="muted">Feedback for <strong>{escape(view.submission)}</strong></p>',
             f'<div class="card"><div class="row"><h2 style="margin: 0">Score: '
             f"{escape(total_score_text(view))}</h2>{meter(view.score, view.max_score)}</div></div>"]
    parts += [f'<div class="problem"><strong>{escape(line)}</strong></div>' for line in view.mistakes]
    if view.problem:
        parts.append('<div class="problem"><strong>Your notebook could not be run.</strong><br>'
                     f"{escape(view.problem)}</div>")
    rows = [[escape(f.name), escape(function_score_text(f)) + " " + meter(f.score, f.max_score),
             escape(f"{sum(c.passed for c in f.checks)} of {len(f.checks)}")] for f in view.functions]
    parts += ["<h2>Score per function</h2>", html_table(["function", "score", "checks passed"], rows, raw=True)]
    for function in view.functions:
        parts.append(f'<h2 id="{escape(function.name)}">{escape(function.name)} '
                     f'<span class="muted small">{escape(function_score_text(function))}</span></h2>')
        parts += [_check(check, images) for check in function.checks if not check.same_reason]
    parts.append(_cells(view))
    return document(f"{view.title}: feedback for {view.submission}", "\n".join(parts))


def _check(check: CheckView, images: Images) -> str:
    if check.hidden:
        heading, status, css = '<h3 class="hid">hidden test</h3>', "", "check hidden"
    elif check.pending:
        heading, status, css = (f"<h3>{escape(check.title)}</h3>", '<span class="hid">pending</span>',
                                "check hidden")
    elif check.function.startswith(FUNCTION_PREFIX):
        heading, status, css = f"<h3>{escape(check.title)}</h3>", '<span class="pass">graded by hand</span>', "check"
    elif check.passed:
        heading, status, css = f"<h3>{escape(check.title)}</h3>", '<span class="pass">&#10003; passed</span>', "check"
    else:
        heading, status, css = (f"<h3>{escape(check.title)}</h3>", '<span class="fail">&#10007; failed</span>',
                                "check failed")
    body = [f'<div class="card {css}"><div class="row">{heading}<span>{status} '
            f'<span class="muted">{escape(_points(check))}</span></span></div>']
    if check.message:
        body.append(f"<pre>{escape(check.message)}</pre>")
    if check.same_reason_titles:
        items = "".join(f"<li>{escape(title)}</li>" for title in check.same_reason_titles)
        body.append(f'<p class="muted">{escape(same_reason_text(check))}</p><ul class="muted">{items}</ul>')
    body += [figure(artifact, images.get(id(artifact))) for artifact in check.artifacts]
    body.append("</div>")
    return "\n".join(body)


def _points(check: CheckView) -> str:
    return f"- / {check.max_score:g}" if check.pending else score_text(check.score, check.max_score)


def _cells(view: FeedbackView) -> str:
    if not view.cells:
        return '<h2>Your notebook</h2><p class="muted">Every cell ran without errors and printed nothing.</p>'
    parts = ["<h2>Your notebook</h2>",
             '<p class="muted small">Cells are numbered from the top of the notebook, counting every cell.</p>']
    for cell in view.cells:
        css = "check failed" if cell.error else "check"
        part = [f'<div class="card {css}"><h3>{escape(cell.heading)}</h3>']
        if cell.error:
            part.append(f'<p class="fail">This cell raised an error (the cells after it still ran):</p>'
                        f"<pre>{escape(cell.error.rstrip())}</pre>")
        part += [f"<p>{escape(note)}.</p>" for note in cell.notes]
        if cell.stdout:
            cut = f" (the last {cell.cut:,} characters are not shown)" if cell.cut else ""
            part.append(f'<details><summary>Printed output{escape(cut)}</summary><pre>{escape(cell.stdout)}</pre>'
                        "</details>")
        part.append("</div>")
        parts.append("\n".join(part))
    return "\n".join(parts)
