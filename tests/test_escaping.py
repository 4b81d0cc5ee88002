"""Student-controlled text is escaped for every destination: terminal, Markdown, CSV, HTML."""

from __future__ import annotations

import csv

import pytest

from autograder.grader.batch import discover, grade_batch
from autograder.grader.escaping import csv_cell, markdown_text, printable

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m <script>alert(1)</script> ![x](http://e.vil/t.png) \x07bell"


def test_printable_drops_every_control_sequence_but_keeps_the_words():
    assert printable(HOSTILE) == "red <script>alert(1)</script> ![x](http://e.vil/t.png) bell"
    assert printable("line 1\n\tline 2") == "line 1\n\tline 2"


def test_markdown_text_renders_as_the_same_characters_and_nothing_else():
    text = markdown_text(HOSTILE)
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "![" not in text and "\\!\\[x\\]\\(http" in text


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://e.vil\")", "+1+1", "-2+3", "@SUM(A1)", "\tx"])
def test_csv_cells_never_start_a_formula(value):
    assert csv_cell(value).startswith("'")


def test_a_hostile_submission_name_and_output_reach_no_output_raw(tmp_path, toy, write_notebook):
    name = "=cmd|' /C calc'!A0 <img src=x onerror=alert(1)>"
    write_notebook(["print('\\x1b[31mred\\x1b[0m <script>alert(1)</script>')", "!echo <script>x</script>",
                    "def double(x):\n    return 2 * x", "def apply_twice(f, x):\n    return f(f(x))"],
                   f"{name}.ipynb", tmp_path / "subs")
    out = tmp_path / "out"
    summary = grade_batch(toy, discover([tmp_path / "subs"]), out, feedback=True)
    assert len(summary.outcomes) == 1
    with open(out / "grades.csv", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["submission"] == "'" + name
    texts = {path.suffix: path.read_text() for path in (out / "feedback").rglob("*") if path.suffix in (".md", ".html")}
    markdown = _outside_code_blocks(texts[".md"])  # inside a fence, CommonMark shows HTML as text
    assert "<script>" not in markdown and "<img" not in markdown and "\x1b" not in texts[".md"]
    assert "echo" in markdown, "the note about the skipped shell command is there, escaped"
    assert "<script>" not in texts[".html"] and "<img src" not in texts[".html"] and "\x1b" not in texts[".html"]
    assert "<script>" not in (out / "report.html").read_text()


def _outside_code_blocks(markdown: str) -> str:
    kept, fence = [], None
    for line in markdown.splitlines():
        stripped = line.strip()
        if fence is None and stripped.startswith("```"):
            fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
        elif fence is not None and stripped == fence:
            fence = None
        elif fence is None:
            kept.append(line)
    return "\n".join(kept)
