"""Repeat series: weekly shopping, calls three times a week; taken whole; continuity."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nyby.auth.permissions import Role
from nyby.core.db import db, utcnow
from nyby.core.errors import Unprocessable
from nyby.tasks.models import Task, TaskSeries
from nyby.tasks.series import HORIZON, generate, generate_series_occurrences, parse_rule
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.conftest import Person, World, all_at_once
from tests.tasking import TASKS, task_body, volunteer

SERIES = "/api/v1/tenants/borough/series"
OPEN = f"{TASKS}/open"
NEAR = {"latitude": 51.5014, "longitude": -0.1419}


def weekly(client: FlaskClient, nurse: Person, rule: str = "FREQ=WEEKLY", **more: Any) -> Any:
    body = {**task_body(client, nurse, title="Weekly shop", **more), "rrule": rule}
    posted = client.post(SERIES, json=body, headers=nurse.headers)
    assert posted.status_code == 201, posted.json
    return posted.json


def occurrences(app: Flask, tenant: Any, series_id: str) -> list[Task]:
    with app.app_context(), tenant_scope(tenant.id):
        return list(
            db.session.scalars(
                select(Task)
                .where(Task.series_id == uuid.UUID(series_id))
                .order_by(Task.earliest_start)
            )
        )


def run_generator(app: Flask, tenant: Any, days_later: int) -> None:
    """The hourly job, as if run ``days_later`` days from now."""
    with app.app_context(), tenant_scope(tenant.id):
        until = utcnow() + HORIZON + timedelta(days=days_later)
        zone_tenant = db.session.get(Tenant, tenant.id)
        for series in db.session.scalars(select(TaskSeries)).all():
            generate(series, zone_tenant, until)
        db.session.commit()


def test_a_weekly_series_has_its_next_two_weeks_of_visits_at_once(
    app: Flask, client: FlaskClient, borough: Any, nurse: Person
) -> None:
    series = weekly(client, nurse)
    assert series["status"] == "active" and series["holder_id"] is None
    visits = series["upcoming"]
    assert len(visits) == 2  # this week's and next week's, within the 14-day horizon
    first, second = (datetime.fromisoformat(v["earliest_start"]) for v in visits)
    assert second - first == timedelta(days=7)
    assert all(v["series_id"] == series["id"] and v["status"] == "open" for v in visits)
    # The periodic job adds the next one when it comes within reach, and never twice.
    run_generator(app, borough, days_later=7)
    run_generator(app, borough, days_later=7)
    assert len(occurrences(app, borough, series["id"])) == 3


def test_a_series_that_began_years_ago_gets_only_the_visits_not_yet_over(
    app: Flask, client: FlaskClient, borough: Any, nurse: Person
) -> None:
    long_ago = utcnow().replace(microsecond=0) - timedelta(days=3 * 365)
    series = weekly(
        client,
        nurse,
        rule="FREQ=DAILY",
        earliest_start=long_ago.isoformat(),
        due_by=(long_ago + timedelta(hours=2)).isoformat(),
    )
    visits = occurrences(app, borough, series["id"])
    assert 14 <= len(visits) <= 15  # today's (if not over) and the next 14 days'
    assert all(visit.due_by > utcnow() for visit in visits)


def test_the_rule_keeps_local_time_across_daylight_saving() -> None:
    first = datetime(2027, 3, 22, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    rule = parse_rule("FREQ=WEEKLY;COUNT=3", first.astimezone(UTC), "Europe/London")
    starts = [start.astimezone(UTC).hour for start in rule]
    assert starts == [10, 9, 9]  # 10:00 GMT, then 10:00 BST
    three_a_week = parse_rule("FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=18", first, "Europe/London")
    assert len(list(three_a_week)) == 18


@pytest.mark.parametrize(
    "rule,says",
    [
        ("FREQ=HOURLY", "daily, weekly, monthly or yearly"),
        ("FREQ=FORTNIGHTLY", "Not a valid RRULE"),
        ("BYDAY=MO", "Not a valid RRULE"),
        ("DTSTART:20270101T100000\nRRULE:FREQ=WEEKLY", "one RRULE line"),
        ("FREQ=WEEKLY;UNTIL=20200101T000000Z", "no visit"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "no visit"),
        ("FREQ=DAILY;BYHOUR=8,9,10;BYMINUTE=0,30", "At most 28 visits"),
        ("FREQ=WEEKLY;UNTIL=20280101T000000", "Not a valid RRULE"),
        # dateutil would search these forever (or to year 9999) for a first visit
        ("FREQ=WEEKLY;INTERVAL=0;BYDAY=MO", "INTERVAL must be at least 1"),
        ("FREQ=DAILY;BYSETPOS=5", "not a day"),
        ("FREQ=YEARLY;BYEASTER=400", "Not a valid RRULE"),
    ],
)
def test_an_invalid_rule_is_refused_and_nothing_is_written(
    app: Flask, client: FlaskClient, borough: Any, nurse: Person, rule: str, says: str
) -> None:
    body = {**task_body(client, nurse), "rrule": rule}
    refused = client.post(SERIES, json=body, headers=nurse.headers)
    assert refused.status_code == 422, refused.json
    assert says in refused.json["errors"]["rrule"][0]
    with app.app_context(), tenant_scope(borough.id):
        assert db.session.scalar(select(func.count()).select_from(TaskSeries)) == 0
        assert db.session.scalar(select(func.count()).select_from(Task)) == 0


def test_a_first_visit_at_the_end_of_time_or_a_window_over_a_month_is_refused(
    client: FlaskClient, borough: Any, nurse: Person
) -> None:
    body = {**task_body(client, nurse), "rrule": "FREQ=WEEKLY"}
    late = {**body, "earliest_start": "9999-12-30T10:00:00Z", "due_by": "9999-12-30T12:00:00Z"}
    refused = client.post(SERIES, json=late, headers=nurse.headers)
    assert refused.status_code == 422, refused.json
    assert "Not a valid RRULE" in refused.json["errors"]["rrule"][0]
    start = datetime.fromisoformat(body["earliest_start"])
    long = {**body, "due_by": (start + timedelta(days=32)).isoformat()}
    refused = client.post(SERIES, json=long, headers=nurse.headers)
    assert refused.status_code == 422, refused.json
    assert refused.json["errors"]["json"]["due_by"] == ["A visit's window is at most 31 days."]


def test_parse_rule_names_the_field() -> None:
    with pytest.raises(Unprocessable) as raised:
        parse_rule("FREQ=SECONDLY", utcnow(), "Europe/London")
    assert raised.value.errors == {"rrule": ["A series repeats daily, weekly, monthly or yearly."]}


def test_a_volunteer_takes_the_whole_series_and_gets_each_new_visit(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    series = weekly(client, nurse)
    amy = volunteer(app, world, borough)
    visit = client.get(OPEN, query_string=NEAR, headers=amy.headers).json[0]
    assert visit["series_id"] == series["id"]
    preview = client.get(f"{SERIES}/{series['id']}", headers=amy.headers).json
    assert preview["address"] is None  # only the area before taking it
    taken = client.post(f"{SERIES}/{series['id']}/accept", headers=amy.headers)
    assert taken.status_code == 200, taken.json
    assert taken.json["holder_id"] == str(amy.membership.id)  # type: ignore[union-attr]
    assert {v["status"] for v in taken.json["upcoming"]} == {"assigned"}
    run_generator(app, borough, days_later=7)
    assert [t.status for t in occurrences(app, borough, series["id"])] == ["assigned"] * 3
    mine = client.get(SERIES, headers=amy.headers).json
    assert [s["id"] for s in mine] == [series["id"]]
    inbox = client.get("/api/v1/tenants/borough/notifications", headers=nurse.headers).json
    assert inbox[0]["kind"] == "series_taken"
    # She gives it back: her visits not yet started open again, and the nurse is told.
    back = client.post(
        f"{SERIES}/{series['id']}/release", json={"note": "Moving away"}, headers=amy.headers
    )
    assert back.status_code == 200 and back.json["holder_id"] is None
    assert {t.status for t in occurrences(app, borough, series["id"])} == {"open"}
    assert (
        client.get("/api/v1/tenants/borough/notifications", headers=nurse.headers).json[0]["kind"]
        == "series_released"
    )


def test_two_volunteers_take_the_same_series_at_once_and_one_wins(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    series = weekly(client, nurse)
    people = [volunteer(app, world, borough) for _ in range(5)]

    def take(person: Person) -> Any:
        def call() -> int:
            with app.test_client() as own:
                return own.post(
                    f"{SERIES}/{series['id']}/accept", headers=person.headers
                ).status_code

        return call

    assert sorted(all_at_once([take(p) for p in people])) == [200, 409, 409, 409, 409]
    holders = {t.assignee_id for t in occurrences(app, borough, series["id"])}
    assert len(holders) == 1 and None not in holders


def test_the_clients_previous_helper_is_asked_first_when_the_series_goes_on(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    body = task_body(client, nurse)
    first = client.post(TASKS, json=body, headers=nurse.headers).json
    amy, ben = volunteer(app, world, borough), volunteer(app, world, borough)
    for step in ("accept", "start"):
        client.post(f"{TASKS}/{first['id']}/{step}", headers=amy.headers)
    client.post(f"{TASKS}/{first['id']}/complete", json={"minutes_spent": 50}, headers=amy.headers)
    series = client.post(SERIES, json={**body, "rrule": "FREQ=WEEKLY"}, headers=nurse.headers).json
    visits = series["upcoming"]
    assert all(v["reserved_until"] for v in visits)
    asked = client.get("/api/v1/tenants/borough/notifications", headers=amy.headers).json
    assert {n["kind"] for n in asked} == {"series_continues"}
    assert [t["id"] for t in client.get(OPEN, query_string=NEAR, headers=ben.headers).json] == []
    refused = client.post(f"{TASKS}/{visits[0]['id']}/accept", headers=ben.headers)
    assert refused.status_code == 409 and "previous helpers" in refused.json["detail"]
    for_amy = client.get(OPEN, query_string=NEAR, headers=amy.headers).json
    assert {t["id"] for t in for_amy} == {v["id"] for v in visits}
    assert client.post(f"{TASKS}/{visits[0]['id']}/accept", headers=amy.headers).status_code == 200


def test_ending_a_series_cancels_its_visits_not_yet_done(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    series = weekly(client, nurse)
    amy = volunteer(app, world, borough)
    client.post(f"{TASKS}/{series['upcoming'][0]['id']}/accept", headers=amy.headers)
    ended = client.post(
        f"{SERIES}/{series['id']}/end",
        json={"reason": "Moved to a care home"},
        headers=nurse.headers,
    )
    assert ended.status_code == 200 and ended.json["status"] == "ended"
    assert {t.status for t in occurrences(app, borough, series["id"])} == {"cancelled"}
    assert (
        client.get("/api/v1/tenants/borough/notifications", headers=amy.headers).json[0]["kind"]
        == "task_cancelled"
    )
    run_generator(app, borough, days_later=14)
    assert len(occurrences(app, borough, series["id"])) == 2  # no more after the end
    again = client.post(f"{SERIES}/{series['id']}/end", json={"reason": "x"}, headers=nurse.headers)
    assert again.status_code == 409
    late = client.post(f"{SERIES}/{series['id']}/accept", headers=amy.headers)
    assert late.status_code == 404  # an ended series is no longer offered


def test_the_scheduled_job_generates_for_its_tenant_only(
    app: Flask, client: FlaskClient, borough: Any, nurse: Person
) -> None:
    series = weekly(client, nurse)
    with app.app_context(), tenant_scope(borough.id):
        db.session.execute(
            TaskSeries.__table__.update().values(generated_until=utcnow() - timedelta(days=1))
        )
        db.session.commit()
    with app.app_context():
        assert generate_series_occurrences(str(borough.id)) == 0  # nothing new: no duplicates
    assert len(occurrences(app, borough, series["id"])) == 2


def test_another_tenants_series_is_not_found(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    series = weekly(client, nurse)
    other = world.tenant("elsewhere")

    for role in (Role.VOLUNTEER, Role.COORDINATOR):
        stranger = world.person(other, role)
        url = f"/api/v1/tenants/elsewhere/series/{series['id']}"
        assert client.get(url, headers=stranger.headers).status_code == 404
        assert client.post(f"{url}/accept", headers=stranger.headers).status_code == 404
