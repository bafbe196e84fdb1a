"""CSV cells that a spreadsheet opens as text, never as a formula (shared by every export)."""

from __future__ import annotations

# A cell starting with one of these is run as a formula by Excel, LibreOffice and
# Google Sheets ("CSV injection"); a leading apostrophe makes them show it as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is kept as text."""
    return "'" + text if text[:1] in FORMULA_STARTS else text
