"""Need versus provision: a small tenant whose tasks and people sit in known H3 cells,
so every figure of every area is known exactly."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import h3
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nyby.auth.permissions import Role
from nyby.configuration import services as configuration
from nyby.configuration.models import CheckType, VolunteerRole
from nyby.configuration.services import InvalidConfiguration
from nyby.core.db import db, simulated_clock, utcnow
from nyby.geo import Place
from nyby.members.models import Membership
from nyby.onboarding.models import CheckRecord, RoleAssignment
from nyby.provision.jobs import refresh_provision
from nyby.provision.models import ANY_ROLE, ProvisionCell
from nyby.tasks.models import Task
from nyby.tenancy.context import tenant_scope
from tests.conftest import Person, World, all_at_once
from tests.test_web_tasks import signed_in

API = "/api/v1/tenants/region/need-provision"
PAGE = "/t/region/need-provision"

# The centre cell of a resolution-6 area in London (A), one of its neighbours under the
# same parent (A2), and two cells far away: Leeds (B) and Bristol (C).
LONDON_6 = h3.latlng_to_cell(51.5074, -0.1278, 6)
CELL_A = h3.cell_to_center_child(LONDON_6, 7)
CELL_A2 = next(c for c in sorted(h3.grid_ring(CELL_A, 1)) if h3.cell_to_parent(c, 6) == LONDON_6)
CELL_B = h3.latlng_to_cell(53.8008, -1.5491, 7)
CELL_C = h3.latlng_to_cell(51.4545, -2.5879, 7)


def place(cell: str) -> Place:
    return Place(*h3.cell_to_latlng(cell))


def document(slug: str) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": "Region",
        "kind": "health",
        "locale": "en",
        "timezone": "Europe/London",
        "need_provision": {"resolution": 7},
        "check_types": [
            {"key": "dbs", "name": "DBS", "kind": "dbs_basic", "evidence": "number"},
            {"key": "licence", "name": "Driving licence", "kind": "other", "evidence": "number"},
        ],
        "categories": [{"key": "errands", "name": "Errands"}],
        "roles": [
            {"key": "shopper", "name": "Shopper", "description": "Shops.", "checks": ["dbs"]},
            {
                "key": "driver",
                "name": "Driver",
                "description": "Drives.",
                "checks": ["dbs", "licence"],
            },
            {"key": "caller", "name": "Caller", "description": "Calls.", "remote": True},
        ],
    }


@dataclass
class Region:
    tenant: Any
    admin: Person
    coordinator: Person
    volunteer: Person
    people: dict[str, uuid.UUID]


def _person(
    app: Flask,
    world: World,
    tenant: Any,
    cell: str,
    roles: dict[str, str],
    *,
    on_duty: bool = True,
    until: datetime | None = None,
    expired: tuple[str, ...] = (),
) -> uuid.UUID:
    """A volunteer living in ``cell``, approved in ``roles`` ({role: status}) with every
    check those roles need verified (``expired``: these ones expired yesterday)."""
    person = world.person(tenant, Role.VOLUNTEER)
    assert person.membership is not None
    now = utcnow()
    with app.app_context(), tenant_scope(tenant.id):
        member = db.session.get(Membership, (tenant.id, person.membership.id))
        assert member is not None
        home = place(cell)
        member.home_latitude, member.home_longitude = home.latitude, home.longitude
        member.home_area_cell = home.area_cell
        member.on_duty, member.on_duty_until = on_duty, until
        keys = {r.key: r for r in db.session.scalars(select(VolunteerRole))}
        checks = {c.key: c for c in db.session.scalars(select(CheckType))}
        needed: set[str] = set()
        for key, status in roles.items():
            db.session.add(
                RoleAssignment(membership_id=member.id, role_id=keys[key].id, status=status)
            )
            needed |= {c.key for c in keys[key].check_types}
        for key in sorted(needed):
            db.session.add(
                CheckRecord(
                    membership_id=member.id,
                    check_type_id=checks[key].id,
                    status="verified",
                    verified_at=now - timedelta(days=100),
                    expires_at=now + timedelta(days=-1 if key in expired else 300),
                )
            )
        db.session.commit()
        return member.id


def _task(
    tenant: Any,
    poster: uuid.UUID,
    cell: str,
    role: str,
    status: str,
    *,
    days_ago: int = 5,
    due_in_days: int = -1,
) -> None:
    now = utcnow()
    role_id = db.session.scalars(select(VolunteerRole.id).where(VolunteerRole.key == role)).one()
    posted = now - timedelta(days=days_ago)
    db.session.add(
        Task(
            role_id=role_id,
            posted_by=poster,
            title="Shopping",
            estimated_minutes=60,
            earliest_start=posted,
            due_by=now + timedelta(days=due_in_days),
            status=status,
            created_at=posted,
            updated_at=posted,
            **place(cell).columns(),
        )
    )


@pytest.fixture
def region(app: Flask, world: World) -> Region:
    tenant = world.tenant("region")
    with app.app_context():
        configuration.apply(db.session(), document("region"))
        db.session.commit()
    admin = world.person(tenant, Role.ADMIN)
    coordinator = world.person(tenant, Role.COORDINATOR)
    volunteer = world.person(tenant, Role.VOLUNTEER)
    nurse = world.person(tenant, Role.PROFESSIONAL)
    hour = timedelta(hours=1)
    people = {
        # In A: Amy counts (shopper); Sam's DBS expired; Olu is off duty; Dee's duty
        # ended an hour ago; Ray's driver role is only applied for.
        "amy": _person(app, world, tenant, CELL_A, {"shopper": "approved"}),
        "sam": _person(app, world, tenant, CELL_A, {"shopper": "approved"}, expired=("dbs",)),
        "olu": _person(app, world, tenant, CELL_A, {"shopper": "approved"}, on_duty=False),
        "dee": _person(app, world, tenant, CELL_A, {"driver": "approved"}, until=utcnow() - hour),
        "ray": _person(app, world, tenant, CELL_A, {"driver": "applied"}),
        # In C: Bea drives and shops, on duty for another hour (counted once for any role).
        "bea": _person(
            app,
            world,
            tenant,
            CELL_C,
            {"driver": "approved", "shopper": "approved"},
            until=utcnow() + hour,
        ),
    }
    assert nurse.membership is not None
    poster = nurse.membership.id
    with app.app_context(), tenant_scope(tenant.id):
        # A: three shopping tasks (completed, expired, open past due) and a drive, done.
        _task(tenant, poster, CELL_A, "shopper", "completed")
        _task(tenant, poster, CELL_A, "shopper", "expired")
        _task(tenant, poster, CELL_A, "shopper", "open")
        _task(tenant, poster, CELL_A, "driver", "completed")
        # A2, next door: one shopping task, done; nobody lives there.
        _task(tenant, poster, CELL_A2, "shopper", "completed")
        # B: one closed as unmet by a coordinator, one open and not yet due; nobody there.
        _task(tenant, poster, CELL_B, "shopper", "unmet")
        _task(tenant, poster, CELL_B, "shopper", "open", due_in_days=2)
        # Not counted: posted 40 days ago; a remote call; cancelled counts as posted.
        _task(tenant, poster, CELL_B, "shopper", "expired", days_ago=40)
        _task(tenant, poster, CELL_B, "caller", "expired")
        _task(tenant, poster, CELL_C, "driver", "cancelled", days_ago=1)
        db.session.commit()
    return Region(tenant, admin, coordinator, volunteer, people)


def _figures(body: dict[str, Any]) -> list[tuple[str, str, int, int, int, int]]:
    rows = body["features"] if "features" in body else body["areas"]
    return [
        (
            (p := row.get("properties", row))["cell"],
            p["state"],
            p["posted"],
            p["unmet"],
            p["people"],
            p["people_nearby"],
        )
        for row in rows
    ]


def test_every_area_has_its_exact_figures_worst_first(client: FlaskClient, region: Region) -> None:
    response = client.get(API, headers=region.coordinator.headers)
    assert response.status_code == 200, response.json
    body = response.json
    # Need and no provision first (B, then A2), then unmet, then provision only.
    assert _figures(body) == [
        (CELL_B, "unserved", 2, 1, 0, 0),
        (CELL_A2, "unserved", 1, 0, 0, 1),
        (CELL_A, "strained", 4, 2, 1, 0),
        (CELL_C, "served", 1, 0, 1, 0),
    ]
    assert body["properties"]["resolution"] == 7
    assert body["properties"]["totals"] == {
        "posted": 8,
        "unmet": 3,
        "people": 2,
        "areas_with_need": 4,
        "areas_without_provision": 2,
    }
    today = utcnow().date()
    assert body["properties"]["to"] == today.isoformat()
    assert body["properties"]["from"] < (today - timedelta(days=27)).isoformat()


def test_geojson_polygons_are_closed_rings_around_their_centre(
    client: FlaskClient, region: Region
) -> None:
    body = client.get(API, headers=region.admin.headers).json
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 4
    for feature in body["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Polygon"
        [ring] = feature["geometry"]["coordinates"]
        assert len(ring) == 7 and ring[0] == ring[-1]  # a hexagon, closed
        # [longitude, latitude], anticlockwise (RFC 7946), around the area's centre.
        twice_area = sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring))
        assert twice_area > 0
        props = feature["properties"]
        assert feature["id"] == props["cell"]
        lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
        assert min(lngs) < props["longitude"] < max(lngs)
        assert min(lats) < props["latitude"] < max(lats)
        assert h3.latlng_to_cell(props["latitude"], props["longitude"], 7) == props["cell"]


def test_larger_areas_add_up_their_cells(client: FlaskClient, region: Region) -> None:
    body = client.get(f"{API}?resolution=6", headers=region.admin.headers).json
    leeds, bristol = h3.cell_to_parent(CELL_B, 6), h3.cell_to_parent(CELL_C, 6)
    assert _figures(body) == [
        (leeds, "unserved", 2, 1, 0, 0),
        (LONDON_6, "strained", 5, 2, 1, 0),
        (bristol, "served", 1, 0, 1, 0),
    ]
    assert body["properties"]["resolution"] == 6
    assert body["properties"]["across_km"] == pytest.approx(6.5, abs=0.1)


def test_one_role_counts_its_tasks_and_the_people_qualified_for_it(
    client: FlaskClient, region: Region
) -> None:
    body = client.get(f"{API}?role=driver", headers=region.admin.headers).json
    # Dee's duty ended and Ray is not approved: nobody in A may drive.
    assert _figures(body) == [
        (CELL_A, "unserved", 1, 0, 0, 0),
        (CELL_C, "served", 1, 0, 1, 0),
    ]
    assert body["properties"]["role"] == "driver"


def test_the_period_decides_which_tasks_count(client: FlaskClient, region: Region) -> None:
    today = utcnow().date()
    since = (today - timedelta(days=60)).isoformat()
    until = (today - timedelta(days=30)).isoformat()
    body = client.get(f"{API}?from={since}&to={until}", headers=region.admin.headers).json
    assert [f for f in _figures(body) if f[2]] == [(CELL_B, "unserved", 1, 1, 0, 0)]


def test_the_table_lists_areas_with_need_worst_first(client: FlaskClient, region: Region) -> None:
    response = client.get(f"{API}/areas", headers=region.admin.headers)
    assert response.status_code == 200
    body = response.json
    assert [row["cell"] for row in body["areas"]] == [CELL_B, CELL_A2, CELL_A, CELL_C]
    assert [row["need_without_provision"] for row in body["areas"]] == [True, True, False, False]
    assert body["totals"]["areas_without_provision"] == 2


def test_provision_only_areas_are_on_the_map_not_in_the_table(
    app: Flask, world: World, client: FlaskClient, region: Region
) -> None:
    leeds_east = h3.grid_ring(CELL_B, 3)[0]
    _person(app, world, region.tenant, leeds_east, {"shopper": "approved"})
    body = client.get(API, headers=region.admin.headers).json
    assert (leeds_east, "provision_only", 0, 0, 1, 0) == _figures(body)[-1]
    table = client.get(f"{API}/areas", headers=region.admin.headers).json
    assert leeds_east not in [row["cell"] for row in table["areas"]]


def test_volunteers_and_professionals_are_refused(
    world: World, client: FlaskClient, region: Region
) -> None:
    nurse = world.person(region.tenant, Role.PROFESSIONAL)
    for person in (region.volunteer, nurse):
        for url in (API, f"{API}/areas", f"{API}?resolution=99"):
            response = client.get(url, headers=person.headers)
            assert response.status_code == 403, url


def test_another_tenant_is_404(
    app: Flask, world: World, client: FlaskClient, region: Region
) -> None:
    other = world.tenant("other")
    with app.app_context():
        configuration.apply(db.session(), document("other"))
        db.session.commit()
    outsider = world.person(other, Role.ADMIN, Role.COORDINATOR)
    for url in (API, f"{API}/areas"):
        assert client.get(url, headers=outsider.headers).status_code == 404
    assert signed_in(app, outsider).get(PAGE).status_code == 404
    # Their own map holds none of the region's tasks or people.
    own = client.get("/api/v1/tenants/other/need-provision", headers=outsider.headers).json
    assert own["features"] == [] and own["properties"]["totals"]["posted"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("resolution=3", "resolution"),
        ("resolution=8", "resolution"),
        ("resolution=six", "resolution"),
        ("from=2026-02-30", "from"),
        ("from=2026-05-02&to=2026-05-01", "to"),
        ("from=2024-01-01&to=2026-01-01", "to"),
        ("from=2001-01-01", "to"),  # until today: more than a year
        ("to=9999-12-31", "to"),
        ("to=2001-01-01", "to"),  # before the default start
        ("role=Not%20a%20key", "role"),
        ("role=gardener", "role"),
        ("role=caller", "role"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(
    client: FlaskClient, region: Region, query: str, field: str
) -> None:
    response = client.get(f"{API}?{query}", headers=region.admin.headers)
    assert response.status_code == 422, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in str(response.json["errors"])


def _snapshot(app: Flask, region: Region) -> dict[tuple[str, str], int]:
    with app.app_context(), tenant_scope(region.tenant.id):
        rows = db.session.execute(
            select(ProvisionCell.area_cell, ProvisionCell.role_key, ProvisionCell.people)
        ).all()
    return {(cell, key): people for cell, key, people in rows}


def test_the_refresh_job_keeps_a_snapshot_the_map_reads(
    app: Flask, client: FlaskClient, region: Region
) -> None:
    with app.app_context():
        written = refresh_provision(str(region.tenant.id))
    assert _snapshot(app, region) == {
        (CELL_A, "shopper"): 1,
        (CELL_A, ANY_ROLE): 1,
        (CELL_C, "shopper"): 1,
        (CELL_C, "driver"): 1,
        (CELL_C, ANY_ROLE): 1,  # Bea, once
    }
    assert written == 5
    # Amy goes off duty: the map says what the snapshot says until the next refresh.
    with app.app_context(), tenant_scope(region.tenant.id):
        amy = db.session.get(Membership, (region.tenant.id, region.people["amy"]))
        assert amy is not None
        amy.on_duty = False
        db.session.commit()
    body = client.get(API, headers=region.admin.headers).json
    assert (CELL_A, "strained", 4, 2, 1, 0) in _figures(body)
    with app.app_context():
        refresh_provision(str(region.tenant.id))
    body = client.get(API, headers=region.admin.headers).json
    assert (CELL_A, "unserved", 4, 2, 0, 0) in _figures(body)


def test_a_stale_snapshot_is_not_trusted(app: Flask, client: FlaskClient, region: Region) -> None:
    an_hour_ago = utcnow() - timedelta(hours=1)
    with app.app_context(), simulated_clock(lambda: an_hour_ago):
        refresh_provision(str(region.tenant.id))
    with app.app_context(), tenant_scope(region.tenant.id):
        amy = db.session.get(Membership, (region.tenant.id, region.people["amy"]))
        assert amy is not None
        amy.on_duty = False
        db.session.commit()
    body = client.get(API, headers=region.admin.headers).json
    assert (CELL_A, "unserved", 4, 2, 0, 0) in _figures(body)  # counted live
    assert body["properties"]["provision_as_of"] > an_hour_ago.isoformat()


def test_two_refreshes_at_once_leave_one_whole_snapshot(app: Flask, region: Region) -> None:
    def refresh() -> int:
        with app.app_context():
            return int(refresh_provision(str(region.tenant.id)))

    assert all_at_once([refresh, refresh]) == [5, 5]
    assert len(_snapshot(app, region)) == 5
    with app.app_context(), tenant_scope(region.tenant.id):
        times = db.session.scalar(select(func.count(func.distinct(ProvisionCell.refreshed_at))))
    assert times == 1


def test_the_tenant_file_sets_and_checks_the_resolution(app: Flask, world: World) -> None:
    world.tenant("elsewhere")
    doc = document("elsewhere")
    with app.app_context():
        doc["need_provision"] = {"resolution": 9}
        with pytest.raises(InvalidConfiguration) as refused:
            configuration.apply(db.session(), doc)
        assert "need_provision.resolution" in str(refused.value)
        db.session.rollback()
        del doc["need_provision"]
        applied, _ = configuration.apply(db.session(), doc)
        db.session.commit()
        exported = configuration.export(db.session(), applied)
    assert exported["need_provision"] == {"resolution": 6}


def test_the_page_shows_the_table_and_the_map_data(app: Flask, region: Region) -> None:
    browser = signed_in(app, region.coordinator)
    page = browser.get(PAGE)
    assert page.status_code == 200
    text = page.text
    assert "2 areas with need and no provision" in text
    assert "data-provision=" in text and "Need and no provision" in text
    table = text[text.index('id="provision-table"') :]
    assert table.index(CELL_B) < table.index(CELL_A2) < table.index(CELL_A) < table.index(CELL_C)
    assert 'href="/t/region/need-provision"' in text  # in the menu
    wrong = browser.get(f"{PAGE}?resolution=9&role=caller")
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text
    volunteer = signed_in(app, region.volunteer)
    assert volunteer.get(PAGE).status_code == 403
    assert 'href="/t/region/need-provision"' not in volunteer.get("/t/region/").text


def test_a_role_no_longer_offered_qualifies_nobody(
    app: Flask, client: FlaskClient, region: Region
) -> None:
    with app.app_context(), tenant_scope(region.tenant.id):
        driver = db.session.scalars(
            select(VolunteerRole).where(VolunteerRole.key == "driver")
        ).one()
        driver.is_active = False
        db.session.commit()
    body = client.get(f"{API}?role=driver", headers=region.admin.headers).json
    # Its tasks are still there to see, but nobody may take them any more.
    assert _figures(body) == sorted(
        [(CELL_A, "unserved", 1, 0, 0, 0), (CELL_C, "unserved", 1, 0, 0, 0)]
    )
    # On the whole map its tasks no longer count, and Bea counts as a shopper.
    figures = _figures(client.get(API, headers=region.admin.headers).json)
    assert (CELL_A, "strained", 3, 2, 1, 0) in figures
    assert (CELL_C, "provision_only", 0, 0, 1, 0) in figures
