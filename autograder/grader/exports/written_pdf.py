"""PDFs of the written answers for Gradescope's manual grading: one per submission, questions in order.

Gradescope grades uploaded PDFs by page: the instructor marks where each question is on a template,
then every submission's pages are graded question by question. So, as otter-grader does with its
exported notebooks, every question starts on a new page: page 1 is question 1, and so on, as long as
each answer fits on its page (a longer one runs onto further pages, and the index says so).
``template.pdf`` has the same layout with the prompts in place of answers, for marking the regions.

Answers are the student's text, drawn as plain text (never interpreted as Markdown or markup), without
control characters, in DejaVu Sans (shipped with matplotlib) so that any script the font covers shows.
Written with fpdf2 (pure Python, no system libraries).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from autograder.grader.assignment import Assignment
from autograder.grader.escaping import csv_cell, printable
from autograder.grader.gradebook import Gradebook
from autograder.grader.output_paths import submission_path
from autograder.grader.written_answers.questions import Answer, WrittenQuestion, notebook_cells

INDEX = "index.csv"
TEMPLATE = "template.pdf"


class PdfExportError(Exception):
    """The PDFs cannot be written; the message says what to do."""


@dataclass(frozen=True)
class WrittenPdf:
    submission: str
    path: Path
    pages: int
    overflowing: tuple[str, ...]  # questions whose answer took more than one page


def _font_file() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def _plain(text: str) -> str:
    """Text a PDF can carry: no control characters, no lone surrogates (a notebook's JSON may hold them)."""
    return printable(text).encode("utf-8", "replace").decode("utf-8").replace("\t", "    ")


def _document(title: str):
    try:
        from fpdf import FPDF
    except ImportError:
        raise PdfExportError("The PDF export needs fpdf2, which only instructors install: "
                             "pip install 'gd-autograder[instructor]'.") from None
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(title)
    pdf.set_creator("gd-autograder")
    pdf.add_font("DejaVu", fname=str(_font_file()))
    return pdf


def _question_page(pdf, header: str, question: WrittenQuestion, body: str, note: str = "") -> None:
    pdf.add_page()
    pdf.set_font("DejaVu", size=8)
    pdf.multi_cell(0, 4, _plain(header), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("DejaVu", size=13)
    plural = "" if question.points == 1 else "s"
    pdf.multi_cell(0, 7, f"Written question {question.number}: {_plain(question.title)} "
                         f"({question.points:g} point{plural})", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", size=10.5)
    pdf.multi_cell(0, 5.5, body, new_x="LMARGIN", new_y="NEXT")
    if note:
        pdf.ln(2)
        pdf.set_font("DejaVu", size=8)
        pdf.multi_cell(0, 4, note, new_x="LMARGIN", new_y="NEXT")


def answer_pdf(assignment: Assignment, submission: str, answers: dict[str, Answer], path: Path) -> WrittenPdf:
    """One submission's PDF: each written question on a page of its own, in order."""
    pdf = _document(f"{assignment.title}: written answers of {_plain(submission)}")
    overflowing = []
    for question in assignment.written:
        answer = answers.get(question.id)
        if answer is None or not answer.found:
            body, note = "(no answer: the notebook has no answer cell for this question)", ""
        elif answer.blank:
            body, note = "(left blank)", ""
        else:
            body = _plain(answer.text)
            note = f"({answer.truncated:,} more characters were cut.)" if answer.truncated else ""
        first = pdf.page_no() + 1
        _question_page(pdf, f"{assignment.title} - {submission}", question, body, note)
        if pdf.page_no() > first:
            overflowing.append(question.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    pdf.output(str(temporary))
    os.replace(temporary, path)
    return WrittenPdf(submission, path, pdf.page_no(), tuple(overflowing))


def template_pdf(assignment: Assignment, path: Path) -> None:
    """The layout of every answer PDF with the questions' prompts, for marking regions on Gradescope."""
    pdf = _document(f"{assignment.title}: written questions")
    prompts = {}
    if assignment.student_notebook.is_file():
        prompts = {key: cells.prompt for key, cells in notebook_cells(assignment.student_notebook,
                                                                      assignment.written).items()}
    for question in assignment.written:
        prompt = prompts.get(question.id, "").split("\n", 1)[-1].strip()
        _question_page(pdf, f"{assignment.title} - template", question, _plain(prompt or question.title))
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))


def write_answer_pdfs(gradebook: Gradebook, assignment: Assignment, destination: Path) -> list[WrittenPdf]:
    """A PDF per graded submission under ``destination`` (``<id>.pdf``), ``template.pdf`` and
    ``index.csv`` (file, submission, pages, questions whose answer ran over a page)."""
    if not assignment.written:
        raise PdfExportError(f"{assignment.slug} has no written questions (no written.toml in {assignment.folder}).")
    by_question = {question.id: gradebook.answers(assignment.slug, question.id) for question in assignment.written}
    submissions = sorted({result.submission for result in gradebook.results(assignment.slug)}
                         | {submission for answers in by_question.values() for submission in answers})
    written = []
    for submission in submissions:
        answers = {question: found[submission] for question, found in by_question.items() if submission in found}
        written.append(answer_pdf(assignment, submission, answers, submission_path(destination, submission, ".pdf")))
    template_pdf(assignment, destination / TEMPLATE)
    with open(destination / INDEX, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "submission", "pages", "longer_than_a_page"])
        for item in written:
            writer.writerow([csv_cell(item.path.relative_to(destination).as_posix()), csv_cell(item.submission),
                             item.pages, " ".join(item.overflowing)])
    return written
