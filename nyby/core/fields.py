"""Marshmallow fields shared by the domains' load schemas."""

from __future__ import annotations

from typing import Any

import marshmallow as ma


class Flag(ma.fields.Boolean):
    """A JSON true or false, nothing else: marshmallow's Boolean also takes 0, 1, "yes"
    and "off", which a client sending the wrong thing should hear about."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value
