"""CSV cells a spreadsheet will not run: text starting like a formula is neutralised."""
from __future__ import annotations

# A cell starting with one of these is read as a formula by Excel, LibreOffice or Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> str:
    """``value`` as CSV text; a leading formula character gets an apostrophe in front, so it stays text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
