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
    "Must be after since.": lazy_gettext("Must be after the start of the period."),
    "Not a kind of object the audit trail records.": lazy_gettext("Choose one from the list."),
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
    # Every value of a name that has several (ticked boxes).
    lists: dict[str, list[str]] = field(default_factory=dict)

    def value(self, name: str, default: Any = "") -> Any:
        return self.values.get(name, default)

    def chosen(self, name: str) -> list[str]:
        return self.lists.get(name, [])

    def refuse(self, error: DomainError | ma.ValidationError, fallback: str = "form") -> None:
        """Put a service's or a schema's refusal next to the fields it names."""
        if isinstance(error, ma.ValidationError):
            messages = error.normalized_messages()
        else:
            messages = error.errors or {fallback: [error.detail or error.title]}
        for name, found in messages.items():
            self._put(str(name), found)

    def _put(self, name: str, found: Any) -> None:
        if isinstance(found, dict):
            for inner, messages in found.items():
                # A nested schema's fields have inputs of their own (``area.latitude``);
                # a list's items are shown on the list.
                nested = isinstance(inner, str) and inner != "_schema"
                self._put(f"{name}.{inner}" if nested else name, messages)
            return
        for message in found if isinstance(found, list) else [found]:
            if isinstance(message, dict | list):
                self._put(name, message)
            else:
                self.errors.setdefault(name, []).append(translate(str(message)))


def read_form(schema: ma.Schema, form: MultiDict[str, str], timezone: str) -> tuple[Any, Form]:
    """What the schema loads (None when anything is wrong) and the Form to show."""
    shown = Form(
        values={name: form.get(name, "") for name in form},
        lists={name: form.getlist(name) for name in form},
    )
    try:
        return schema.load(_raw(schema, form, timezone)), shown
    except ma.ValidationError as error:
        shown.refuse(error)
        return None, shown


def _raw(
    schema: ma.Schema, form: MultiDict[str, str], timezone: str, prefix: str = ""
) -> dict[str, Any]:
    """The form as the schema's input. A nested schema's fields are named ``outer.inner``
    on the page; a list is the inputs sharing its name (ticked boxes), each of which may
    also hold several comma-separated values (a text box)."""
    raw: dict[str, Any] = {}
    for name, declared in schema.fields.items():
        if declared.dump_only:
            continue
        key = declared.data_key or name
        named = prefix + key
        if isinstance(declared, ma.fields.Boolean):
            if not prefix or named in form:  # a nested box counts only when ticked
                raw[key] = named in form
            continue
        if isinstance(declared, ma.fields.Nested) and isinstance(declared.schema, ma.Schema):
            if not declared.many and (inner := _raw(declared.schema, form, timezone, named + ".")):
                raw[key] = inner
            continue
        if isinstance(declared, ma.fields.List):
            parts = [part.strip() for value in form.getlist(named) for part in value.split(",")]
            if items := [_typed(declared.inner, part, timezone) for part in parts if part]:
                raw[key] = items
            continue
        text = form.get(named, "").strip()
        if text:
            raw[key] = _typed(declared, text, timezone)
    return raw


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
