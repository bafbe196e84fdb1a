"""Every page string has a Norwegian translation, and the compiled catalogue is current."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "nyby" / "translations" / "nb" / "LC_MESSAGES"


def _source_messages() -> set[str]:
    methods = [("nyby/**.py", "python"), ("nyby/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=methods, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_string_is_translated_to_norwegian() -> None:
    with open(CATALOGUE / "messages.po", "rb") as f:
        catalogue = read_po(f)
    translated = {m.id: m.string for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = _source_messages() - set(translated)
    assert not missing, f"add these to messages.po (pybabel extract/update): {sorted(missing)}"


def test_compiled_catalogue_matches_the_po_file() -> None:
    with open(CATALOGUE / "messages.po", "rb") as f:
        expected = {m.id: m.string for m in read_po(f) if m.id}
    with open(CATALOGUE / "messages.mo", "rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    assert compiled == expected, "run: pybabel compile -d nyby/translations"
