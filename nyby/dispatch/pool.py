"""The dispatch pool: who may be offered each role's push tasks, kept as the truth changes.

A ``PoolEntry`` per role and person who is, by the tables that decide it, an active
volunteer or staff member, on duty, and qualified for the active role as
``onboarding.qualification`` says (the approved role, or staff for a staff-only role,
and every check the role requires verified), with what matching reads of them: home
place and travel radius, how long they have waited, on duty until, qualified until
(the first of those checks to expire), and their quiet hours. Matching
(``dispatch.matching``) reads a role's people near a task, or the longest waiting, from
one index of it, rather than asking the role and checks of thousands of people near a
city task.

It is derived, never written by hand, in one place:

- ``refresh`` derives the entries of some people again from the truth (``_derive``).
  Every flush calls it (``_keep``) for the people whose duty, home, travel radius,
  flags, role assignments or check records it changed, and for everyone in a role
  whose required checks or staff-only flag it changed: the pool is right within the
  transaction that changed the truth, whoever changed it.
- A wave's offers move their people to the back of the queue here as on their
  membership (``offered``).
- ``rebuild`` derives a tenant's whole pool: for data written in bulk, around the ORM
  (a migration, the benchmarks' and the simulation's seeds).

Time passing needs nothing: ``on_duty_until`` and ``qualified_until`` are compared with
the moment a wave is sent. Matching trusts the pool for qualification
(``tests/test_qualification.py`` holds it to the rule); taking a task asks the rule again.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    delete,
    event,
    false,
    func,
    insert,
    inspect,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection, Result
from sqlalchemy.orm import ORMExecuteState, Session

from nyby.configuration.models import RoleCheckType, VolunteerRole
from nyby.core.db import db, set_keys
from nyby.dispatch.models import PoolEntry
from nyby.members.models import Membership
from nyby.onboarding.models import AssignmentStatus, CheckRecord, CheckStatus, RoleAssignment
from nyby.tenancy.context import current_tenant_id, writing_for

POOL: Table = PoolEntry.__table__  # type: ignore[assignment]
# A membership's columns the pool derives from: a change to any of them is derived again.
MEMBERSHIP_FIELDS = frozenset(
    {
        "on_duty",
        "on_duty_until",
        "is_active",
        "is_volunteer",
        "is_staff",
        "home_area_cell",
        "home_latitude",
        "home_longitude",
        "travel_radius_km",
        "quiet_hours_start",
        "quiet_hours_end",
    }
)
ROLE_FIELDS = frozenset({"is_active", "staff_only"})
COLUMNS = [
    "tenant_id",
    "role_id",
    "membership_id",
    "home_area_cell",
    "home_latitude",
    "home_longitude",
    "travel_radius_km",
    "waiting_since",
    "on_duty_until",
    "qualified_until",
    "quiet_hours_start",
    "quiet_hours_end",
]


def refresh(
    connection: Connection,
    tenant_id: uuid.UUID,
    members: Iterable[uuid.UUID] = (),
    roles: Iterable[uuid.UUID] = (),
) -> None:
    """Derive again the entries of these people (in every role), and of everyone in
    these roles, in one tenant."""
    members, roles = list(members), list(roles)
    if not members and not roles:
        return
    concerned = or_(
        POOL.c.membership_id.in_(members) if members else false(),
        POOL.c.role_id.in_(roles) if roles else false(),
    )
    of = or_(
        Membership.id.in_(members) if members else false(),
        VolunteerRole.id.in_(roles) if roles else false(),
    )
    _write(connection, tenant_id, concerned, of)


def rebuild(connection: Connection, tenant_id: uuid.UUID) -> None:
    """Derive a tenant's whole pool again (after writing people in bulk)."""
    _write(connection, tenant_id, true(), true())


def current(now: datetime) -> list[ColumnElement[bool]]:
    """The entries that hold at ``now``: still on duty, and no required check expired."""
    return [
        or_(PoolEntry.on_duty_until.is_(None), PoolEntry.on_duty_until > now),
        or_(PoolEntry.qualified_until.is_(None), PoolEntry.qualified_until > now),
    ]


def awake(local: time) -> ColumnElement[bool]:
    """Not in their quiet hours at the tenant's local wall-clock time ``local``:
    ``members.duty.in_quiet_hours`` in SQL (a window may cross midnight)."""
    start, end = PoolEntry.quiet_hours_start, PoolEntry.quiet_hours_end
    local = local.replace(tzinfo=None)
    return or_(
        start.is_(None),
        end.is_(None),
        start == end,
        and_(start < end, or_(start > local, end <= local)),
        and_(start > end, start > local, end <= local),
    )


def offered(member_ids: list[uuid.UUID], now: datetime) -> None:
    """They were offered a task now: the back of the queue, on their membership and here."""
    for table, key in ((Membership, Membership.id), (PoolEntry, PoolEntry.membership_id)):
        db.session.execute(
            update(table)
            .where(key.in_(member_ids))
            .values(waiting_since=now)
            .execution_options(synchronize_session=False)
        )


def _write(
    connection: Connection,
    tenant_id: uuid.UUID,
    concerned: ColumnElement[bool],
    of: ColumnElement[bool],
) -> None:
    def run() -> None:
        connection.execute(delete(POOL).where(POOL.c.tenant_id == tenant_id, concerned))
        for derived in _derive(tenant_id, of):
            connection.execute(insert(POOL).from_select(COLUMNS, derived))

    if tenant_id == current_tenant_id():
        run()
    else:
        with writing_for(tenant_id, connection):
            run()


def _derive(tenant_id: uuid.UUID, of: ColumnElement[bool]) -> list[Select[Any]]:
    """The entries the truth says, as two SELECTs (``COLUMNS``): people in the roles
    they were approved in; staff in the staff-only roles, which need no approval."""
    checks = and_(
        CheckRecord.tenant_id == tenant_id,
        CheckRecord.membership_id == Membership.id,
        CheckRecord.check_type_id == RoleCheckType.check_type_id,
        CheckRecord.status == CheckStatus.VERIFIED.value,
    )
    required = and_(RoleCheckType.tenant_id == tenant_id, RoleCheckType.role_id == VolunteerRole.id)
    # Every check the role requires verified (expired or not: ``qualified_until`` says).
    # Each subquery names the one table it reads: the rest are the person and the role
    # of the row outside (left to guess, the innermost would read every membership).
    none_missing = ~(
        select(RoleCheckType.check_type_id)
        .where(
            required, ~select(CheckRecord.id).where(checks).correlate_except(CheckRecord).exists()
        )
        .correlate_except(RoleCheckType)
        .exists()
    )
    qualified_until = (
        select(func.min(CheckRecord.expires_at))
        .join(RoleCheckType, and_(RoleCheckType.tenant_id == tenant_id, checks))
        .where(RoleCheckType.role_id == VolunteerRole.id)
        .scalar_subquery()
    )
    entry = select(
        Membership.tenant_id,
        VolunteerRole.id,
        Membership.id,
        Membership.home_area_cell,
        Membership.home_latitude,
        Membership.home_longitude,
        Membership.travel_radius_km,
        Membership.waiting_since,
        Membership.on_duty_until,
        qualified_until,
        Membership.quiet_hours_start,
        Membership.quiet_hours_end,
    )
    may = [
        Membership.tenant_id == tenant_id,
        Membership.on_duty.is_(True),
        Membership.is_active.is_(True),
        or_(Membership.is_volunteer.is_(True), Membership.is_staff.is_(True)),
        VolunteerRole.is_active.is_(True),
        none_missing,
        of,
    ]
    approved = (
        entry.select_from(RoleAssignment)
        .join(
            Membership,
            and_(
                Membership.tenant_id == RoleAssignment.tenant_id,
                Membership.id == RoleAssignment.membership_id,
            ),
        )
        .join(
            VolunteerRole,
            and_(
                VolunteerRole.tenant_id == RoleAssignment.tenant_id,
                VolunteerRole.id == RoleAssignment.role_id,
            ),
        )
        .where(
            RoleAssignment.tenant_id == tenant_id,
            RoleAssignment.status == AssignmentStatus.APPROVED.value,
            VolunteerRole.staff_only.is_(False),
            *may,
        )
    )
    staff = (
        entry.select_from(Membership)
        .join(VolunteerRole, VolunteerRole.tenant_id == Membership.tenant_id)
        .where(VolunteerRole.staff_only.is_(True), Membership.is_staff.is_(True), *may)
    )
    return [approved, staff]


# -- kept by every flush ----------------------------------------------------------------


# What the pool is derived from: per model, whom a change concerns ("members": the
# membership its column names; "roles": everyone in the role it names), and the fields
# that matter (None: any change).
SOURCES: dict[type, tuple[str, str, frozenset[str] | None]] = {
    Membership: ("members", "id", MEMBERSHIP_FIELDS),
    RoleAssignment: ("members", "membership_id", None),
    CheckRecord: ("members", "membership_id", None),
    RoleCheckType: ("roles", "role_id", None),
    VolunteerRole: ("roles", "id", ROLE_FIELDS),
}


@event.listens_for(Session, "after_flush")
def _keep(session: Session, flush_context: Any) -> None:
    """Derive again the entries of whatever this flush changed that the pool says."""
    concerned: dict[uuid.UUID, dict[str, set[uuid.UUID]]] = defaultdict(
        lambda: {"members": set(), "roles": set()}
    )
    for changed, objects in ((False, session.new), (True, session.dirty), (False, session.deleted)):
        for obj in objects:
            source = SOURCES.get(type(obj))
            if source is None:
                continue
            kind, key, fields = source
            if not changed or fields is None or _changed(obj, fields):
                concerned[obj.tenant_id][kind].add(getattr(obj, key))
    for tenant_id, ids in concerned.items():
        refresh(session.connection(), tenant_id, **ids)


@event.listens_for(Session, "do_orm_execute")
def _keep_bulk(state: ORMExecuteState) -> Result[Any] | None:
    """The same for a bulk UPDATE or DELETE of what the pool is derived from: the rows
    it will change are found first (by its own WHERE), then derived again after it."""
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return None
    model = state.bind_mapper.class_
    source = SOURCES.get(model)
    if source is None:
        return None
    kind, key, fields = source
    if state.is_update and fields is not None and not set(set_keys(state.statement)) & fields:
        return None  # nothing the pool says (a wave's waiting_since: ``offered``)
    statement: Any = state.statement
    found = select(model.tenant_id, getattr(model, key))
    if statement.whereclause is not None:
        found = found.where(statement.whereclause)
    concerned: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for tenant_id, concerned_id in state.session.execute(found):
        concerned[tenant_id].add(concerned_id)
    result = state.invoke_statement()
    for tenant_id, ids in concerned.items():
        refresh(state.session.connection(), tenant_id, **{kind: ids})
    return result


def _changed(obj: Any, fields: frozenset[str]) -> bool:
    state = inspect(obj)
    return any(
        key in state.committed_state and state.attrs[key].history.has_changes() for key in fields
    )
