"""On duty and alert settings: the availability rule the dispatcher asks, the API a
volunteer's phone uses, and the web pages (the switch, the alert settings page)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nyby.auth.permissions import Role
from nyby.configuration import services as configuration
from nyby.configuration.models import VolunteerRole
from nyby.configuration.schemas import DispatchPolicySchema
from nyby.core.db import db, utcnow
from nyby.members.duty import available_for, daily_alert_limit
from nyby.members.models import Membership
from nyby.onboarding.models import RoleAssignment
from nyby.tenancy.context import tenant_scope
from tests.conftest import Person, World, all_at_once
from tests.seed import configuration_document
from tests.tasking import volunteer
from tests.test_web_tasks import csrf, post_form, signed_in

LONDON = ZoneInfo("Europe/London")
OSLO = ZoneInfo("Europe/Oslo")
DUTY = "/api/v1/tenants/borough/me/duty"
ALERTS = "/api/v1/tenants/borough/me/alert-settings"
HOME_AREA = "/api/v1/tenants/borough/home-area"
BOROUGH = "/t/borough"


def _member(**fields: Any) -> Membership:
    fields.setdefault("on_duty", True)
    fields.setdefault("availability", [])
    return Membership(**fields)


def _at(text: str, tz: ZoneInfo = LONDON) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


# -- the rule ------------------------------------------------------------------------------

# A Wednesday afternoon in London, in winter (GMT = UTC).
NOW = _at("2025-01-15T14:00")


def test_off_duty_or_past_until_is_never_available() -> None:
    start, end = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    assert available_for(_member(), start, end, LONDON, NOW)
    assert not available_for(_member(on_duty=False), start, end, LONDON, NOW)
    until_passed = _member(on_duty_until=NOW - timedelta(minutes=1))
    assert not available_for(until_passed, start, end, LONDON, NOW)
    until_ahead = _member(on_duty_until=NOW + timedelta(minutes=1))
    assert available_for(until_ahead, start, end, LONDON, NOW)
    exactly_now = _member(on_duty_until=NOW)
    assert not available_for(exactly_now, start, end, LONDON, NOW), "until is exclusive"


@pytest.mark.parametrize(
    ("local_now", "quiet"),
    [
        ("2025-01-15T21:59", False),
        ("2025-01-15T22:00", True),  # start inclusive
        ("2025-01-15T23:30", True),
        ("2025-01-16T00:00", True),  # across midnight
        ("2025-01-16T06:59", True),
        ("2025-01-16T07:00", False),  # end exclusive
        ("2025-01-16T12:00", False),
    ],
)
def test_quiet_hours_may_cross_midnight(local_now: str, quiet: bool) -> None:
    member = _member(quiet_hours_start=time(22), quiet_hours_end=time(7))
    now = _at(local_now)
    assert available_for(member, now, now + timedelta(hours=1), LONDON, now) is not quiet


def test_quiet_hours_within_a_day_and_in_the_tenants_zone() -> None:
    lunch = _member(quiet_hours_start=time(12), quiet_hours_end=time(13, 30))
    inside, outside = _at("2025-01-15T13:29"), _at("2025-01-15T13:30")
    assert not available_for(lunch, inside, inside + timedelta(hours=1), LONDON, inside)
    assert available_for(lunch, outside, outside + timedelta(hours=1), LONDON, outside)
    # 12:30 UTC is 13:30 in Oslo: quiet hours are read on the tenant's clock.
    utc = datetime(2025, 1, 15, 12, 30, tzinfo=UTC)
    assert not available_for(lunch, utc, utc + timedelta(hours=1), LONDON, utc)
    assert available_for(lunch, utc, utc + timedelta(hours=1), OSLO, utc)


def test_quiet_hours_on_the_day_the_clocks_go_forward() -> None:
    # 30 March 2025, London: 01:00 GMT becomes 02:00 BST. Quiet 22:00-07:00 local.
    member = _member(quiet_hours_start=time(22), quiet_hours_end=time(7))
    six_utc = datetime(2025, 3, 30, 6, 0, tzinfo=UTC)  # 07:00 BST: quiet hours are over
    five_utc = datetime(2025, 3, 30, 5, 59, tzinfo=UTC)  # 06:59 BST
    assert available_for(member, six_utc, six_utc + timedelta(hours=1), LONDON, six_utc)
    assert not available_for(member, five_utc, five_utc + timedelta(hours=1), LONDON, five_utc)


def test_availability_windows_overlap_in_local_time() -> None:
    wednesday_morning = _member(availability=[{"day": "wed", "part": "morning"}])
    now = _at("2025-01-14T09:00")

    def free(start: str, end: str, member: Membership = wednesday_morning) -> bool:
        return available_for(member, _at(start), _at(end), LONDON, now)

    assert free("2025-01-15T09:00", "2025-01-15T10:00")  # inside
    assert free("2025-01-15T11:30", "2025-01-15T13:00"), "a partial overlap is enough"
    assert free("2025-01-15T05:00", "2025-01-15T06:30"), "overlapping the start"
    assert not free("2025-01-15T12:00", "2025-01-15T14:00"), "the window ends at noon"
    assert not free("2025-01-15T04:00", "2025-01-15T06:00"), "and starts at six"
    assert not free("2025-01-16T09:00", "2025-01-16T10:00"), "Thursday"
    assert free("2025-01-13T09:00", "2025-01-16T09:00"), "a long window holds Wednesday"
    assert free("2025-02-01T09:00", "2025-02-20T09:00"), "weeks long: any window meets it"
    evenings = _member(
        availability=[{"day": "fri", "part": "evening"}, {"day": "sat", "part": "afternoon"}]
    )
    assert free("2025-01-17T22:30", "2025-01-18T01:00", evenings), "Friday until 23:00"
    assert not free("2025-01-17T23:00", "2025-01-18T11:00", evenings)
    assert free("2025-01-17T23:00", "2025-01-18T12:01", evenings), "Saturday afternoon"
    assert free("2025-01-15T03:00", "2025-01-15T04:00", _member()), "no windows: any time"


def test_a_moment_counts_when_it_falls_in_a_window() -> None:
    member = _member(availability=[{"day": "wed", "part": "afternoon"}])
    moment = _at("2025-01-15T15:00")
    assert available_for(member, moment, moment, LONDON, NOW)
    assert not available_for(member, _at("2025-01-15T18:00"), _at("2025-01-15T18:00"), LONDON, NOW)


def test_windows_follow_the_wall_clock_across_daylight_saving() -> None:
    sunday_morning = _member(availability=[{"day": "sun", "part": "morning"}])
    now = datetime(2025, 3, 29, 12, 0, tzinfo=UTC)
    # 30 March 2025 (clocks forward): 05:30 UTC is 06:30 BST, inside the morning.
    start = datetime(2025, 3, 30, 5, 30, tzinfo=UTC)
    assert available_for(sunday_morning, start, start + timedelta(minutes=20), LONDON, now)
    # The Sunday before, 05:30 UTC is 05:30 GMT: too early.
    winter = datetime(2025, 3, 23, 5, 30, tzinfo=UTC)
    assert not available_for(sunday_morning, winter, winter + timedelta(minutes=20), LONDON, now)
    # 26 October 2025 (clocks back): 11:30 UTC is 11:30 GMT, still the morning.
    autumn = datetime(2025, 10, 26, 11, 30, tzinfo=UTC)
    assert available_for(sunday_morning, autumn, autumn + timedelta(minutes=20), LONDON, now)
    summer = datetime(2025, 10, 19, 11, 30, tzinfo=UTC)  # 12:30 BST: the afternoon
    assert not available_for(sunday_morning, summer, summer + timedelta(minutes=20), LONDON, now)


def test_the_daily_alert_limit_is_mine_else_the_tenants() -> None:
    policy = DispatchPolicySchema().load({})
    assert policy["max_alerts_per_day"] == 10
    assert daily_alert_limit(_member(), policy) == 10
    assert daily_alert_limit(_member(), {"max_alerts_per_day": 3}) == 3
    assert daily_alert_limit(_member(), {}) == 10, "a policy stored before the field"
    assert daily_alert_limit(_member(max_alerts_per_day=25), {"max_alerts_per_day": 3}) == 25


# -- the API -------------------------------------------------------------------------------


def _etag(client: FlaskClient, url: str, person: Person) -> str:
    return str(client.get(url, headers=person.headers).headers["ETag"])


def _put(client: FlaskClient, url: str, person: Person, body: dict[str, Any]) -> Any:
    headers = {**person.headers, "If-Match": _etag(client, url, person)}
    return client.put(url, json=body, headers=headers)


def _stored(app: Flask, tenant: Any, person: Person) -> Membership:
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        found = db.session.get(Membership, (tenant.id, person.membership.id))
        assert found is not None
        db.session.expunge(found)
        return found


def _with_home(client: FlaskClient, person: Person) -> Person:
    response = client.put(
        HOME_AREA, json={"latitude": 51.5, "longitude": -0.14}, headers=person.headers
    )
    assert response.status_code == 200
    return person


def test_a_volunteer_goes_on_duty_until_a_time_and_off_again(
    app: Flask, client: FlaskClient, world: World, borough: Any
) -> None:
    amy = _with_home(client, volunteer(app, world, borough))
    assert client.get(DUTY, headers=amy.headers).json == {
        "on_duty": False,
        "until": None,
        "needs_home_area": False,
    }
    until = (utcnow() + timedelta(hours=4)).replace(microsecond=0)
    on = _put(client, DUTY, amy, {"on_duty": True, "until": until.isoformat()})
    assert on.status_code == 200, on.json
    assert on.json["on_duty"] is True
    assert datetime.fromisoformat(on.json["until"]) == until
    stored = _stored(app, borough, amy)
    assert stored.on_duty and stored.on_duty_until == until
    off = _put(client, DUTY, amy, {"on_duty": False})
    assert off.json == {"on_duty": False, "until": None, "needs_home_area": False}
    forever = _put(client, DUTY, amy, {"on_duty": True, "until": None})
    assert forever.json["on_duty"] is True and forever.json["until"] is None


def test_duty_that_has_run_out_reads_as_off(
    app: Flask, client: FlaskClient, world: World, borough: Any
) -> None:
    amy = _with_home(client, volunteer(app, world, borough))
    assert amy.membership is not None
    with app.app_context(), tenant_scope(borough.id):
        member = db.session.get(Membership, (borough.id, amy.membership.id))
        assert member is not None
        member.on_duty, member.on_duty_until = True, utcnow() - timedelta(minutes=5)
        db.session.commit()
    assert client.get(DUTY, headers=amy.headers).json["on_duty"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"on_duty": True, "until": "2020-01-01T10:00:00+00:00"},  # in the past
        {"on_duty": True, "until": "2999-01-01T10:00:00"},  # no zone
        {"on_duty": False, "until": "2999-01-01T10:00:00+00:00"},  # off, until what?
        {"on_duty": "perhaps"},
        {"until": "2999-01-01T10:00:00+00:00"},
        {"on_duty": True, "colour": "blue"},
    ],
)
def test_bad_duty_input_is_422_and_changes_nothing(
    app: Flask, client: FlaskClient, world: World, borough: Any, body: dict[str, Any]
) -> None:
    amy = _with_home(client, volunteer(app, world, borough))
    response = _put(client, DUTY, amy, body)
    assert response.status_code == 422, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    assert _stored(app, borough, amy).on_duty is False


def test_going_on_duty_needs_a_home_area_unless_every_role_is_remote(
    app: Flask, client: FlaskClient, world: World, borough: Any
) -> None:
    amy = volunteer(app, world, borough)
    assert client.get(DUTY, headers=amy.headers).json["needs_home_area"] is True
    refused = _put(client, DUTY, amy, {"on_duty": True})
    assert refused.status_code == 422
    assert "home area" in refused.json["detail"] and "on_duty" in refused.json["errors"]
    assert _stored(app, borough, amy).on_duty is False
    _with_home(client, amy)
    assert _put(client, DUTY, amy, {"on_duty": True}).status_code == 200

    # A telephone befriender (a remote role only) needs no home area.
    document = configuration_document(borough)
    document["roles"].append(
        {"key": "caller", "name": "Phone befriender", "description": "Calls.", "remote": True}
    )
    with app.app_context():
        configuration.apply(db.session(), document)
        db.session.commit()
    bea = world.person(borough, Role.VOLUNTEER)
    assert bea.membership is not None
    assert _put(client, DUTY, bea, {"on_duty": True}).status_code == 422, "no roles held yet"
    with app.app_context(), tenant_scope(borough.id):
        caller = db.session.scalars(select(VolunteerRole).where(VolunteerRole.key == "caller"))
        db.session.add(
            RoleAssignment(
                membership_id=bea.membership.id, role_id=caller.one().id, status="approved"
            )
        )
        db.session.commit()
    assert client.get(DUTY, headers=bea.headers).json["needs_home_area"] is False
    assert _put(client, DUTY, bea, {"on_duty": True}).status_code == 200


def test_only_volunteers_and_staff_go_on_duty(
    client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    assert client.get(DUTY, headers=nurse.headers).status_code == 403
    refused = client.put(DUTY, json={"on_duty": True}, headers={**nurse.headers, "If-Match": '"x"'})
    assert refused.status_code == 403
    assert client.get(ALERTS, headers=nurse.headers).status_code == 403
    staff = world.person(borough, Role.STAFF)
    assert client.get(DUTY, headers=staff.headers).status_code == 200


def test_updates_need_the_etag_and_two_devices_at_once_have_one_outcome(
    app: Flask, client: FlaskClient, world: World, borough: Any
) -> None:
    amy = _with_home(client, volunteer(app, world, borough))
    assert client.put(DUTY, json={"on_duty": True}, headers=amy.headers).status_code == 428
    headers = {**amy.headers, "If-Match": _etag(client, DUTY, amy)}
    soon, later = (utcnow() + timedelta(hours=h) for h in (1, 4))
    # Two phones switch at once from the same state: one wins, the other is told to reload.
    codes = all_at_once(
        [
            lambda until=until: (
                app.test_client()
                .put(DUTY, json={"on_duty": True, "until": until.isoformat()}, headers=headers)
                .status_code
            )
            for until in (soon, later)
        ]
    )
    assert sorted(codes) == [200, 412]
    winner = soon if codes[0] == 200 else later
    assert _stored(app, borough, amy).on_duty_until == winner
    stale = client.put(DUTY, json={"on_duty": False}, headers=headers)
    assert stale.status_code == 412 and _stored(app, borough, amy).on_duty

    alerts_etag = _etag(client, ALERTS, amy)
    alert_headers = {**amy.headers, "If-Match": alerts_etag}
    codes = all_at_once(
        [
            lambda limit=limit: (
                app.test_client()
                .put(ALERTS, json={"max_alerts_per_day": limit}, headers=alert_headers)
                .status_code
            )
            for limit in (3, 30)
        ]
    )
    assert sorted(codes) == [200, 412]
    kept = client.get(ALERTS, headers=amy.headers).json["max_alerts_per_day"]
    assert kept in (3, 30)
    assert _stored(app, borough, amy).max_alerts_per_day == kept


def test_alert_settings_are_saved_and_read_back(
    app: Flask, client: FlaskClient, world: World, borough: Any
) -> None:
    amy = volunteer(app, world, borough)
    before = client.get(ALERTS, headers=amy.headers).json
    assert before == {
        "max_alerts_per_day": None,
        "daily_limit": 10,
        "quiet_hours_start": None,
        "quiet_hours_end": None,
        "preferred_roles": [],
        "availability": [],
        "languages": [],
    }
    settings = {
        "max_alerts_per_day": 4,
        "quiet_hours_start": "22:00",
        "quiet_hours_end": "07:30",
        "preferred_roles": ["shopper"],
        "availability": [{"day": "mon", "part": "evening"}, {"day": "sat", "part": "morning"}],
        "languages": ["pl", "en"],
    }
    saved = _put(client, ALERTS, amy, settings)
    assert saved.status_code == 200, saved.json
    assert saved.json == {**settings, "daily_limit": 4}
    stored = _stored(app, borough, amy)
    assert stored.quiet_hours_start == time(22) and stored.quiet_hours_end == time(7, 30)
    assert stored.languages == ["pl", "en"] and stored.preferred_roles == ["shopper"]
    # A PUT is the whole: left out means back to the default.
    cleared = _put(client, ALERTS, amy, {})
    assert cleared.json == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"max_alerts_per_day": 0}, "max_alerts_per_day"),
        ({"max_alerts_per_day": 101}, "max_alerts_per_day"),
        ({"max_alerts_per_day": "5"}, "max_alerts_per_day"),
        ({"quiet_hours_start": "22:00"}, "quiet_hours_end"),
        ({"quiet_hours_end": "07:00"}, "quiet_hours_start"),
        ({"quiet_hours_start": "25:00", "quiet_hours_end": "07:00"}, "quiet_hours_start"),
        ({"quiet_hours_start": "07:00", "quiet_hours_end": "07:00"}, "quiet_hours_end"),
        ({"preferred_roles": ["no-such-role"]}, "preferred_roles"),
        ({"preferred_roles": ["shopper", "shopper"]}, "preferred_roles"),
        ({"availability": [{"day": "someday", "part": "morning"}]}, "availability"),
        ({"availability": [{"day": "mon", "part": "night"}]}, "availability"),
        (
            {
                "availability": [
                    {"day": "mon", "part": "evening"},
                    {"day": "mon", "part": "evening"},
                ]
            },
            "availability",
        ),
        ({"languages": ["english"]}, "languages"),
        ({"languages": ["pl", "pl"]}, "languages"),
    ],
)
def test_bad_alert_settings_are_422_naming_the_field_and_save_nothing(
    app: Flask, client: FlaskClient, world: World, borough: Any, body: dict[str, Any], field: str
) -> None:
    amy = volunteer(app, world, borough)
    good = {"max_alerts_per_day": 5, "languages": ["en"]}
    response = _put(client, ALERTS, amy, {**good, **body})
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert field in errors.get("json", errors), errors
    stored = _stored(app, borough, amy)
    assert stored.max_alerts_per_day is None and stored.languages == []


def test_an_inactive_role_cannot_be_preferred(
    app: Flask, client: FlaskClient, world: World, borough: Any
) -> None:
    amy = volunteer(app, world, borough)
    with app.app_context(), tenant_scope(borough.id):
        db.session.scalars(select(VolunteerRole)).one().is_active = False
        db.session.commit()
    response = _put(client, ALERTS, amy, {"preferred_roles": ["shopper"]})
    assert response.status_code == 422 and "shopper" in response.json["detail"]


def test_another_tenants_duty_urls_are_404(
    app: Flask, client: FlaskClient, world: World, borough: Any
) -> None:
    amy = _with_home(client, volunteer(app, world, borough))
    other = world.tenant("elsewhere")
    world.person(other, Role.VOLUNTEER)
    for url in ("/api/v1/tenants/elsewhere/me/duty", "/api/v1/tenants/elsewhere/me/alert-settings"):
        assert client.get(url, headers=amy.headers).status_code == 404
        put = client.put(url, json={"on_duty": True}, headers={**amy.headers, "If-Match": '"x"'})
        assert put.status_code == 404
    assert _stored(app, borough, amy).on_duty is False


# -- the web pages -------------------------------------------------------------------------


def test_the_switch_on_the_home_page_goes_on_duty_for_four_hours(
    app: Flask, client: FlaskClient, world: World, borough: Any
) -> None:
    amy = _with_home(client, volunteer(app, world, borough))
    browser = signed_in(app, amy)
    home = browser.get(f"{BOROUGH}/").text
    assert "You are off duty" in home and "Go on duty" in home
    near = browser.get(f"{BOROUGH}/tasks/near").text
    assert "Go on duty" in near
    done = post_form(browser, f"{BOROUGH}/me/duty", {"on_duty": "on", "until": "4h"}, f"{BOROUGH}/")
    assert done.status_code == 303 and done.headers["Location"].endswith(f"{BOROUGH}/")
    stored = _stored(app, borough, amy)
    assert stored.on_duty and stored.on_duty_until is not None
    left = stored.on_duty_until - utcnow()
    assert timedelta(hours=3, minutes=59) < left <= timedelta(hours=4)
    page = browser.get(f"{BOROUGH}/").text
    assert "You are on duty until" in page and "Go off duty" in page
    back_to = post_form(
        browser, f"{BOROUGH}/me/duty", {"on_duty": "off", "back": "near"}, f"{BOROUGH}/"
    )
    assert back_to.headers["Location"].endswith(f"{BOROUGH}/tasks/near")
    assert _stored(app, borough, amy).on_duty is False


def test_end_of_day_and_until_switched_off(
    app: Flask, client: FlaskClient, world: World, borough: Any
) -> None:
    amy = _with_home(client, volunteer(app, world, borough))
    browser = signed_in(app, amy)
    post_form(browser, f"{BOROUGH}/me/duty", {"on_duty": "on", "until": "eod"}, f"{BOROUGH}/")
    until = _stored(app, borough, amy).on_duty_until
    assert until is not None
    local = until.astimezone(LONDON)
    assert (local.hour, local.minute) == (0, 0) and until > utcnow()
    assert until - utcnow() <= timedelta(hours=25)
    post_form(browser, f"{BOROUGH}/me/duty", {"on_duty": "on", "until": ""}, f"{BOROUGH}/")
    stored = _stored(app, borough, amy)
    assert stored.on_duty and stored.on_duty_until is None
    assert "You are on duty until you switch off" in browser.get(f"{BOROUGH}/").text
    bad = post_form(browser, f"{BOROUGH}/me/duty", {"on_duty": "on", "until": "1y"}, f"{BOROUGH}/")
    assert bad.status_code == 400


def test_no_home_area_says_so_with_a_link(app: Flask, world: World, borough: Any) -> None:
    amy = volunteer(app, world, borough)
    browser = signed_in(app, amy)
    home = browser.get(f"{BOROUGH}/").text
    assert f'href="{BOROUGH}/settings"' in home and "Set your home area" in home
    refused = post_form(browser, f"{BOROUGH}/me/duty", {"on_duty": "on"}, f"{BOROUGH}/")
    assert refused.status_code == 303
    assert "home area" in browser.get(f"{BOROUGH}/").text
    assert _stored(app, borough, amy).on_duty is False


def test_the_alert_settings_page_saves_and_shows_mistakes(
    app: Flask, world: World, borough: Any
) -> None:
    amy = volunteer(app, world, borough)
    browser = signed_in(app, amy)
    page = browser.get(f"{BOROUGH}/me/alerts").text
    assert "Alert settings" in page and 'name="availability" value="mon-morning"' in page
    assert 'value="shopper"' in page, "the roles they hold"
    assert f'href="{BOROUGH}/me/alerts"' in page, "in the menu"
    wrong = post_form(
        browser,
        f"{BOROUGH}/me/alerts",
        {"max_alerts_per_day": "500", "quiet_hours_start": "22:00", "version": _version(page)},
    )
    assert wrong.status_code == 422
    assert "Between 1 and 100." in wrong.text and 'value="500"' in wrong.text
    half = post_form(
        browser,
        f"{BOROUGH}/me/alerts",
        {"quiet_hours_start": "22:00", "version": _version(page)},
    )
    assert half.status_code == 422 and 'value="22:00"' in half.text
    assert "Give both the start and the end of quiet hours." in half.text
    assert _stored(app, borough, amy).max_alerts_per_day is None
    saved = browser.post(
        f"{BOROUGH}/me/alerts",
        data={
            "csrf_token": csrf(page),
            "version": _version(page),
            "max_alerts_per_day": "3",
            "quiet_hours_start": "21:30",
            "quiet_hours_end": "08:00",
            "preferred_roles": "shopper",
            "availability": ["tue-evening", "sun-morning"],
            "languages": ["pl", "ur"],
            "other_languages": "fr",
        },
    )
    assert saved.status_code == 303
    stored = _stored(app, borough, amy)
    assert stored.max_alerts_per_day == 3
    assert (stored.quiet_hours_start, stored.quiet_hours_end) == (time(21, 30), time(8))
    assert stored.availability == [
        {"day": "tue", "part": "evening"},
        {"day": "sun", "part": "morning"},
    ]
    assert stored.languages == ["pl", "ur", "fr"] and stored.preferred_roles == ["shopper"]
    again = browser.get(f"{BOROUGH}/me/alerts").text
    assert 'value="21:30"' in again and 'value="08:00"' in again
    assert re.search(r'value="tue-evening"\s[^>]*checked', again)
    assert not re.search(r'value="mon-morning"\s[^>]*checked', again)
    assert 'value="fr"' in again, "typed languages come back as typed"


def _version(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found
    return found[1]


def test_a_stale_alert_settings_page_does_not_overwrite_a_newer_save(
    app: Flask, world: World, borough: Any
) -> None:
    amy = volunteer(app, world, borough)
    phone, laptop = signed_in(app, amy), signed_in(app, amy)
    on_phone = phone.get(f"{BOROUGH}/me/alerts").text
    on_laptop = laptop.get(f"{BOROUGH}/me/alerts").text
    first = phone.post(
        f"{BOROUGH}/me/alerts",
        data={
            "csrf_token": csrf(on_phone),
            "version": _version(on_phone),
            "max_alerts_per_day": "2",
        },
    )
    assert first.status_code == 303
    second = laptop.post(
        f"{BOROUGH}/me/alerts",
        data={
            "csrf_token": csrf(on_laptop),
            "version": _version(on_laptop),
            "max_alerts_per_day": "50",
        },
    )
    assert second.status_code == 409 and "changed" in second.text
    assert _stored(app, borough, amy).max_alerts_per_day == 2


def test_the_alert_page_is_404_in_another_tenant(app: Flask, world: World, borough: Any) -> None:
    amy = volunteer(app, world, borough)
    world.tenant("elsewhere")
    browser = signed_in(app, amy)
    assert browser.get("/t/elsewhere/me/alerts").status_code == 404
