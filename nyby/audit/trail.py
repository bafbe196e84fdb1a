"""The audit trail's one mechanism: every model that says ``__audited__ = True`` is
audited, with no registration anywhere else.

- **Changes through the unit of work** (add, set an attribute, delete, then flush): an
  ``after_flush`` hook reads what SQLAlchemy's attribute history already holds (the
  values before and after; the ids the flush just assigned) and writes one row per
  object in a single multi-row INSERT on the flush's own connection. No SELECT: a value
  that was never loaded is recorded as unknown (null) rather than fetched.
- **Conditional bulk statements** (``session.execute(update(Task).where(...))``, the
  way a task is taken so that exactly one of many wins): a ``do_orm_execute`` hook adds
  ``RETURNING`` of the audited columns to the statement, so the rows it really changed
  come back with their new values in the same round trip; the values before come from
  the session's identity map (the object the service loaded), else are unknown.
- **Reads of a client record**: ``record_read`` where the record is resolved for
  someone to see (``clients.access.get_client_or_404``, a task's client details for the
  person holding it), once per request and object.

Either way the audit rows are written in the transaction of the change itself: a change
that rolls back leaves no audit row, and a change never commits without one.

What a model can say: ``__audited__ = True``; ``__audit_name__`` (the object type, else
the class name in snake case); ``__audit_ignore__`` (attributes never recorded, such as
a visit counter); ``__audit_withheld__`` (attributes whose changes are recorded but
never their words, such as a safeguarding concern's description, which only the leads
may read: the trail says it was set or changed, and shows ``WITHHELD`` for the value);
``__audit_tenant__`` (the attribute holding the tenant, for the tenant row itself).
Columns whose name contains password, token, secret or hash are never recorded,
whatever the model says.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from itertools import groupby
from typing import Any, cast

from flask import g, has_request_context
from sqlalchemy import Table, event, insert, inspect
from sqlalchemy.engine import Result
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

from nyby.audit.models import AuditEntry
from nyby.core.db import db, new_id, set_keys, utcnow
from nyby.core.origin import current_job, current_request_id
from nyby.tenancy.context import current_tenant_id, writing_for

SECRET_PARTS = ("password", "token", "secret", "hash")
# What the trail shows for a value of a withheld attribute (``__audit_withheld__``).
WITHHELD = "(withheld)"
# Said by every row already (the tenant, the object's id, the time) or bookkeeping.
NOT_CHANGES = frozenset({"tenant_id", "id", "version_id", "created_at", "updated_at"})


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    READ = "read"


@dataclass(frozen=True)
class Kind:
    """How one audited model is recorded (worked out once per class)."""

    name: str
    tenant_key: str
    primary_key: tuple[str, ...]  # every primary-key attribute, in the identity's order
    object_key: tuple[str, ...]  # the primary key without the tenant
    fields: tuple[str, ...]  # the attributes whose values are recorded
    withheld: frozenset[str] = frozenset()  # of those, the ones recorded without their value

    def shown(self, key: str, value: Any) -> Any:
        """``value`` (already plain) as the trail keeps it: a withheld one masked."""
        if key in self.withheld and value not in (None, ""):
            return WITHHELD
        return value


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_kinds: dict[type, Kind | None] = {}


def kind_of(cls: type) -> Kind | None:
    """How ``cls`` is audited (None: it is not); worked out on first use, then cached."""
    try:
        return _kinds[cls]
    except KeyError:
        _kinds[cls] = kind = _work_out(cls)
        return kind


def _work_out(cls: type) -> Kind | None:
    if not getattr(cls, "__audited__", False):
        return None
    mapper: Mapper[Any] = inspect(cls)
    tenant_key = getattr(cls, "__audit_tenant__", "tenant_id")
    ignored = set(getattr(cls, "__audit_ignore__", ()))
    primary_key = tuple(mapper.get_property_by_column(c).key for c in mapper.primary_key)
    fields = tuple(
        prop.key
        for prop in mapper.column_attrs
        if prop.key not in NOT_CHANGES
        and prop.key not in ignored
        and not any(part in prop.key.lower() for part in SECRET_PARTS)
    )
    return Kind(
        name=getattr(cls, "__audit_name__", None) or _snake(cls.__name__),
        tenant_key=tenant_key,
        primary_key=primary_key,
        object_key=tuple(k for k in primary_key if k != tenant_key) or (tenant_key,),
        fields=fields,
        withheld=frozenset(getattr(cls, "__audit_withheld__", ())),
    )


def audited_kinds() -> list[str]:
    """The object types the trail can hold, for the admins' filter."""
    from nyby.core.db import Base

    names = {k.name for m in Base.registry.mappers if (k := kind_of(m.class_)) is not None}
    return sorted(names)


def plain(value: Any) -> Any:
    """A value as JSON can keep it."""
    if value is None or (
        isinstance(value, bool | int | float | str) and not isinstance(value, enum.Enum)
    ):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


# -- who and where from ----------------------------------------------------------------


def _loaded_id(obj: Any) -> Any:
    """An object's ``id`` without ever loading it (no SQL inside a flush)."""
    state = inspect(obj)
    if "id" in state.dict:
        return state.dict["id"]
    return state.identity[-1] if state.identity else None


def _origin(tenant_id: uuid.UUID) -> dict[str, Any]:
    membership = account = None
    if has_request_context():
        actor = g.get("actor")
        if actor is not None:
            account = _loaded_id(actor.account)
            # Acting from another tenant (the passport's copies): the account says who.
            if _loaded_id(actor.tenant) == tenant_id:
                membership = _loaded_id(actor.membership)
        elif g.get("account") is not None:
            account = _loaded_id(g.account)
    return {
        "actor_membership_id": membership,
        "actor_account_id": account,
        "request_id": current_request_id(),
        "job": current_job(),
    }


def _entry(kind: Kind, values: dict[str, Any], action: str, changes: dict[str, Any]) -> dict:
    tenant_id = values[kind.tenant_key]
    return {
        "tenant_id": tenant_id,
        "id": new_id(),
        "at": utcnow(),
        "action": action,
        "object_type": kind.name,
        "object_id": "/".join(str(values.get(k)) for k in kind.object_key),
        "changes": changes,
        **_origin(tenant_id),
    }


def _insert(session: Session, entries: list[dict[str, Any]]) -> None:
    """One multi-row INSERT on the transaction's own connection (per tenant: only the
    tenant row itself can be changed outside its tenant's scope)."""
    if not entries:
        return
    connection = session.connection()
    table = cast(Table, AuditEntry.__table__)
    current = current_tenant_id()
    entries.sort(key=lambda e: e["tenant_id"] != current)
    for tenant_id, group in groupby(entries, key=lambda e: e["tenant_id"]):
        rows = list(group)
        if tenant_id == current:
            connection.execute(insert(table), rows)
        else:
            with writing_for(tenant_id, connection):
                connection.execute(insert(table), rows)


# -- changes through the unit of work --------------------------------------------------


def _values(state: Any, kind: Kind) -> dict[str, Any]:
    values = {k: state.dict.get(k) for k in kind.primary_key}
    if state.identity:
        for key, value in zip(kind.primary_key, state.identity, strict=False):
            if values[key] is None:
                values[key] = value
    return values


@event.listens_for(Session, "after_flush")
def _record_flush(session: Session, flush_context: Any) -> None:
    entries = []
    for obj in session.new:
        kind = kind_of(type(obj))
        if kind is None:
            continue
        state = inspect(obj)
        created = {
            k: [None, kind.shown(k, plain(state.dict[k]))]
            for k in kind.fields
            if state.dict.get(k) is not None
        }
        entries.append(_entry(kind, _values(state, kind), Action.CREATE, created))
    for obj in session.dirty:
        kind = kind_of(type(obj))
        if kind is None:
            continue
        state = inspect(obj)
        changed = {}
        for key in kind.fields:
            if key not in state.committed_state:
                continue
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            before = plain(history.deleted[0]) if history.deleted else None
            after = plain(history.added[0]) if history.added else None
            if before != after:
                changed[key] = [kind.shown(key, before), kind.shown(key, after)]
        if changed:
            entries.append(_entry(kind, _values(state, kind), Action.UPDATE, changed))
    for obj in session.deleted:
        kind = kind_of(type(obj))
        if kind is None:
            continue
        state = inspect(obj)
        gone = {
            k: [kind.shown(k, plain(state.dict[k])), None]
            for k in kind.fields
            if state.dict.get(k) is not None
        }
        entries.append(_entry(kind, _values(state, kind), Action.DELETE, gone))
    _insert(session, entries)


# -- conditional bulk statements -------------------------------------------------------


@event.listens_for(Session, "do_orm_execute")
def _record_bulk(state: ORMExecuteState) -> Result[Any] | None:
    if not (state.is_update or state.is_delete):
        return None
    mapper = state.bind_mapper
    kind = kind_of(mapper.class_) if mapper is not None else None
    if kind is None:
        return None
    cls = mapper.class_  # type: ignore[union-attr]
    statement = state.statement
    if state.is_update and not set(set_keys(statement)) & set(kind.fields):
        return None  # it sets only what is never recorded (Membership.waiting_since)
    keys = list(dict.fromkeys((*kind.primary_key, *kind.fields)))
    theirs = len(getattr(statement, "_returning", ()) or ())
    before: dict[tuple[Any, ...], dict[str, Any]] = {}
    if state.is_update:
        # The identity map's objects as they are now: the ORM may bring them up to
        # date while the statement runs.
        for held in state.session.identity_map.all_states():
            if held.key is not None and issubclass(held.class_, cls):
                before[tuple(held.key[1])] = dict(held.dict)
    result = state.invoke_statement(
        statement=statement.returning(*(getattr(cls, k) for k in keys))  # type: ignore[attr-defined]
    )
    frozen = result.freeze()
    rows = frozen().all()
    entries = []
    for row in rows:
        values = dict(zip(keys, tuple(row)[theirs:], strict=True))
        if state.is_delete:
            gone = {
                k: [kind.shown(k, plain(values[k])), None]
                for k in kind.fields
                if values[k] is not None
            }
            entries.append(_entry(kind, values, Action.DELETE, gone))
            continue
        known = before.get(tuple(values[k] for k in kind.primary_key))
        if known is not None:
            changed = {
                k: [kind.shown(k, plain(known[k])), kind.shown(k, plain(values[k]))]
                for k in kind.fields
                if k in known and plain(known[k]) != plain(values[k])
            }
        else:  # not loaded by this request: the new values of what it set
            changed = {
                k: [None, kind.shown(k, plain(values[k]))]
                for k in set_keys(statement)
                if k in kind.fields
            }
        if changed:
            entries.append(_entry(kind, values, Action.UPDATE, changed))
    _insert(state.session, entries)
    # The caller gets what it asked for: its own RETURNING columns, and the rowcount
    # of the statement (which a result with RETURNING rows does not carry otherwise).
    answer = frozen().columns(*range(theirs)) if theirs else frozen()
    answer.rowcount = len(rows)  # type: ignore[attr-defined]
    return answer


# -- reads of client records -----------------------------------------------------------


def record_read(obj: Any) -> None:
    """Someone is shown this record: one audit row per request and object.

    Only in a request (a job reading a client shows it to nobody). The row joins the
    request's transaction, so it commits with the response.
    """
    kind = kind_of(type(obj))
    if kind is None or not has_request_context():
        return
    values = _values(inspect(obj), kind)
    entry = _entry(kind, values, Action.READ, {})
    seen: set[tuple[str, str]] = g.setdefault("_nyby_audit_reads", set())
    if (kind.name, entry["object_id"]) in seen:
        return
    seen.add((kind.name, entry["object_id"]))
    db.session.add(AuditEntry(**entry))
