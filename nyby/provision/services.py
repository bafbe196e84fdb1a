"""Need versus provision, by area: the one place these figures are computed.

An area is an H3 cell at the tenant's resolution (``need_provision.resolution``, 4 to
7; 7 is the area cell stored with every place, ``geo.AREA_RESOLUTION``). For each:

- **posted**: tasks of travelling roles posted in the period (local dates, both ends
  included) at a place in the area;
- **unmet**: of those, the ones that expired with no taker, were closed as unmet by a
  coordinator (escalations), or are still open past their due time;
- **people**: who could take them now: active volunteers (or staff) on duty now whose
  home is in the area, qualified for the role (an approved assignment and every
  required check verified and unexpired: ``dispatch.matching``'s SQL form of
  ``onboarding.qualification``), or for any travelling role when no role is asked.

A person counts where they live, in their home cell only, not in every cell their
travel radius reaches: spreading 400,000 people over the cells within 2-15 km would
multiply the rows by tens to hundreds and double-count one person in many areas. At
resolution 6 (about 3 km across) most travel radii reach the neighbouring cells, so the
table's "need and no provision" is the honest first reading; each area also carries the
people living in its ring of neighbours (``people_nearby``), summed over cells, not people.

Both sides are aggregate SQL grouped by the stored area cell; the cells are then rolled
up to their parent at the wanted resolution in Python, once per distinct cell (a few
thousand at most), never once per task or person. Tasks are read through the
``ix_tasks_posted`` index alone. People are read from the snapshot the refresh job
keeps (``ProvisionCell``, every few minutes); without a fresh one (a new tenant, a
stopped worker) they are counted live, the same SQL.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import h3
import marshmallow as ma
from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from sqlalchemy import and_, case, delete, func, insert, or_, select, text

from nyby.auth.permissions import Action
from nyby.configuration.models import VolunteerRole
from nyby.configuration.schemas import NeedProvisionSchema
from nyby.core.days import local_midnight
from nyby.core.db import db, utcnow
from nyby.core.errors import Unprocessable
from nyby.dispatch.models import PoolEntry
from nyby.dispatch.pool import current
from nyby.geo import AREA_RESOLUTION
from nyby.provision.models import ANY_ROLE, ProvisionCell
from nyby.tasks.models import Task, TaskStatus
from nyby.tenancy.context import current_tenant_id
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor

MIN_RESOLUTION = 4
# The longest period a map covers: a year (and a day, for a leap year).
MAX_DAYS = 366
# The snapshot is rewritten every REFRESH_EVERY (jobs.schedule); older than FRESH, it
# is not trusted (the worker has stopped) and people are counted live instead.
REFRESH_EVERY = timedelta(minutes=5)
FRESH = timedelta(minutes=15)
UNMET_STATUSES = (TaskStatus.EXPIRED.value, TaskStatus.UNMET.value)


class State:
    """How an area is coloured on the map, worst first (the table's order)."""

    UNSERVED = "unserved"  # tasks posted, nobody on duty who could take them
    STRAINED = "strained"  # people there, but tasks went unmet
    SERVED = "served"  # tasks posted, none unmet
    PROVISION_ONLY = "provision_only"  # people on duty, no task posted


STATES = (State.UNSERVED, State.STRAINED, State.SERVED, State.PROVISION_ONLY)


@dataclass
class Area:
    cell: str
    posted: int = 0
    unmet: int = 0
    people: int = 0
    people_nearby: int = 0

    @property
    def state(self) -> str:
        if not self.posted:
            return State.PROVISION_ONLY
        if not self.people:
            return State.UNSERVED
        return State.STRAINED if self.unmet else State.SERVED

    @property
    def need_without_provision(self) -> bool:
        return self.state == State.UNSERVED

    @property
    def centre(self) -> tuple[float, float]:
        latitude, longitude = h3.cell_to_latlng(self.cell)
        return round(latitude, 5), round(longitude, 5)


@dataclass
class NeedProvision:
    start: date
    end: date
    resolution: int
    role: str | None
    # When the people were counted: the snapshot's time, or now when counted live.
    provision_as_of: datetime
    areas: list[Area] = field(default_factory=list)

    @property
    def unserved(self) -> list[Area]:
        return [area for area in self.areas if area.need_without_provision]

    @property
    def totals(self) -> dict[str, int]:
        return {
            "posted": sum(a.posted for a in self.areas),
            "unmet": sum(a.unmet for a in self.areas),
            "people": sum(a.people for a in self.areas),
            "areas_with_need": sum(1 for a in self.areas if a.posted),
            "areas_without_provision": len(self.unserved),
        }


def settings(tenant: Tenant) -> dict[str, Any]:
    """The tenant's map settings with the defaults filled in."""
    loaded: dict[str, Any] = NeedProvisionSchema().load(
        tenant.need_provision or {}, unknown=ma.EXCLUDE
    )
    return loaded


def default_period(tenant: Tenant, now: datetime | None = None) -> tuple[date, date]:
    """The last month up to today, in the tenant's time."""
    today = (now or utcnow()).astimezone(ZoneInfo(tenant.timezone)).date()
    return today - relativedelta(months=1) + timedelta(days=1), today


def need_provision(
    actor: Actor,
    *,
    start: date | None = None,
    end: date | None = None,
    role: str | None = None,
    resolution: int | None = None,
) -> NeedProvision:
    """Every area with need or provision, worst first: need and no provision, then
    the most unmet, the most posted, the most people."""
    actor.require(Action.VIEW_NEED_PROVISION)
    now = utcnow()
    tenant = actor.tenant
    default_start, default_end = default_period(tenant, now)
    start, end = start or default_start, end or default_end
    if end < start:
        raise Unprocessable(
            _("The end must not be before the start."),
            errors={"to": [_("Must not be before the start.")]},
        )
    if (end - start).days > MAX_DAYS:
        raise Unprocessable(
            _("Choose a period of at most a year."),
            errors={"to": [_("Choose a period of at most a year.")]},
        )
    resolution = resolution or settings(tenant)["resolution"]
    roles = travelling_roles()
    if role is not None:
        chosen = [r for r in _all_roles() if r.key == role]
        if not chosen:
            raise Unprocessable(
                _("There is no such role."), errors={"role": [_("There is no such role.")]}
            )
        if chosen[0].remote:
            raise Unprocessable(
                _("A remote role is not tied to a place: choose a role that travels."),
                errors={"role": [_("A remote role is not tied to a place.")]},
            )
        roles = chosen
    zone = ZoneInfo(tenant.timezone)
    need = _need_by_cell(
        [r.id for r in roles],
        local_midnight(start, zone),
        local_midnight(end + timedelta(days=1), zone),
        now,
    )
    people, as_of = _people_by_cell(roles, role or ANY_ROLE, now)
    result = NeedProvision(start, end, resolution, role, as_of)
    result.areas = _roll_up(need, people, resolution)
    return result


def travelling_roles() -> list[VolunteerRole]:
    """The roles whose tasks have a place (active, not remote), in the tenant's order."""
    return [role for role in _all_roles() if role.is_active and not role.remote]


def _all_roles() -> list[VolunteerRole]:
    return list(
        db.session.scalars(
            select(VolunteerRole).order_by(VolunteerRole.position, VolunteerRole.key)
        )
    )


def _need_by_cell(
    role_ids: Sequence[Any], since: datetime, until: datetime, now: datetime
) -> dict[str, tuple[int, int]]:
    """(posted, unmet) per stored area cell: one grouped range of ``ix_tasks_posted``."""
    if not role_ids:
        return {}
    unmet = or_(
        Task.status.in_(UNMET_STATUSES),
        and_(Task.status == TaskStatus.OPEN.value, Task.due_by < now),
    )
    rows = db.session.execute(
        select(Task.area_cell, func.count(), func.sum(case((unmet, 1), else_=0)))
        .where(
            Task.created_at >= since,
            Task.created_at < until,
            Task.area_cell.is_not(None),
            Task.role_id.in_(role_ids),
        )
        .group_by(Task.area_cell)
    )
    return {cell: (int(posted), int(missed or 0)) for cell, posted, missed in rows}


def _people_by_cell(
    roles: Sequence[VolunteerRole], role_key: str, now: datetime
) -> tuple[dict[str, int], datetime]:
    """People on duty and qualified per home area cell, and when they were counted:
    from a fresh snapshot, else live."""
    refreshed = db.session.scalar(select(func.max(ProvisionCell.refreshed_at)))
    if refreshed is not None and refreshed >= now - FRESH:
        rows = db.session.execute(
            select(ProvisionCell.area_cell, ProvisionCell.people).where(
                ProvisionCell.role_key == role_key
            )
        )
        return {cell: people for cell, people in rows}, refreshed
    return count_people(roles, now), now


def count_people(roles: Sequence[VolunteerRole], now: datetime) -> dict[str, int]:
    """Live: on duty now, home area set, qualified for at least one of ``roles`` (a
    role no longer offered qualifies nobody, as ``onboarding.qualification`` says):
    from the dispatch pool, which holds exactly them (``dispatch.pool``)."""
    roles = [role for role in roles if role.is_active]
    if not roles:
        return {}
    rows = db.session.execute(
        select(PoolEntry.home_area_cell, func.count(PoolEntry.membership_id.distinct()))
        .where(
            PoolEntry.role_id.in_([role.id for role in roles]),
            PoolEntry.home_area_cell.is_not(None),
            *current(now),
        )
        .group_by(PoolEntry.home_area_cell)
    )
    return {cell: int(people) for cell, people in rows}


def refresh_provision(now: datetime | None = None) -> int:
    """Rewrite the tenant's snapshot: people per area cell for each travelling role and
    for any of them. Two refreshes at once leave one whole snapshot: on PostgreSQL the
    second waits for the first (a transaction lock per tenant), then replaces it; SQLite
    lets one writer at a time anyway. Returns the rows written."""
    now = now or utcnow()
    tenant_id = current_tenant_id()
    assert tenant_id is not None, "refresh_provision runs in a tenant's scope"
    roles = travelling_roles()
    counted: list[tuple[str, dict[str, int]]] = [
        (role.key, count_people([role], now)) for role in roles
    ]
    counted.append((ANY_ROLE, count_people(roles, now)))
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('provision:' || :tenant))"),
            {"tenant": str(tenant_id)},
        )
    db.session.execute(delete(ProvisionCell))
    rows = [
        {
            "tenant_id": tenant_id,
            "area_cell": cell,
            "role_key": key,
            "people": people,
            "refreshed_at": now,
        }
        for key, cells in counted
        for cell, people in cells.items()
    ]
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(ProvisionCell), rows[start : start + 5000])
    return len(rows)


@lru_cache(maxsize=200_000)
def parent_cell(cell: str, resolution: int) -> str:
    """The area cell's parent at ``resolution`` (itself at the area resolution)."""
    if resolution >= AREA_RESOLUTION:
        return cell
    return str(h3.cell_to_parent(cell, resolution))


def _roll_up(
    need: dict[str, tuple[int, int]], people: dict[str, int], resolution: int
) -> list[Area]:
    areas: dict[str, Area] = {}

    def area(cell: str) -> Area:
        parent = parent_cell(cell, resolution)
        found = areas.get(parent)
        if found is None:
            found = areas[parent] = Area(parent)
        return found

    for cell, (posted, unmet) in need.items():
        here = area(cell)
        here.posted += posted
        here.unmet += unmet
    for cell, count in people.items():
        area(cell).people += count
    living = {cell: a.people for cell, a in areas.items() if a.people}
    for a in areas.values():
        if a.posted:
            a.people_nearby = sum(living.get(str(n), 0) for n in h3.grid_ring(a.cell, 1))
    return sorted(areas.values(), key=_worst_first)


def _worst_first(area: Area) -> tuple[int, int, int, int, str]:
    return (STATES.index(area.state), -area.unmet, -area.posted, -area.people, area.cell)


def boundary(cell: str) -> list[list[float]]:
    """The cell as a closed GeoJSON ring: [longitude, latitude] pairs, anticlockwise
    (RFC 7946's exterior ring), the first point repeated at the end."""
    points = [[round(lng, 6), round(lat, 6)] for lat, lng in h3.cell_to_boundary(cell)]
    if _signed_area(points) < 0:
        points.reverse()
    return [*points, points[0]]


def _signed_area(points: Iterable[list[float]]) -> float:
    ring = list(points)
    return (
        sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:] + ring[:1], strict=True)) / 2
    )


def present_area(area: Area, resolution: int) -> dict[str, Any]:
    latitude, longitude = area.centre
    return {
        "cell": area.cell,
        "resolution": resolution,
        "latitude": latitude,
        "longitude": longitude,
        "posted": area.posted,
        "unmet": area.unmet,
        "people": area.people,
        "people_nearby": area.people_nearby,
        "state": area.state,
        "need_without_provision": area.need_without_provision,
    }


def present_summary(result: NeedProvision) -> dict[str, Any]:
    return {
        "start": result.start,
        "end": result.end,
        "resolution": result.resolution,
        "across_km": across_km(result.resolution),
        "role": result.role,
        "provision_as_of": result.provision_as_of,
        "totals": result.totals,
    }


def as_geojson(result: NeedProvision) -> dict[str, Any]:
    """RFC 7946: one polygon per area, the figures as its properties."""
    return {
        "type": "FeatureCollection",
        "properties": present_summary(result),
        "features": [
            {
                "type": "Feature",
                "id": area.cell,
                "geometry": {"type": "Polygon", "coordinates": [boundary(area.cell)]},
                "properties": present_area(area, result.resolution),
            }
            for area in result.areas
        ],
    }


def as_table(result: NeedProvision, *, need_only: bool = False) -> dict[str, Any]:
    """The same figures as rows, worst first (``need_only``: areas where tasks were posted)."""
    areas = [a for a in result.areas if a.posted] if need_only else result.areas
    return {
        **present_summary(result),
        "areas": [present_area(area, result.resolution) for area in areas],
    }


def across_km(resolution: int) -> float:
    """About how far across an area is (flat side to flat side), for people to read."""
    return round(h3.average_hexagon_edge_length(resolution, "km") * math.sqrt(3), 1)
