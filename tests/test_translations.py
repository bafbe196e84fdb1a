"""Every page string has a Norwegian translation, and the compiled catalogue is current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "nyby" / "translations" / "nb" / "LC_MESSAGES"


def _source_messages() -> set[str]:
    methods = [("nyby/**.py", "python"), ("nyby/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=methods, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _done(message: Message) -> bool:
    """Translated, not fuzzy, and with every plural form filled in."""
    forms = message.string if isinstance(message.string, tuple) else (message.string,)
    return bool(message.id) and not message.fuzzy and all(forms)


def test_every_string_is_translated_to_norwegian() -> None:
    with open(CATALOGUE / "messages.po", "rb") as f:
        catalogue = read_po(f)
    translated = {(m.id[0] if isinstance(m.id, tuple) else m.id) for m in catalogue if _done(m)}
    missing = _source_messages() - translated
    assert not missing, f"add these to messages.po (pybabel extract/update): {sorted(missing)}"


def test_compiled_catalogue_matches_the_po_file() -> None:
    def same(value: Any) -> Any:
        # Plural entries come as tuples from a .po file and as lists from a .mo file.
        return tuple(value) if isinstance(value, (list, tuple)) else value

    def entries(messages: Any) -> dict[Any, Any]:
        return {same(m.id): same(m.string) for m in messages if m.id}

    with open(CATALOGUE / "messages.po", "rb") as f:
        expected = entries(read_po(f))
    with open(CATALOGUE / "messages.mo", "rb") as f:
        compiled = entries(read_mo(f))
    assert compiled == expected, "run: pybabel compile -d nyby/translations"
