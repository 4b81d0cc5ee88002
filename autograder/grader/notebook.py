"""Reading a submitted notebook into the code cells a worker runs (outputs are never sent on)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

MAX_NOTEBOOK_BYTES = 100 * 2**20
MAX_CODE_BYTES = 2 * 2**20


class NotebookError(Exception):
    """The file cannot be graded as a notebook; the message tells the student what to do."""


def read_code_cells(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> list[tuple[int, str]]:
    """Return ``(cell number, source)`` for each code cell, numbered from 1 over all cells."""
    text = _read_text(path, max_bytes)
    _parse_document(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # minor schema slips are common and do not matter here
            import nbformat  # here: importing it (and jsonschema) costs a one-notebook command 0.1 s

            notebook = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises many types for odd documents
        raise NotebookError(f"The notebook could not be read ({type(error).__name__}). Open it in Jupyter, "
                            "save it, and submit it again.") from None
    cells = [(number, _source(cell)) for number, cell in enumerate(notebook.get("cells", []), start=1)
             if isinstance(cell, dict) and cell.get("cell_type") == "code"]
    if not cells:
        raise NotebookError("The notebook has no code cells, so it defines none of the functions asked for.")
    if sum(len(source) for _, source in cells) > MAX_CODE_BYTES:
        raise NotebookError("The notebook's code cells hold more than 2 MB of code; remove pasted data "
                            "and generated code, then submit again.")
    return cells


def read_notebook_json(path: Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> dict:
    """The notebook's JSON document, read with the same limits and messages as grading (nothing is run)."""
    return _parse_document(_read_text(path, max_bytes))


def _read_text(path: Path, max_bytes: int) -> str:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise NotebookError(f"The file could not be read ({error.strerror}).") from None
    if size > max_bytes:
        raise NotebookError(f"The notebook is {size / 2**20:,.0f} MB, over the {max_bytes / 2**20:,.0f} MB "
                            "limit. Clear all outputs (Edit > Clear Outputs of All Cells), save, and submit again.")
    raw = path.read_bytes()
    if raw.startswith(b"PK\x03\x04"):
        raise NotebookError("The file is a zip archive, not a notebook. Submit the .ipynb file itself.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookError("The file is not UTF-8 text, so it is not a Jupyter notebook. Download it again "
                            "from Jupyter (File > Download) and submit that file.") from None
    if not text.strip():
        raise NotebookError("The file is empty. Save the notebook in Jupyter and submit it again.")
    return text


def _parse_document(text: str) -> dict:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        where = f" (line {error.lineno}, column {error.colno})" if isinstance(error, json.JSONDecodeError) else ""
        raise NotebookError(f"The file is not valid notebook JSON{where}; it may be damaged or not a notebook. "
                            "Open it in Jupyter, save it, and submit it again.") from None
    if not isinstance(document, dict) or not ("cells" in document or "worksheets" in document):
        raise NotebookError("The file is JSON but not a Jupyter notebook (it has no cells).")
    return document


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)
