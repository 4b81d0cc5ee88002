"""Known mistakes: naming a student's likely mistake from which checks failed.

An assignment's ``mistakes.toml`` lists mistakes students make, each with a one-sentence description
(written by hand, in the words of the lecture) and, per bundled buggy solution that shows it, the
*pattern* of that solution: the names of the tests it fails. Patterns are computed, never written by
hand: ``autograder validate --write-mistakes`` grades the buggy solutions and rewrites them, keeping
the descriptions::

    [[mistake]]
    id = "missing-initial-loss"
    functions = ["gradient_descent"]
    description = "The loss at `w0` is missing from `losses`: record it before the first step."
    [mistake.patterns]
    missing-initial-loss = ["gradient_descent: ...", "Public check, gradient_descent: ..."]

A submission shows a mistake when, among the tests of the functions one of its solutions fails tests
of, it fails exactly the tests that solution fails (only tests the submission ran count, so a check run of
public tests alone compares the public part of each pattern). A pattern that fails every test of its
functions is never named: a notebook that lacks the function, or crashes, fails them all too. A match
whose failed checks another match explains with more is dropped (the fuller explanation wins). Several
mistakes fitting the same failures are all named, up to :data:`MAX_TIED`; beyond that none is, since
the checks cannot tell them apart. Matching reads test outcomes only, never student code.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.grader.results import LikelyMistake, TestResult

FILE_NAME = "mistakes.toml"
MAX_TIED = 2  # more mistakes than this fitting the same failures say nothing useful


class MistakesError(Exception):
    """mistakes.toml cannot be read; the message says what to fix."""


@dataclass(frozen=True)
class KnownMistake:
    id: str
    description: str
    functions: tuple[str, ...]
    # Per buggy solution (file stem) showing this mistake: the names of the tests it fails.
    patterns: Mapping[str, frozenset[str]]


def load_mistakes(path: Path) -> tuple[KnownMistake, ...]:
    """The mistakes of ``path`` (an assignment's mistakes.toml); none when the file does not exist."""
    if not path.is_file():
        return ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise MistakesError(f"{path} is not valid TOML: {error}") from None
    mistakes = []
    for number, entry in enumerate(data.get("mistake", []), start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise MistakesError(f"{path}: mistake number {number} needs an id = \"...\".")
        patterns = entry.get("patterns", {})
        functions = entry.get("functions", [])
        if not (isinstance(patterns, dict) and all(isinstance(v, list) for v in patterns.values())
                and isinstance(functions, list)):
            raise MistakesError(f"{path}: mistake {entry['id']!r} needs functions = [...] and a [mistake.patterns] "
                                "table of solution = [test names]; run `autograder validate --write-mistakes`.")
        mistakes.append(KnownMistake(entry["id"], str(entry.get("description", "")), tuple(map(str, functions)),
                                     {str(k): frozenset(map(str, v)) for k, v in patterns.items()}))
    return tuple(mistakes)


# ------------------------------------------------------------------------------------------ matching
def public_key(test: TestResult) -> str:
    """How a pattern names a public check run on its own (``autograder check``): as grading names it."""
    return f"Public check, {test.name}"


def likely_mistakes(tests: Sequence[TestResult], catalogue: Iterable[KnownMistake], *,
                    considered: Callable[[TestResult], bool] = lambda test: True,
                    key: Callable[[TestResult], str] = lambda test: test.name) -> list[LikelyMistake]:
    """The known mistakes ``tests`` show (see the module's docstring for the rule).

    ``considered`` picks the tests matching may read (the visible ones, before results are released);
    ``key`` names a test as patterns do."""
    ran = [test for test in tests if considered(test)]
    function_of = {key(test): test.function for test in ran}
    failing = {key(test) for test in ran if not test.passed}
    found: list[LikelyMistake] = []
    for mistake in catalogue:
        if not mistake.description:
            continue
        for pattern in mistake.patterns.values():
            seen = pattern & function_of.keys()
            functions = {function_of[name] for name in seen}
            scope = {name for name, function in function_of.items() if function in functions}
            if seen and seen == failing & scope and seen != scope:
                explained = [test.name for test in ran if key(test) in seen]
                found.append(LikelyMistake(mistake.id, mistake.description, tuple(explained)))
                break
    return _most_complete(_without_crowded_ties(found))


def _most_complete(found: list[LikelyMistake]) -> list[LikelyMistake]:
    """Drop a match whose failed checks another match explains too, with more: the fuller explanation wins."""
    sets = [frozenset(match.tests) for match in found]
    return [match for match, tests in zip(found, sets, strict=True) if not any(tests < other for other in sets)]


def _without_crowded_ties(found: list[LikelyMistake]) -> list[LikelyMistake]:
    by_failures: dict[frozenset[str], list[LikelyMistake]] = {}
    for match in found:
        by_failures.setdefault(frozenset(match.tests), []).append(match)
    return [match for match in found if len(by_failures[frozenset(match.tests)]) <= MAX_TIED]


# ------------------------------------------------------------------------------------------- writing
def observed_pattern(tests: Iterable[TestResult]) -> frozenset[str]:
    return frozenset(test.name for test in tests if not test.passed)


def updated_mistakes(existing: Sequence[KnownMistake], observed: Mapping[str, tuple[tuple[str, ...], frozenset[str]]]
                     ) -> tuple[list[KnownMistake], list[str]]:
    """``existing`` with every pattern replaced by what its solution fails now (``observed``: solution ->
    (functions it breaks, failing tests)); a solution no mistake lists gets a mistake of its own with an
    empty description for the author to write. Returns the mistakes and notes on what changed."""
    notes, listed, mistakes = [], set(), []
    for mistake in existing:
        patterns = {}
        for solution in mistake.patterns:
            if solution in observed:
                patterns[solution] = observed[solution][1]
                listed.add(solution)
            else:
                notes.append(f"{mistake.id}: the solution {solution} no longer exists; its pattern was removed")
        if not patterns:
            notes.append(f"{mistake.id}: no solution shows it any more; the mistake was removed")
            continue
        functions = mistake.functions or tuple(dict.fromkeys(f for s in patterns for f in observed[s][0]))
        mistakes.append(KnownMistake(mistake.id, mistake.description, functions, patterns))
    for solution, (functions, failing) in observed.items():
        if solution not in listed:
            notes.append(f"{solution}: a new mistake; write its description in the file")
            mistakes.append(KnownMistake(solution, "", functions, {solution: failing}))
    return mistakes, notes


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _key(text: str) -> str:
    bare = text.replace("-", "").replace("_", "").isalnum() and text.isascii()
    return text if bare else _string(text)


def render_mistakes(mistakes: Iterable[KnownMistake]) -> str:
    lines = ["# Known mistakes of this assignment: what feedback names when a submission fails the same checks as",
             "# a bundled buggy solution. Descriptions are written by hand; patterns (the checks each solution",
             "# fails) are computed: run `autograder validate --write-mistakes SLUG` after changing a suite.", ""]
    for mistake in mistakes:
        lines += ["[[mistake]]", f"id = {_string(mistake.id)}",
                  f"functions = [{', '.join(map(_string, mistake.functions))}]",
                  f"description = {_string(mistake.description)}", "[mistake.patterns]"]
        for solution, pattern in mistake.patterns.items():
            names = sorted(pattern)
            lines.append(f"{_key(solution)} = [" + "".join(f"\n    {_string(n)}," for n in names)
                         + ("\n]" if names else "]"))
        lines.append("")
    return "\n".join(lines)



