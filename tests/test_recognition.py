"""Recognition: badges at their thresholds, awarded once, the opt-out, thumbs-up, the
leaderboard switch, and the volunteer's activity record (CSV, PDF, public check)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pypdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import func, select

from nyby.auth.permissions import Role
from nyby.clients.models import Client
from nyby.configuration.models import VolunteerRole
from nyby.configuration.services import InvalidConfiguration, load_document
from nyby.core.db import db, utcnow
from nyby.geo import Place
from nyby.notifications.models import Notification
from nyby.notifications.services import message_text
from nyby.recognition.jobs import award_badges
from nyby.recognition.models import Badge
from nyby.tasks.models import Task
from nyby.tenancy.context import tenant_scope
from tests.conftest import Person, World, all_at_once, run_jobs
from tests.seed import configuration_document
from tests.tasking import post_task, volunteer

API = "/api/v1/tenants/borough"
OFF = None  # a milestone that gives no badges


def set_recognition(client: FlaskClient, admin: Person, **milestones: Any) -> Any:
    """Only the milestones named give badges; ``leaderboard`` switches it."""
    leaderboard = milestones.pop("leaderboard", False)
    body = {
        "leaderboard": leaderboard,
        "milestones": {
            name: OFF
            for name in ("tasks_completed", "hours", "clients_helped", "years_active", "thanks")
        }
        | {
            name: dict(zip(("bronze", "silver", "gold"), tiers, strict=True))
            for name, tiers in milestones.items()
        },
    }
    current = client.get(f"{API}/recognition", headers=admin.headers)
    response = client.put(
        f"{API}/recognition",
        json=body,
        headers={**admin.headers, "If-Match": current.headers["ETag"]},
    )
    assert response.status_code == 200, response.json
    return response.json


def completed(
    app: Flask,
    tenant: Any,
    helper: Person,
    poster: Person,
    count: int,
    *,
    minutes: int = 60,
    clients: int = 0,
    first_days_ago: int = 1,
) -> None:
    """``count`` completed tasks (``clients`` of them for different people, the first
    completed ``first_days_ago`` days ago), written straight to the database."""
    assert helper.membership is not None and poster.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        role = db.session.scalars(select(VolunteerRole).where(VolunteerRole.key == "shopper")).one()
        people = [
            Client(name=f"Client {i}", **Place(51.5, -0.14).columns()) for i in range(clients)
        ]
        db.session.add_all(people)
        db.session.flush()
        now = utcnow()
        for i in range(count):
            at = now - timedelta(days=first_days_ago if i == 0 else 0, hours=1)
            db.session.add(
                Task(
                    role_id=role.id,
                    posted_by=poster.membership.id,
                    client_id=people[i].id if i < clients else None,
                    title=f"Shop {i}",
                    estimated_minutes=60,
                    earliest_start=at - timedelta(hours=2),
                    due_by=at + timedelta(hours=2),
                    status="completed",
                    assignee_id=helper.membership.id,
                    assigned_at=at - timedelta(hours=1),
                    completed_at=at,
                    minutes_spent=minutes,
                )
            )
        db.session.commit()


def award(app: Flask, tenant: Any) -> int:
    with app.app_context():
        return int(award_badges(str(tenant.id)))


def badges(app: Flask, tenant: Any, person: Person) -> set[tuple[str, str]]:
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        rows = db.session.execute(
            select(Badge.milestone, Badge.tier).where(Badge.member_id == person.membership.id)
        ).tuples()
        return set(rows)


def badge_notices(app: Flask, tenant: Any, person: Person) -> int:
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        return int(
            db.session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(
                    Notification.recipient_id == person.membership.id,
                    Notification.kind == "badge_awarded",
                )
            )
        )


@pytest.fixture
def admin(world: World, borough: Any) -> Person:
    return world.person(borough, Role.ADMIN, Role.COORDINATOR)


def test_a_tenant_that_says_nothing_gets_sensible_defaults_and_no_leaderboard(
    client: FlaskClient, borough: Any, admin: Person
) -> None:
    settings = client.get(f"{API}/recognition", headers=admin.headers).json
    assert settings["leaderboard"] is False
    assert settings["milestones"]["tasks_completed"] == {"bronze": 5, "silver": 25, "gold": 100}
    assert set(settings["milestones"]) == {
        "tasks_completed",
        "hours",
        "clients_helped",
        "years_active",
        "thanks",
    }
    assert client.get(f"{API}/leaderboard", headers=admin.headers).status_code == 404


def test_the_tenant_file_section_is_validated(borough: Any) -> None:
    document = configuration_document(borough)
    document["recognition"] = {"milestones": {"hours": {"bronze": 50, "silver": 10, "gold": 100}}}
    with pytest.raises(InvalidConfiguration) as refused:
        load_document(document)
    assert "recognition.milestones.hours" in "\n".join(refused.value.lines)
    document["recognition"] = {"leaderboard": True, "milestones": {"thanks": None}}
    loaded = load_document(document)["recognition"]
    assert loaded["leaderboard"] is True
    assert loaded["milestones"]["thanks"] is None
    assert loaded["milestones"]["hours"] == {"bronze": 10, "silver": 50, "gold": 200}


def test_settings_are_for_admins_and_need_if_match(
    app: Flask, client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    amy = volunteer(app, world, borough)
    body = {"leaderboard": True}
    assert client.put(f"{API}/recognition", json=body, headers=amy.headers).status_code == 403
    assert client.put(f"{API}/recognition", json=body, headers=admin.headers).status_code == 428
    stale = {**admin.headers, "If-Match": '"stale"'}
    assert client.put(f"{API}/recognition", json=body, headers=stale).status_code == 412


def test_badges_are_awarded_below_at_and_above_the_thresholds(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    set_recognition(client, admin, tasks_completed=(2, 3, 4), hours=(10, 20, 30))
    below, at, above = (volunteer(app, world, borough) for _ in range(3))
    completed(app, borough, below, nurse, 1, minutes=599)  # 9 hours 59 minutes
    completed(app, borough, at, nurse, 2, minutes=300)  # 10 hours exactly
    completed(app, borough, above, nurse, 5, minutes=420)  # 35 hours
    assert award(app, borough) == 2 + 6  # at: both bronzes; above: every tier of both
    assert badges(app, borough, below) == set()
    assert badges(app, borough, at) == {("tasks_completed", "bronze"), ("hours", "bronze")}
    assert badges(app, borough, above) == {
        (milestone, tier)
        for milestone in ("tasks_completed", "hours")
        for tier in ("bronze", "silver", "gold")
    }
    mine = client.get(f"{API}/me/recognition", headers=at.headers).json
    tasks = next(p for p in mine["progress"] if p["milestone"] == "tasks_completed")
    assert tasks == {
        "milestone": "tasks_completed",
        "value": 2,
        "tier": "bronze",
        "next_tier": "silver",
        "next_threshold": 3,
        "to_go": 1,
    }
    # The notice names the badge, in English here.
    notices = client.get(f"{API}/notifications", headers=at.headers).json
    texts = [n["message"] for n in notices if n["kind"] == "badge_awarded"]
    assert "A bronze badge for you: 2 tasks completed. Thank you for your help!" in texts


def test_clients_helped_and_years_active_come_from_the_data(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    set_recognition(client, admin, clients_helped=(2, 3, 4), years_active=(1, 2, 3))
    veteran, newcomer = volunteer(app, world, borough), volunteer(app, world, borough)
    completed(app, borough, veteran, nurse, 3, clients=3, first_days_ago=2 * 365 + 2)
    # Not yet a year (363 days and an hour: 364 and an hour is a year by the date in the
    # first hour of a day).
    completed(app, borough, newcomer, nurse, 3, clients=1, first_days_ago=363)
    award(app, borough)
    assert badges(app, borough, veteran) == {
        ("clients_helped", "bronze"),
        ("clients_helped", "silver"),
        ("years_active", "bronze"),
        ("years_active", "silver"),
    }
    assert badges(app, borough, newcomer) == set()


def test_a_rerun_or_two_jobs_at_once_award_and_notify_once(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    set_recognition(client, admin, tasks_completed=(1, 2, 3))
    amy = volunteer(app, world, borough)
    completed(app, borough, amy, nurse, 2)
    results = all_at_once([lambda: award(app, borough), lambda: award(app, borough)])
    assert sorted(results) == [0, 2]
    assert award(app, borough) == 0
    assert badges(app, borough, amy) == {
        ("tasks_completed", "bronze"),
        ("tasks_completed", "silver"),
    }
    assert badge_notices(app, borough, amy) == 2


def test_completing_a_task_awards_at_once(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    set_recognition(client, admin, tasks_completed=(1, 2, 3))
    amy = volunteer(app, world, borough)
    task = post_task(client, nurse).json
    for step, body in (("accept", None), ("start", None), ("complete", {"minutes_spent": 45})):
        response = client.post(f"{API}/tasks/{task['id']}/{step}", json=body, headers=amy.headers)
        assert response.status_code == 200, response.json
    run_jobs(app)
    assert badges(app, borough, amy) == {("tasks_completed", "bronze")}


def test_someone_who_opts_out_gets_no_badges_no_notices_and_no_place(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    set_recognition(client, admin, tasks_completed=(1, 2, 3), leaderboard=True)
    amy, ben = volunteer(app, world, borough), volunteer(app, world, borough)
    # Only a JSON true or false says it (a 0 or "no" from a broken client is refused).
    unclear = client.put(f"{API}/me/recognition", json={"opted_out": 0}, headers=amy.headers)
    assert unclear.status_code == 422 and "opted_out" in unclear.json["errors"]["json"]
    out = client.put(f"{API}/me/recognition", json={"opted_out": True}, headers=amy.headers)
    assert out.json == {"opted_out": True, "badges": [], "progress": []}
    completed(app, borough, amy, nurse, 3)
    completed(app, borough, ben, nurse, 1)
    award(app, borough)
    assert badges(app, borough, amy) == set()
    assert badge_notices(app, borough, amy) == 0
    board = client.get(f"{API}/leaderboard", headers=ben.headers).json
    assert [row["name"] for row in board] == [ben.account.name]
    assert client.get(f"{API}/me/activity-record", headers=amy.headers).json["badges"] == []
    # Back in: the badges come with the next run.
    client.put(f"{API}/me/recognition", json={"opted_out": False}, headers=amy.headers)
    assert award(app, borough) == 3
    assert len(client.get(f"{API}/me/recognition", headers=amy.headers).json["badges"]) == 3


def test_coordinators_thumbs_up_count(
    app: Flask, client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    set_recognition(client, admin, thanks=(2, 4, 6))
    amy = volunteer(app, world, borough)
    assert amy.membership is not None
    for _ in range(2):
        sent = client.post(
            f"{API}/members/{amy.membership.id}/thanks",
            json={"note": "Lovely"},
            headers=admin.headers,
        )
        assert sent.status_code == 201
    award(app, borough)
    assert badges(app, borough, amy) == {("thanks", "bronze")}
    seen = client.get(f"{API}/members/{amy.membership.id}/badges", headers=admin.headers).json
    assert [(b["milestone"], b["tier"], b["value"]) for b in seen["badges"]] == [
        ("thanks", "bronze", 2)
    ]


def test_the_leaderboard_is_off_by_default_and_shows_names_only_when_on(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    amy, ben = volunteer(app, world, borough), volunteer(app, world, borough)
    completed(app, borough, amy, nurse, 2)
    completed(app, borough, ben, nurse, 3)
    assert client.get(f"{API}/leaderboard", headers=amy.headers).status_code == 404
    set_recognition(client, admin, tasks_completed=(1, 2, 3), leaderboard=True)
    award(app, borough)
    board = client.get(f"{API}/leaderboard", headers=amy.headers).json
    assert board == [
        {"rank": 1, "name": ben.account.name, "tasks_completed": 3, "badges": 3},
        {"rank": 2, "name": amy.account.name, "tasks_completed": 2, "badges": 2},
    ]


def signed_in(app: Flask, person: Person, locale: str | None = None) -> FlaskClient:
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["account_id"] = str(person.account.id)
        if locale:
            session["locale"] = locale
    return browser


def test_the_activity_record_holds_the_figures_and_no_client_data(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    set_recognition(client, admin, tasks_completed=(1, 5, 10))
    amy = volunteer(app, world, borough)
    assert amy.membership is not None
    task = post_task(client, nurse).json  # for Edith Clark, 12 Example Road
    client.post(f"{API}/tasks/{task['id']}/accept", headers=amy.headers)
    client.post(f"{API}/tasks/{task['id']}/start", headers=amy.headers)
    client.post(
        f"{API}/tasks/{task['id']}/complete",
        json={"minutes_spent": 90, "outcome_note": "Edith Clark was well."},
        headers=amy.headers,
    )
    client.post(f"{API}/tasks/{task['id']}/feedback", json={"rating": 4}, headers=nurse.headers)
    client.post(f"{API}/members/{amy.membership.id}/thanks", json={}, headers=admin.headers)
    run_jobs(app)
    issued = client.post(f"{API}/me/activity-records", headers=amy.headers)
    assert issued.status_code == 201, issued.json
    record = issued.json
    assert len(record["code"]) == 32  # 128 bits
    figures = record["figures"]
    assert (figures["tasks_completed"], figures["hours"], figures["clients_helped"]) == (1, 1.5, 1)
    assert figures["by_role"] == [{"role": "Shopper", "tasks": 1, "hours": 1.5}]
    assert [c["check"] for c in figures["checks"]] == ["Basic DBS"]
    assert figures["checks"][0]["valid_until"] is not None
    assert (figures["thanks_received"], figures["ratings"], figures["average_rating"]) == (
        1,
        1,
        4.0,
    )
    assert [(b["milestone"], b["tier"]) for b in figures["badges"]] == [
        ("tasks_completed", "bronze")
    ]

    as_csv = client.get(f"{API}/activity-records/{record['id']}/csv", headers=amy.headers)
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    values = {row[1]: row[2:] for row in rows[1:]}
    assert values["Name"] == [amy.account.name, ""]
    assert values["Tasks completed"] == ["1", ""]
    assert values["Hours"] == ["1.5", ""]
    assert values["Shopper"] == ["1", "1.5 hours"]
    assert values["Verification code"] == [record["code"], ""]
    assert values["Feedback ratings"] == ["1", "average 4 out of 5"]

    as_pdf = client.get(f"{API}/activity-records/{record['id']}/pdf", headers=amy.headers)
    assert as_pdf.status_code == 200 and as_pdf.mimetype == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(as_pdf.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in (amy.account.name, "Tasks completed", "1.5", record["code"], "Basic DBS"):
        assert expected in text, expected
    assert record["verify_url"] in text.replace("\n", "")
    for document in (as_csv.text, text):
        for secret in ("Edith", "Clark", "12 Example Road", "was well"):
            assert secret not in document


def test_a_record_is_verified_by_its_code_as_issued_and_a_wrong_code_is_404(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    amy = volunteer(app, world, borough)
    completed(app, borough, amy, nurse, 2, minutes=30)
    record = client.post(f"{API}/me/activity-records", headers=amy.headers).json
    completed(app, borough, amy, nurse, 5)  # later work does not change what was issued
    employer = app.test_client()  # nobody logged in
    page = employer.get(f"/t/borough/verify/{record['code']}")
    assert page.status_code == 200
    assert "This activity record is genuine" in page.text
    assert amy.account.name in page.text and "Borough" in page.text
    facts = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "Tasks completed 2 " in facts and "Hours 1 " in facts
    assert page.headers["Referrer-Policy"] == "no-referrer"
    wrong = employer.get(f"/t/borough/verify/{'0' * 32}")
    assert wrong.status_code == 404
    assert amy.account.name not in wrong.text
    assert employer.get("/t/borough/verify/x").status_code == 404


def test_wrong_codes_are_rate_limited(app: Flask, world: World, borough: Any) -> None:
    employer = app.test_client()
    statuses = [
        employer.get(
            f"/t/borough/verify/{i:032d}", environ_base={"REMOTE_ADDR": "198.51.100.7"}
        ).status_code
        for i in range(21)
    ]
    assert statuses == [404] * 20 + [429]


def test_another_tenants_records_and_codes_are_404(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    amy = volunteer(app, world, borough)
    record = client.post(f"{API}/me/activity-records", headers=amy.headers).json
    other = world.tenant("elsewhere")
    their_admin = world.person(other, Role.ADMIN, Role.COORDINATOR)
    for suffix in ("", "/csv", "/pdf"):
        url = f"/api/v1/tenants/elsewhere/activity-records/{record['id']}{suffix}"
        assert client.get(url, headers=their_admin.headers).status_code == 404
    assert app.test_client().get(f"/t/elsewhere/verify/{record['code']}").status_code == 404
    # Another volunteer of the same tenant cannot read it either; a coordinator can.
    ben = volunteer(app, world, borough)
    url = f"{API}/activity-records/{record['id']}"
    assert client.get(url, headers=ben.headers).status_code == 404
    coordinator = world.person(borough, Role.COORDINATOR)
    assert client.get(url, headers=coordinator.headers).status_code == 200


def test_the_pages_work_in_norwegian(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    set_recognition(client, admin, tasks_completed=(1, 2, 3), leaderboard=True)
    amy = volunteer(app, world, borough)
    completed(app, borough, amy, nurse, 1)
    award(app, borough)
    browser = signed_in(app, amy, "nb")
    badges_page = browser.get("/t/borough/me/badges")
    assert badges_page.status_code == 200
    assert "Mine merker" in badges_page.text and "Bronse" in badges_page.text
    record_page = browser.get("/t/borough/me/record")
    assert record_page.status_code == 200 and "Min aktivitetsattest" in record_page.text
    board = browser.get("/t/borough/leaderboard")
    assert board.status_code == 200 and amy.account.name in board.text
    with app.test_request_context(), force_locale("nb"):
        text = message_text(
            "badge_awarded", {"tier": "bronze", "milestone": "tasks_completed", "threshold": 1}
        )
    assert text == "Et merke i bronse til deg: 1 oppdrag fullført. Takk for hjelpen!"


def test_the_web_opt_out_and_issue_buttons(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    amy = volunteer(app, world, borough)
    browser = signed_in(app, amy)
    page = browser.get("/t/borough/me/badges").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    done = browser.post(
        "/t/borough/me/badges/opt-out", data={"opted_out": "yes", "csrf_token": token[1]}
    )
    assert done.status_code == 303
    assert "Take part again" in browser.get("/t/borough/me/badges").text
    issued = browser.post("/t/borough/me/records", data={"csrf_token": token[1]})
    assert issued.status_code == 303
    record_page = browser.get("/t/borough/me/record").text
    [pdf_link] = re.findall(r'href="(/t/borough/records/[^"]+/pdf)"', record_page)
    download = browser.get(pdf_link)
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert browser.get("/t/borough/leaderboard").status_code == 404
