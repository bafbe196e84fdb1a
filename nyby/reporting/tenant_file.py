"""Success criteria in the tenant file: compared, planned and applied by key with the
rest of the file (``configuration.services._Sync`` calls ``sync_criteria``), and
exported in the file's shape.

A criterion the file leaves out is deleted with its history: a target the tenant no
longer holds itself to has nothing to report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from nyby.configuration.models import VolunteerRole
from nyby.reporting.models import SuccessCriterion

# What the file says about a criterion besides its key, as (file name, column name).
FIELDS = (
    ("name", "name"),
    ("metric", "metric"),
    ("comparison", "comparison"),
    ("target", "target"),
    ("period", "period"),
    ("area", "area_cell"),
    ("at_risk_margin", "at_risk_margin"),
)

Note = Callable[[Literal["+", "~", "-"], str | None, str], None]  # op, key, detail


def file_entry(criterion: SuccessCriterion, role_keys: Mapping[Any, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"key": criterion.key}
    for name, column in FIELDS:
        entry[name] = getattr(criterion, column)
    entry["role"] = role_keys.get(criterion.role_id) if criterion.role_id else None
    return entry


def export_criteria(session: Session) -> list[dict[str, Any]]:
    """The current tenant's criteria in the file's shape and order."""
    role_keys = dict(session.execute(select(VolunteerRole.id, VolunteerRole.key)).tuples().all())
    criteria = session.scalars(
        select(SuccessCriterion).order_by(SuccessCriterion.position, SuccessCriterion.key)
    ).all()
    return [_ordered(file_entry(c, role_keys)) for c in criteria]


def _ordered(entry: dict[str, Any]) -> dict[str, Any]:
    order = ("key", "name", "metric", "comparison", "target", "period", "role", "area")
    return {name: entry[name] for name in (*order, "at_risk_margin")}


def sync_criteria(
    session: Session,
    items: list[dict[str, Any]],
    roles: Mapping[str, VolunteerRole],
    *,
    write: bool,
    is_new: bool,
    note: Note,
    show: Callable[[Any], str],
) -> None:
    """Match the tenant's criteria to the file's (``roles``: every role by key, with ids
    once written). Only differences are written, so a second apply writes nothing."""
    current: dict[str, SuccessCriterion] = {}
    if not (is_new and not write):
        current = {row.key: row for row in session.scalars(select(SuccessCriterion))}
    role_keys = {role.id: key for key, role in roles.items()}
    for position, item in enumerate(items):
        key = item["key"]
        role = roles.get(item["role"]) if item["role"] else None
        criterion = current.get(key)
        if criterion is None:
            note("+", key, "")
            if write:
                session.add(
                    SuccessCriterion(
                        key=key,
                        position=position,
                        role_id=role.id if role else None,
                        **{column: item[name] for name, column in FIELDS},
                    )
                )
            continue
        old = file_entry(criterion, role_keys)
        for name, column in (*FIELDS, ("role", "role_id")):
            if old[name] != item[name]:
                note("~", key, f"{name} {show(old[name])} -> {show(item[name])}")
                if write:
                    value = (role.id if role else None) if name == "role" else item[name]
                    setattr(criterion, column, value)
        if criterion.position != position:
            note("~", key, f"position {criterion.position} -> {position}")
            if write:
                criterion.position = position
    in_file = {item["key"] for item in items}
    for key, criterion in current.items():
        if key not in in_file:
            note("-", key, "")
            if write:
                session.delete(criterion)
    if write:
        session.flush()
