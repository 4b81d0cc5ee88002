"""Written questions: answers in words that people grade against a rubric.

An assignment declares them in ``written.toml`` beside its ``assignment.toml``::

    [[question]]
    id = "many-minima"                 # letters, digits, - and _; names the question everywhere
    title = "Why the loss has many minima"
    points = 2
    [[question.rubric]]
    points = 1
    text = "Says that a network's loss is not convex in its weights."

Rubric items may be worth negative points (a deduction); a score is the points of the items chosen
plus an adjustment, kept between 0 and the question's points.

In the student notebook each question is two Markdown cells, both marked in their metadata
(``{"autograder": {"written_question": ID}}`` on the prompt, ``{"autograder": {"written_answer": ID}}``
on the answer) and the prompt with a visible heading ``## Written question N: title``. Students edit
the answer cell's text freely; answers are read from the submitted notebook's JSON in the grader,
never by running anything, and budgeted (:data:`MAX_ANSWER_CHARS`). A notebook whose answer cell lost
its metadata (pasted into a new cell, say) still has its answer found: the Markdown cells after the
prompt, up to the next heading or code cell.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from autograder.grader.notebook import NotebookError, read_notebook_json
from autograder.grader.results import SubmissionResult, TestResult

WRITTEN_FILE = "written.toml"
METADATA_KEY = "autograder"
QUESTION_MARK = "written_question"
ANSWER_MARK = "written_answer"
HEADING_PREFIX = "## Written question"
PLACEHOLDER = "_Type your answer here, replacing this text._"
# Longer answers are cut (and the grader told): a page or two is what the questions ask for, and the
# grading view, the PDF and the gradebook must stay small whatever a notebook holds.
MAX_ANSWER_CHARS = 12_000
MAX_COMMENT_CHARS = 4_000
MAX_ADJUSTMENT = 1_000.0
FUNCTION_PREFIX = "written:"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class WrittenError(Exception):
    """The written questions cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class RubricItem:
    id: str
    points: float
    text: str


@dataclass(frozen=True)
class WrittenQuestion:
    id: str
    title: str
    points: float
    rubric: tuple[RubricItem, ...]
    number: int = 1  # its place among the assignment's written questions, from 1

    @property
    def function(self) -> str:
        """Its name where results group tests by function (grades.csv's column, feedback's section)."""
        return FUNCTION_PREFIX + self.id

    def item(self, item_id: str) -> RubricItem | None:
        return next((item for item in self.rubric if item.id == item_id), None)

    def score(self, items: list[str] | tuple[str, ...], adjustment: float) -> float:
        """The points of the chosen rubric items plus the adjustment, between 0 and the question's points."""
        total = sum(item.points for item in self.rubric if item.id in items) + adjustment
        return round(min(max(total, 0.0), self.points), 6)


def load_questions(folder: Path) -> tuple[WrittenQuestion, ...]:
    """The written questions of the assignment in ``folder`` (none when it has no written.toml)."""
    path = folder / WRITTEN_FILE
    if not path.is_file():
        return ()
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise WrittenError(f"{path} is not valid TOML: {error}") from None
    questions = []
    for number, entry in enumerate(config.get("question", []), start=1):
        where = f"{path}, question {number}"
        question_id = entry.get("id")
        if not (isinstance(question_id, str) and _ID.match(question_id)):
            raise WrittenError(f"{where}: id must be letters, digits, - or _ (at most 64), e.g. id = \"many-minima\".")
        points = entry.get("points")
        if not isinstance(points, int | float) or points <= 0:
            raise WrittenError(f"{where} ({question_id}): points must be a positive number.")
        rubric = []
        for index, item in enumerate(entry.get("rubric", []), start=1):
            if not isinstance(item.get("points"), int | float) or not isinstance(item.get("text"), str):
                raise WrittenError(f"{where} ({question_id}): rubric item {index} needs points = NUMBER and "
                                   "text = \"what earns them\".")
            rubric.append(RubricItem(str(item.get("id", index)), float(item["points"]), item["text"]))
        if not rubric:
            raise WrittenError(f"{where} ({question_id}): give at least one [[question.rubric]] item.")
        if len({item.id for item in rubric}) != len(rubric):
            raise WrittenError(f"{where} ({question_id}): rubric item ids must differ.")
        questions.append(WrittenQuestion(question_id, str(entry.get("title", question_id)), float(points),
                                         tuple(rubric), number))
    if len({question.id for question in questions}) != len(questions):
        raise WrittenError(f"{path}: two questions have the same id.")
    return tuple(questions)


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # as the student wrote it, cut to MAX_ANSWER_CHARS; escape it wherever it is shown
    found: bool = True  # False: the notebook has no answer cell for the question
    truncated: int = 0  # characters cut off

    @property
    def digest(self) -> str:
        return answer_digest(self.text)

    @property
    def blank(self) -> bool:
        return not self.text.strip() or self.text.strip() == PLACEHOLDER


def answer_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _marks(cell: Any) -> dict[str, Any]:
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    marks = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    return marks if isinstance(marks, dict) else {}


def is_written_cell(cell: Any) -> bool:
    """Whether ``cell`` is a written question's prompt or answer (people grade it; no test enforces it)."""
    marks = _marks(cell)
    return QUESTION_MARK in marks or ANSWER_MARK in marks


def _source(cell: Any) -> str:
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def _is_heading(text: str) -> bool:
    return text.lstrip().startswith("#")


def answers_in_document(document: dict[str, Any], questions: tuple[WrittenQuestion, ...]) -> dict[str, Answer]:
    """Each question's answer in a notebook's JSON: the cells marked as its answer, else the Markdown
    cells after its prompt (marked, or headed ``## Written question N``) up to the next heading or code cell."""
    cells = document.get("cells") if isinstance(document.get("cells"), list) else []
    answers = {}
    for question in questions:
        marked = [_source(cell) for cell in cells if _marks(cell).get(ANSWER_MARK) == question.id]
        if not marked:
            marked = _after_prompt(cells, question)
        if marked is None:
            answers[question.id] = Answer(question.id, "", found=False)
            continue
        text, cut = _joined_within_budget(marked)
        answers[question.id] = Answer(question.id, text, truncated=cut)
    return answers


def _joined_within_budget(parts: list[str]) -> tuple[str, int]:
    """The parts joined by blank lines, cut to MAX_ANSWER_CHARS, and how many characters were cut.
    Never builds more than the budget: a notebook may hold thousands of marked cells."""
    kept: list[str] = []
    size = cut = 0
    for part in parts:
        piece = ("\n\n" if kept else "") + part.strip("\n")
        room = MAX_ANSWER_CHARS - size
        if room > 0:
            kept.append(piece[:room])
            size += min(len(piece), room)
        cut += max(0, len(piece) - max(room, 0))
    return "".join(kept), cut


def _after_prompt(cells: list[Any], question: WrittenQuestion) -> list[str] | None:
    heading = f"{HEADING_PREFIX} {question.number}:".lower()
    for index, cell in enumerate(cells):
        source = _source(cell)
        if _marks(cell).get(QUESTION_MARK) == question.id or source.lstrip().lower().startswith(heading):
            found = []
            for after in cells[index + 1:]:
                text = _source(after)
                if not isinstance(after, dict) or after.get("cell_type") != "markdown" or _is_heading(text) \
                        or _marks(after):
                    break
                found.append(text)
            return found or None  # a prompt with nothing after it: the answer cell is gone
    return None


def extract_answers(path: Path, questions: tuple[WrittenQuestion, ...]) -> dict[str, Answer]:
    """The answers in the notebook at ``path``; a file that is not a readable notebook has none."""
    try:
        document = read_notebook_json(path)
    except NotebookError:
        return {question.id: Answer(question.id, "", found=False) for question in questions}
    return answers_in_document(document, questions)


@dataclass(frozen=True)
class WrittenGrade:
    """A person's grade of one answer, as stored in the gradebook."""
    question: str
    items: tuple[str, ...]
    adjustment: float
    comment: str
    score: float
    graded_at: str
    answer_digest: str  # the answer it was given for: a changed answer needs grading again
    grader: str = ""


@dataclass
class WrittenStatus:
    question: WrittenQuestion
    answer: Answer | None
    grade: WrittenGrade | None

    @property
    def pending(self) -> bool:
        """Not graded, or graded for an answer the student has since changed."""
        if self.grade is None:
            return True
        return self.answer is not None and self.grade.answer_digest != self.answer.digest

    @property
    def score(self) -> float:
        return 0.0 if self.pending or self.grade is None else self.grade.score


def grade_from_form(question: WrittenQuestion, data: dict[str, Any], answer: Answer | None,
                    graded_at: str, grader: str = "") -> WrittenGrade:
    """A grade from the grading view's request, checked: known rubric items, a finite bounded adjustment,
    a comment within :data:`MAX_COMMENT_CHARS`. Raises ValueError with a sentence saying what is wrong."""
    items = data.get("items", [])
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValueError("items must be a list of rubric item ids.")
    unknown = [item for item in items if question.item(item) is None]
    if unknown:
        raise ValueError(f"Question {question.id} has no rubric item {', '.join(unknown)}.")
    adjustment = data.get("adjustment", 0)
    if isinstance(adjustment, bool) or not isinstance(adjustment, int | float) \
            or not abs(adjustment) <= MAX_ADJUSTMENT:
        raise ValueError(f"The adjustment must be a number between -{MAX_ADJUSTMENT:g} and {MAX_ADJUSTMENT:g}.")
    comment = data.get("comment", "")
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT_CHARS:
        raise ValueError(f"The comment must be text of at most {MAX_COMMENT_CHARS:,} characters.")
    chosen = tuple(item.id for item in question.rubric if item.id in items)  # rubric order, no repeats
    return WrittenGrade(question.id, chosen, float(adjustment), comment, question.score(chosen, float(adjustment)),
                        graded_at, answer.digest if answer is not None else answer_digest(""), grader)


def explain(status: WrittenStatus) -> str:
    """What the student reads about one written answer: pending, or the rubric items applied and the comment."""
    question = status.question
    if status.pending:
        changed = " (your answer changed after it was graded)" if status.grade is not None else ""
        return (f"Pending{changed}: your instructor grades this answer by hand against a rubric; its "
                f"{question.points:g} points are not counted yet.")
    grade = status.grade
    assert grade is not None
    lines = [f"Graded by hand: {grade.score:g} / {question.points:g}."]
    for item in question.rubric:
        if item.id in grade.items:
            lines.append(f"  [{item.points:+g}] {item.text}")
    if grade.adjustment:
        lines.append(f"  [{grade.adjustment:+g}] adjustment")
    if grade.comment.strip():
        lines += ["", "Comment: " + grade.comment.strip()]
    return "\n".join(lines)


def with_written(result: SubmissionResult, statuses: list[WrittenStatus]) -> SubmissionResult:
    """``result`` with one test per written question: its score when graded, ``pending`` otherwise."""
    if not statuses:
        return result
    tests = [test for test in result.tests if not test.function.startswith(FUNCTION_PREFIX)]
    for status in statuses:
        question = status.question
        tests.append(TestResult(
            name=f"{question.function}: Written question {question.number}: {question.title}",
            function=question.function, score=status.score, max_score=question.points,
            passed=not status.pending and status.score >= question.points, output=explain(status),
            visibility="visible", pending=status.pending))
    return replace(result, tests=tests)


@dataclass
class QuestionCells:
    """Where a question's cells are in the student notebook, and the prompt's text (for the grading view)."""
    prompt: str = ""
    has_prompt: bool = False
    has_answer: bool = False
    issues: list[str] = field(default_factory=list)


def notebook_cells(notebook: Path, questions: tuple[WrittenQuestion, ...]) -> dict[str, QuestionCells]:
    """Each question's prompt and answer cells in the (student) notebook, with what is missing."""
    document = json.loads(notebook.read_text(encoding="utf-8"))
    found = {question.id: QuestionCells() for question in questions}
    for cell in document.get("cells", []):
        marks = _marks(cell)
        if marks.get(QUESTION_MARK) in found:
            entry = found[marks[QUESTION_MARK]]
            entry.prompt, entry.has_prompt = _source(cell), True
        if marks.get(ANSWER_MARK) in found:
            found[marks[ANSWER_MARK]].has_answer = True
    for question in questions:
        entry = found[question.id]
        heading = f"{HEADING_PREFIX} {question.number}: {question.title}"
        if not entry.has_prompt:
            entry.issues.append(f"no Markdown cell marked {{\"{METADATA_KEY}\": {{\"{QUESTION_MARK}\": "
                                f"\"{question.id}\"}}}} (the prompt)")
        elif not entry.prompt.lstrip().startswith(heading):
            entry.issues.append(f"its prompt cell does not start with the heading {heading!r}")
        if not entry.has_answer:
            entry.issues.append(f"no Markdown cell marked {{\"{METADATA_KEY}\": {{\"{ANSWER_MARK}\": "
                                f"\"{question.id}\"}}}} (the answer)")
    return found
