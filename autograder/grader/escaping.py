"""Student-controlled text made safe for where it is shown: terminals, Markdown, CSV.

Submission ids (file names), printed output, error messages and notes about skipped shell commands
all come from students. HTML pages escape with :func:`html.escape`; the rest goes through here:

* :func:`printable`: no terminal control sequences (ANSI colours, cursor moves, title changes, bells)
  and no other control characters but newlines and tabs; used for everything shown anywhere;
* :func:`markdown_text`: also no HTML and no Markdown syntax (a ``<script>`` or an image link in a
  note would run or load when the Markdown is rendered);
* :func:`csv_cell`: also no spreadsheet formula (a cell starting with ``=``, ``+``, ``-``, ``@`` is run
  by Excel and LibreOffice).
"""

from __future__ import annotations

import re

# CSI and OSC sequences as a whole (so their parameters do not remain), then any other C0/C1 control.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
                      r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks
                      r"|\x1b.?|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str) -> str:
    return _CONTROL.sub("", text)


def markdown_text(text: str) -> str:
    """Text that Markdown renders as exactly these characters, on one line."""
    safe = printable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", safe).replace("\n", " ")


def csv_cell(text: str) -> str:
    safe = printable(text)
    return "'" + safe if safe.startswith(_FORMULA_START) else safe
