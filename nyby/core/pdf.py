"""One-page PDFs (fpdf2's core fonts): the board's evaluation, a volunteer's record."""

from __future__ import annotations

# Typographic quotes, dashes and the ellipsis, written plainly.
PLAIN = str.maketrans(
    {
        "\u201c": '"',
        "\u201d": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)


def latin1(text: str) -> str:
    """The PDF's core fonts are Latin-1 (æ, ø, å included); typographic quotes and
    dashes are written plainly, anything else as '?'."""
    plain = text.translate(PLAIN)
    return plain.encode("latin-1", "replace").decode("latin-1")
