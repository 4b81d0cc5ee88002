"""The HTML both pages share: one self-contained file, images inlined, no scripts, no external links.

A Content-Security-Policy in the page itself makes the browser refuse anything that is not inline,
so a page that looks right offline is exactly what a student or instructor will see.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from typing import Any

from autograder.grader.feedback.pictures import picture_format, render_picture
from autograder.grader.feedback.summaries import describe, table

POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2330;
       background: #f6f7f9; }
main { max-width: 980px; margin: 0 auto; padding: 24px 20px 60px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; }
h3 { font-size: 16px; margin: 0; }
.muted { color: #5b6472; }
.small { font-size: 13px; }
.card { background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 14px 16px; margin: 10px 0; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e4e7eb; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.meter { display: inline-block; width: 120px; height: 10px; background: #e4e7eb; border-radius: 5px;
         overflow: hidden; vertical-align: middle; }
.meter span { display: block; height: 100%; background: #2a9d4a; }
.pass { color: #1e7a3a; font-weight: 600; }
.fail { color: #b3261e; font-weight: 600; }
.hid { color: #5b6472; }
.check { border-left: 4px solid #2a9d4a; }
.check.failed { border-left-color: #b3261e; }
.check.hidden { border-left-color: #9aa3af; }
.row { display: flex; gap: 12px; justify-content: space-between; align-items: baseline; }
pre { background: #f3f4f6; border: 1px solid #e4e7eb; border-radius: 6px; padding: 8px 10px; overflow-x: auto;
      white-space: pre-wrap; word-break: break-word;
      font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, monospace; }
figure { margin: 12px 0 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #e4e7eb; border-radius: 4px; }
figcaption { font-size: 13px; color: #5b6472; }
figcaption ul { margin: 4px 0; padding-left: 20px; }
.problem { background: #fff4e5; border: 1px solid #f0c36d; border-radius: 8px; padding: 12px 14px; }
"""


def escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


def document(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
            "</body>\n</html>\n")


def image(picture: bytes, alt: str) -> str:
    """A picture inline, through <img>: a browser runs no script in an SVG shown this way."""
    data = base64.b64encode(picture).decode("ascii")
    return f'<img src="data:{picture_format(picture)[0]};base64,{data}" alt="{escape(alt)}">'


def html_table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = (),
               raw: bool = False) -> str:
    """A table; ``raw`` cells are already HTML (the caller escaped them)."""
    def cell(tag: str, index: int, value: str) -> str:
        css = ' class="num"' if index in numeric else ""
        return f"<{tag}{css}>{value if raw and tag == 'td' else escape(value)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "\n".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    thead = f"<thead><tr>{head}</tr></thead>\n" if any(header) else ""  # a list of label: value needs none
    return f"<table>\n{thead}<tbody>\n{body}\n</tbody>\n</table>"


def figure(artifact: dict[str, Any], picture: bytes | None = None, caption: str | None = None) -> str:
    """A plot with its numbers in words underneath (the numbers alone when it cannot be drawn);
    ``caption`` replaces the numbers with a shorter text."""
    if picture is None:
        picture = render_picture(artifact)
    lines = describe(artifact)
    title = str(artifact.get("title", "plot"))
    shown = image(picture, f"{title}. " + "; ".join(lines)) if picture else f"<h3>{escape(title)}</h3>"
    grid = table(artifact)
    if caption is not None:
        caption = f"<p>{escape(caption)}</p>"
    elif grid is not None:
        caption = html_table(grid[0], grid[1], numeric=range(1, len(grid[0])))
    else:
        caption = "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"
    return f"<figure>{shown}<figcaption>{caption}</figcaption></figure>"


def meter(score: float, max_score: float) -> str:
    share = 0.0 if max_score <= 0 else max(0.0, min(1.0, score / max_score))
    return f'<span class="meter" aria-hidden="true"><span style="width: {100 * share:.0f}%"></span></span>'
