"""Which sentence of the student notebook each hidden test enforces, checked by ``autograder validate``.

Every graded test names the sentences it enforces, as quotes of the student notebook::

    @pytest.mark.graded("gradient_step", points=0.5, states=["For float inputs, return a float."])

and every sentence of the notebook that states behaviour must be enforced by at least one test.
The statements of a notebook are (:func:`statements`):

* every bullet item and every sentence of a Markdown cell from its ``## Question`` heading on;
* every other Markdown sentence that says *must*, *never*, *always* or *should*;
* every sentence of the docstrings in the answer cells (``otter_answer_cell``).

Written questions (cells marked in their metadata as a written question's prompt or answer, see
:mod:`autograder.grader.written_answers.questions`) are graded by people against their rubric, so their sentences are
left out: no test could enforce them.

A statement that states no behaviour (a prompt to try something, say) is listed under
``[traceability] not_behaviour`` in ``assignment.toml`` (each entry a quote of it). Quotes are compared
with whitespace collapsed and Markdown bold (``**``) removed; a quote matches a statement it is part of.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grader.written_answers.questions import is_written_cell

_BULLET = re.compile(r"^\s*(?:[*+-]|\d+\.)\s+")
_NORMATIVE = re.compile(r"\b(must|never|always|should)\b", re.IGNORECASE)
# A sentence ends at . ! or ? followed by space and a capital, a backtick, a quote or a bracket, except
# after common abbreviations.
_SENTENCE_END = re.compile(r"(?<!e\.g\.)(?<!i\.e\.)(?<!etc\.)(?<=[.!?])\s+(?=[A-Z`\"'(*$])")


def normalise(text: str) -> str:
    return " ".join(text.replace("**", "").split())


@dataclass
class Statement:
    text: str
    where: str  # "markdown cell 4", "docstring of gradient_step"

    def contains(self, quote: str) -> bool:
        return normalise(quote) in normalise(self.text)


@dataclass
class Report:
    statements: list[Statement]
    untested: list[Statement] = field(default_factory=list)  # behaviour no test enforces
    unknown_quotes: list[tuple[str, str]] = field(default_factory=list)  # (test, quote) not in the notebook
    unquoted_tests: list[str] = field(default_factory=list)  # tests that name no sentence
    stale_exemptions: list[str] = field(default_factory=list)  # not_behaviour entries matching nothing
    enforced_by: dict[str, list[str]] = field(default_factory=dict)  # statement text -> tests

    @property
    def problems(self) -> list[str]:
        found = [f"no test enforces the notebook's sentence {s.text!r} ({s.where})" for s in self.untested]
        found += [f"{test} quotes {quote!r}, which the student notebook does not say" for test, quote in
                  self.unknown_quotes]
        found += [f"{test} names no sentence of the student notebook (states=[...])" for test in self.unquoted_tests]
        found += [f"[traceability] not_behaviour lists {quote!r}, which the student notebook does not say"
                  for quote in self.stale_exemptions]
        return found


def statements(notebook: Path) -> list[Statement]:
    """The sentences of the student notebook that state behaviour (see the module's docstring)."""
    document = json.loads(notebook.read_text(encoding="utf-8"))
    found: list[Statement] = []
    for number, cell in enumerate(document.get("cells", []), start=1):
        if is_written_cell(cell):
            continue
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            found += _markdown_statements(source, f"markdown cell {number}")
        elif cell.get("cell_type") == "code" and "otter_answer_cell" in cell.get("metadata", {}).get("tags", []):
            found += _docstring_statements(source)
    return found


def _markdown_statements(source: str, where: str) -> list[Statement]:
    found = []
    in_question = False
    for block in _blocks(source):
        if block.startswith("#"):
            in_question = in_question or block.lower().startswith("## question")
            continue
        for sentence in _sentences(block):
            if in_question or _NORMATIVE.search(sentence):
                found.append(Statement(sentence, where))
    return found


def _blocks(source: str) -> list[str]:
    """Headings, bullet items and paragraphs of a Markdown cell, each on one line."""
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            blocks.append(" ".join(part.strip() for part in current))
            current.clear()

    for line in source.splitlines():
        if not line.strip() or line.lstrip().startswith("$$"):
            flush()
        elif line.startswith("#"):
            flush()
            blocks.append(line.strip())
        elif _BULLET.match(line):
            flush()
            current.append(_BULLET.sub("", line))
        elif line.lstrip().startswith("|"):  # tables are notation, not statements
            flush()
        else:
            current.append(line)
    flush()
    return blocks


def _sentences(block: str) -> list[str]:
    return [sentence.strip() for sentence in _SENTENCE_END.split(block) if sentence.strip()]


def _docstring_statements(source: str) -> list[Statement]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and ast.get_docstring(node):
            text = " ".join(ast.get_docstring(node).split())
            found += [Statement(sentence, f"docstring of {node.name}") for sentence in _sentences(text)]
    return found


def trace(notebook: Path, tests: Iterable[tuple[str, list[str]]], not_behaviour: Iterable[str]) -> Report:
    """Link ``tests`` ((name, quotes) pairs) to the statements of ``notebook``."""
    found = statements(notebook)
    report = Report(found)
    whole = normalise(" ".join(statement.text for statement in found))
    exemptions = list(not_behaviour)
    for name, quotes in tests:
        if not quotes:
            report.unquoted_tests.append(name)
        for quote in quotes:
            if normalise(quote) not in whole:
                report.unknown_quotes.append((name, quote))
            for statement in found:
                if statement.contains(quote):
                    report.enforced_by.setdefault(statement.text, []).append(name)
    report.stale_exemptions = [quote for quote in exemptions if normalise(quote) not in whole]
    report.untested = [statement for statement in found if statement.text not in report.enforced_by
                       and not any(statement.contains(quote) for quote in exemptions)]
    return report
