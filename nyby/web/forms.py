"""Web forms on the API's own marshmallow schemas: one set of rules for both.

A browser sends every field as text, and ``datetime-local`` inputs carry no zone, so
``read_form`` turns the form into what the schema expects (numbers as numbers, times
in the tenant's zone, empty fields left out) before the schema validates it. Errors
come back per field, in the person's language, with what they typed kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask_babel import lazy_gettext
from werkzeug.datastructures import MultiDict

from nyby.core.errors import DomainError

# marshmallow's own messages, in words a volunteer reads easily, translated.
MESSAGES = {
    "Missing data for required field.": lazy_gettext("Please fill this in."),
    "Not a valid integer.": lazy_gettext("Enter a whole number."),
    "Not a valid number.": lazy_gettext("Enter a number."),
    "Not a valid datetime.": lazy_gettext("Enter a date and time."),
    "Not a valid UUID.": lazy_gettext("Choose one from the list."),
    "Not a valid boolean.": lazy_gettext("Choose yes or no."),
    "Must be after earliest_start.": lazy_gettext("Must be after the earliest start."),
    "Give latitude and longitude together.": lazy_gettext(
        "Give the place as latitude and longitude, or pick it on the map."
    ),
    # The services' own refusals that name a field.
    "Required when pausing or ending support.": lazy_gettext(
        "Say why, when support is paused or ended."
    ),
}
_RANGE = re.compile(r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.")
_LONGEST = re.compile(r"Longer than maximum length (\d+)\.")


def translate(message: str) -> str:
    if message in MESSAGES:
        return str(MESSAGES[message])
    if found := _RANGE.fullmatch(message):
        return str(lazy_gettext("Between %(low)s and %(high)s.", low=found[1], high=found[2]))
    if found := _LONGEST.fullmatch(message):
        return str(lazy_gettext("At most %(count)s characters.", count=found[1]))
    if message.startswith("Shorter than minimum length"):
        return str(MESSAGES["Missing data for required field."])
    return message


@dataclass
class Form:
    """What was typed (to show it again) and what is wrong with it, per field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def value(self, name: str, default: Any = "") -> Any:
        return self.values.get(name, default)

    def refuse(self, error: DomainError | ma.ValidationError, fallback: str = "form") -> None:
        """Put a service's or a schema's refusal next to the fields it names."""
        if isinstance(error, ma.ValidationError):
            messages = error.normalized_messages()
        else:
            messages = error.errors or {fallback: [error.detail or error.title]}
        for name, found in messages.items():
            if isinstance(found, dict):  # a nested field: show its messages on the parent
                found = [m for ms in found.values() for m in (ms if isinstance(ms, list) else [ms])]
            if not isinstance(found, list):
                found = [str(found)]
            self.errors.setdefault(name, []).extend(translate(str(m)) for m in found)


def read_form(schema: ma.Schema, form: MultiDict[str, str], timezone: str) -> tuple[Any, Form]:
    """What the schema loads (None when anything is wrong) and the Form to show."""
    shown = Form(values={name: form.get(name, "") for name in form})
    raw: dict[str, Any] = {}
    for name, declared in schema.fields.items():
        if declared.dump_only:
            continue
        key = declared.data_key or name
        if isinstance(declared, ma.fields.Boolean):
            raw[key] = key in form
            continue
        text = form.get(key, "").strip()
        if text:
            raw[key] = _typed(declared, text, timezone)
    try:
        return schema.load(raw), shown
    except ma.ValidationError as error:
        shown.refuse(error)
        return None, shown


def _typed(declared: ma.fields.Field, text: str, timezone: str) -> Any:
    try:
        if isinstance(declared, ma.fields.Integer):
            return int(text)
        if isinstance(declared, ma.fields.Float):
            return float(text.replace(",", "."))  # a Norwegian keyboard's decimal comma
    except ValueError:
        return text  # the schema says what is wrong with it
    if isinstance(declared, ma.fields.DateTime):
        return local_to_iso(text, timezone)
    return text


def local_to_iso(text: str, timezone: str) -> str:
    """A ``datetime-local`` value, read in the tenant's zone, as ISO 8601 with offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.isoformat()


def local_input(moment: datetime | None, timezone: str) -> str:
    """The other way: a stored time as a ``datetime-local`` input shows it."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%dT%H:%M")
