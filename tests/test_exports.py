"""Admins' exports: the CSV files exactly, progress batch by batch, one file per export
however often its job runs, the sweep after a Redis outage, S3, and who may ask."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine

from nyby.audit.models import AuditEntry
from nyby.auth.permissions import Role
from nyby.clients.models import Client
from nyby.configuration.models import TaskCategory, VolunteerRole
from nyby.core.db import db, simulated_clock, utcnow
from nyby.exports import jobs
from nyby.exports import services as export_services
from nyby.exports.jobs import run_export, send_queued_exports
from nyby.exports.kinds import KINDS
from nyby.exports.models import Export
from nyby.geo import Place
from nyby.integrations.storage import STORAGE_DOWN, S3Storage, StorageUnavailable
from nyby.members.models import Membership
from nyby.onboarding.models import RoleAssignment
from nyby.tasks.models import Task
from nyby.tenancy.context import tenant_scope
from tests.conftest import (
    DownQueue,
    Person,
    S3Endpoint,
    World,
    all_at_once,
    hold_jobs,
    run_jobs,
)

EXPORTS = "/api/v1/tenants/borough/exports"
JAN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # London is on UTC in January
TASK_HEADER = (
    "task_id,client_id,role,category,status,urgency,posted_at,earliest_start,due_by,"
    "assigned_at,started_at,completed_at,estimated_minutes,minutes_spent,area_cell,"
    "posted_by_member_id,assignee_member_id\r\n"
)


def tid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


@pytest.fixture
def admin(world: World, borough: Any) -> Person:
    return world.person(borough, Role.ADMIN)


def add_tasks(app: Flask, tenant: Any, poster: Person, count: int, **fields: Any) -> list[str]:
    """``count`` tasks with ids 1, 2, ... (plus ``first``), posted on 5 January 2026."""
    assert poster.membership is not None
    first = fields.pop("first", 1)
    with app.app_context(), tenant_scope(tenant.id):
        role = db.session.scalars(select(VolunteerRole)).one()
        client = Client(name="Edith Clark", **Place(51.5014, -0.1419).columns())
        db.session.add(client)
        db.session.flush()
        for n in range(first, first + count):
            values = dict(
                id=tid(n),
                client_id=client.id,
                role_id=role.id,
                posted_by=poster.membership.id,
                title=f"Shop {n}",
                estimated_minutes=60,
                earliest_start=JAN + timedelta(hours=1),
                due_by=JAN + timedelta(days=1),
                created_at=JAN + timedelta(days=n - 1),
                area_cell="87195da49ffffff",
            )
            values.update(fields)
            db.session.add(Task(**values))
        db.session.commit()
        return [str(client.id)]


def ask(client: FlaskClient, admin: Person, **body: Any) -> Any:
    response = client.post(EXPORTS, json={"kind": "tasks", **body}, headers=admin.headers)
    assert response.status_code == 201, response.json
    return response.json


def csv_of(client: FlaskClient, admin: Person, export_id: str) -> str:
    shown = client.get(f"{EXPORTS}/{export_id}", headers=admin.headers).json
    assert shown["status"] == "done", shown
    download = client.get(shown["download_url"])
    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith("text/csv")
    return str(download.data.decode("utf-8"))


def test_the_tasks_csv_holds_every_task_of_the_period_and_no_client_details(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    [client_id] = add_tasks(app, borough, nurse, 3)
    assert nurse.membership is not None
    amy = world.person(borough, Role.VOLUNTEER)
    assert amy.membership is not None
    with app.app_context(), tenant_scope(borough.id):
        category = db.session.scalars(select(TaskCategory)).one()
        db.session.execute(
            update(Task)
            .where(Task.id == tid(2))
            .values(
                status="completed",
                category_id=category.id,
                assignee_id=amy.membership.id,
                assigned_at=JAN + timedelta(days=1, hours=2),
                started_at=JAN + timedelta(days=1, hours=3),
                completed_at=JAN + timedelta(days=1, hours=4, minutes=30),
                minutes_spent=75,
            )
        )
        db.session.commit()
    # Another tenant's task never shows.
    other = world.tenant("elsewhere")
    from nyby.configuration import services as configuration
    from tests.seed import configuration_document

    with app.app_context():
        configuration.apply(db.session(), configuration_document(other))
        db.session.commit()
    add_tasks(app, other, world.person(other, Role.PROFESSIONAL), 1, first=9)

    export = ask(client, admin, **{"from": "2026-01-06", "to": "2026-01-07"})
    assert export["status"] == "queued" and export["parameters"] == {
        "from": "2026-01-06",
        "to": "2026-01-07",
    }
    run_jobs(app)
    nurse_id = nurse.membership.id
    assert csv_of(client, admin, export["id"]) == (
        TASK_HEADER
        + f"{tid(2)},{client_id},shopper,shopping,completed,routine,2026-01-06T09:00:00+00:00,"
        "2026-01-05T10:00:00+00:00,2026-01-06T09:00:00+00:00,2026-01-06T11:00:00+00:00,"
        "2026-01-06T12:00:00+00:00,2026-01-06T13:30:00+00:00,60,75,87195da49ffffff,"
        f"{nurse_id},{amy.membership.id}\r\n"
        f"{tid(3)},{client_id},shopper,,open,routine,2026-01-07T09:00:00+00:00,"
        "2026-01-05T10:00:00+00:00,2026-01-06T09:00:00+00:00,,,,60,,87195da49ffffff,"
        f"{nurse_id},\r\n"
    )
    shown = client.get(f"{EXPORTS}/{export['id']}", headers=admin.headers).json
    assert (shown["rows_done"], shown["rows_total"], shown["percent"]) == (2, 2, 100)
    assert shown["file_name"] == "tasks-borough-2026-01-06-2026-01-07.csv"
    # No period: every task of the tenant, in id order.
    everything = ask(client, admin)
    run_jobs(app)
    lines = csv_of(client, admin, everything["id"]).splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [str(tid(n)) for n in (1, 2, 3)]


def test_the_metrics_csv_is_a_row_a_month_of_every_metric(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    add_tasks(app, borough, nurse, 3)  # posted 5, 6 and 7 January
    amy = world.person(borough, Role.VOLUNTEER)
    assert amy.membership is not None
    with app.app_context(), tenant_scope(borough.id):
        db.session.execute(
            update(Task)
            .where(Task.id == tid(2))
            .values(
                status="completed",
                assignee_id=amy.membership.id,
                assigned_at=JAN + timedelta(days=1, hours=2),
                completed_at=JAN + timedelta(days=1, hours=4),
                minutes_spent=75,
            )
        )
        db.session.commit()
    export = ask(client, admin, kind="metrics", **{"from": "2025-12-15", "to": "2026-02-10"})
    run_jobs(app)
    rows = list(csv.DictReader(io.StringIO(csv_of(client, admin, export["id"]))))
    assert [row["month"] for row in rows] == ["2025-12", "2026-01", "2026-02"]
    january = rows[1]
    assert (january["tasks_created"], january["tasks_completed"]) == ("3", "1")
    assert (january["completion_rate"], january["volunteer_hours"]) == ("0.3333", "1.25")
    # 09:00 posted, 11:00 accepted (UTC): two hours.
    assert float(january["time_to_accept_median"]) == 120
    assert rows[0]["tasks_created"] == rows[2]["tasks_created"] == "0"
    assert rows[0]["completion_rate"] == ""  # no tasks: no rate, rather than 0


def test_the_volunteers_csv_and_formula_cells_kept_as_text(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    amy = world.person(borough, Role.VOLUNTEER, email="amy@example.org")
    sly = world.person(borough, Role.VOLUNTEER, email="sly@example.org")
    assert amy.membership is not None and sly.membership is not None
    add_tasks(app, borough, nurse, 3, status="completed", assignee_id=amy.membership.id)
    joined = datetime(2025, 11, 3, 12, 0, tzinfo=UTC)
    with app.app_context(), tenant_scope(borough.id):
        role = db.session.scalars(select(VolunteerRole)).one()
        db.session.add(
            RoleAssignment(
                membership_id=amy.membership.id,
                role_id=role.id,
                status="approved",
                approved_at=datetime(2025, 11, 10, 15, 0, tzinfo=UTC),
            )
        )
        for n, (minutes, day) in enumerate([(90, 5), (30, 6), (45, 20)], start=1):
            db.session.execute(
                update(Task)
                .where(Task.id == tid(n))
                .values(minutes_spent=minutes, completed_at=JAN.replace(day=day))
            )
        for member in db.session.scalars(select(Membership).where(Membership.is_volunteer)):
            member.created_at = joined
        amy_row = db.session.get(Membership, (borough.id, amy.membership.id))
        assert amy_row is not None
        amy_row.first_approved_at = datetime(2025, 11, 10, 15, 0, tzinfo=UTC)
        amy_row.on_duty = True
        # A name a spreadsheet would run as a formula.
        sly_row = db.session.get(Membership, (borough.id, sly.membership.id))
        assert sly_row is not None
        sly_row.account.name = '=HYPERLINK("http://evil.example","Click")'
        sly_row.is_active = False
        db.session.commit()
    export = ask(client, admin, kind="volunteers", **{"from": "2026-01-01", "to": "2026-01-31"})
    run_jobs(app)
    expected = [
        "member_id,name,email,active,joined_at,first_approved_at,roles,roles_approved_at,"
        "on_duty,tasks_completed,hours",
        f"{amy.membership.id},Test Person,amy@example.org,yes,2025-11-03T12:00:00+00:00,"
        "2025-11-10T15:00:00+00:00,shopper,2025-11-10,yes,3,2.75",
        f'{sly.membership.id},"\'=HYPERLINK(""http://evil.example"",""Click"")",'
        "sly@example.org,no,2025-11-03T12:00:00+00:00,,,,no,0,0.00",
    ]
    lines = csv_of(client, admin, export["id"]).split("\r\n")
    assert lines[0] == expected[0]
    assert sorted(lines[1:-1]) == sorted(expected[1:]) and lines[-1] == ""
    # The period counts only what was completed in it.
    january_first_week = ask(
        client, admin, kind="volunteers", **{"from": "2026-01-01", "to": "2026-01-07"}
    )
    run_jobs(app)
    amy_line = next(
        line
        for line in csv_of(client, admin, january_first_week["id"]).splitlines()
        if line.startswith(str(amy.membership.id))
    )
    assert amy_line.endswith(",yes,2,2.00")


def committed_progress(owner_engine: Engine, export_id: str) -> tuple[int, int | None, str]:
    """What any other connection sees of the export now (only what was committed)."""
    with owner_engine.connect() as conn:
        row = conn.execute(
            text("SELECT rows_done, rows_total, status FROM exports WHERE id = :id"),
            {"id": uuid.UUID(export_id) if owner_engine.dialect.name == "postgresql"
             else uuid.UUID(export_id).hex},
        ).one()  # fmt: skip
        return row[0], row[1], row[2]


def test_progress_is_committed_after_every_batch(
    app: Flask,
    client: FlaskClient,
    borough: Any,
    nurse: Person,
    admin: Person,
    owner_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_tasks(app, borough, nurse, 5)
    monkeypatch.setattr(jobs, "BATCH_SIZE", 2)
    seen: list[tuple[int, int | None, str]] = []
    tasks = KINDS["tasks"]
    export_id = ""

    def watched(period: Any, size: int) -> Iterator[list[Any]]:
        for batch in tasks.rows(period, size):
            # The batch before this one is already committed when the next is asked for.
            seen.append(committed_progress(owner_engine, export_id))
            yield batch

    monkeypatch.setitem(KINDS, "tasks", dataclasses.replace(tasks, rows=watched))
    hold_jobs(app, monkeypatch)  # run it by hand
    export_id = ask(client, admin)["id"]
    with app.app_context():
        assert run_export(str(borough.id), export_id) is True
    assert seen == [(0, 5, "running"), (2, 5, "running"), (4, 5, "running")]
    assert committed_progress(owner_engine, export_id) == (5, 5, "done")
    assert len(csv_of(client, admin, export_id).splitlines()) == 6


def stored_files(app: Flask, tenant: Any, export_id: str) -> list[str]:
    folder = app.extensions["nyby.settings"].storage_dir / "tenants" / str(tenant.id) / "exports"
    return sorted(p.name for p in (folder / export_id).iterdir() if p.is_file())


def audited_statuses(app: Flask, tenant: Any, export_id: str) -> list[str]:
    with app.app_context(), tenant_scope(tenant.id):
        entries = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "export", AuditEntry.object_id == export_id)
            .order_by(AuditEntry.at)
        ).all()
        return [e.changes["status"][1] for e in entries if "status" in e.changes]


def test_a_job_run_twice_or_twice_at_once_makes_one_file_done_once(
    app: Flask,
    client: FlaskClient,
    borough: Any,
    nurse: Person,
    admin: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_tasks(app, borough, nurse, 3)
    hold_jobs(app, monkeypatch)
    export_id = ask(client, admin)["id"]

    def run() -> bool:
        with app.app_context():
            return bool(run_export(str(borough.id), export_id))

    assert sorted(all_at_once([run, run])) == [False, True]
    assert run() is False  # retried after it finished: nothing happens
    assert stored_files(app, borough, export_id) == ["tasks-borough.csv"]
    # The trail holds the request and each change of status, "done" once.
    assert audited_statuses(app, borough, export_id) == ["queued", "running", "done"]


def test_asked_for_while_redis_is_down_the_sweep_sends_it(
    app: Flask,
    client: FlaskClient,
    borough: Any,
    nurse: Person,
    admin: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_tasks(app, borough, nurse, 2)
    real = app.extensions["nyby.queue"]
    hold_jobs(app, monkeypatch, DownQueue())
    export = ask(client, admin)  # the request is committed all the same
    run_jobs(app)
    assert client.get(f"{EXPORTS}/{export['id']}", headers=admin.headers).json["status"] == "queued"
    hold_jobs(app, monkeypatch, real)  # Redis is back
    with app.app_context():
        assert send_queued_exports(str(borough.id)) == 0  # still its own job's, for now
    later = utcnow() + jobs.SWEEP_AFTER + timedelta(seconds=1)
    with app.app_context(), simulated_clock(lambda: later):
        assert send_queued_exports(str(borough.id)) == 1
    run_jobs(app)
    assert len(csv_of(client, admin, export["id"]).splitlines()) == 3
    with app.app_context(), simulated_clock(lambda: later):
        assert send_queued_exports(str(borough.id)) == 0  # nothing sent twice


def test_an_export_left_by_a_dead_worker_is_taken_over_then_given_up(
    app: Flask,
    client: FlaskClient,
    borough: Any,
    nurse: Person,
    admin: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_tasks(app, borough, nurse, 1)
    hold_jobs(app, monkeypatch)
    first, second = ask(client, admin)["id"], ask(client, admin)["id"]
    stopped = utcnow() - export_services.STALE_AFTER - timedelta(minutes=1)
    with app.app_context(), tenant_scope(borough.id):
        for export_id, attempts in ((first, 1), (second, export_services.MAX_ATTEMPTS)):
            db.session.execute(
                update(Export)
                .where(Export.id == uuid.UUID(export_id))
                .values(status="running", attempts=attempts, heartbeat_at=stopped)
            )
        db.session.commit()
    sent = hold_jobs(app, monkeypatch)
    with app.app_context():
        assert send_queued_exports(str(borough.id)) == 1
    assert [args[1] for _, args in sent.jobs] == [first]
    with app.app_context():
        assert run_export(str(borough.id), first) is True
    shown = client.get(f"{EXPORTS}/{second}", headers=admin.headers).json
    assert shown["status"] == "failed" and "stopped three times" in shown["error"]


def test_a_failed_export_says_why(
    app: Flask,
    client: FlaskClient,
    borough: Any,
    nurse: Person,
    admin: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_tasks(app, borough, nurse, 1)
    storage = app.extensions["nyby.storage"]

    def down(*args: Any) -> None:
        raise StorageUnavailable(STORAGE_DOWN)

    monkeypatch.setattr(storage, "put", down)
    export = ask(client, admin)
    run_jobs(app)
    shown = client.get(f"{EXPORTS}/{export['id']}", headers=admin.headers).json
    assert (shown["status"], shown["error"], shown["download_url"]) == (
        "failed",
        STORAGE_DOWN,
        None,
    )
    browser = signed_in(app, admin)
    page = browser.get("/t/borough/exports").text
    assert "Failed" in page and STORAGE_DOWN in page


def test_exports_go_to_s3_and_download_through_a_presigned_link(
    app: Flask,
    client: FlaskClient,
    borough: Any,
    nurse: Person,
    admin: Person,
    s3: S3Endpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    add_tasks(app, borough, nurse, 2)
    monkeypatch.setitem(
        app.extensions, "nyby.storage", S3Storage(s3.bucket, endpoint_url=s3.url, region=s3.region)
    )
    export = ask(client, admin)
    run_jobs(app)
    shown = client.get(f"{EXPORTS}/{export['id']}", headers=admin.headers).json
    key = f"tenants/{borough.id}/exports/{export['id']}/tasks-borough.csv"
    stored = s3.client().get_object(Bucket=s3.bucket, Key=key)["Body"].read().decode()
    assert stored.startswith(TASK_HEADER) and len(stored.splitlines()) == 3
    assert shown["download_url"].startswith(s3.url) and "X-Amz-Signature=" in shown["download_url"]
    with urllib.request.urlopen(shown["download_url"]) as response:  # noqa: S310 (moto, local)
        assert response.read().decode() == stored
        assert "tasks-borough.csv" in response.headers["Content-Disposition"]


def test_only_admins_export_and_another_tenants_export_is_404(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    export = ask(client, admin)
    coordinator = world.person(borough, Role.COORDINATOR)
    volunteer = world.person(borough, Role.VOLUNTEER)
    for person in (nurse, coordinator, volunteer):
        assert (
            client.post(EXPORTS, json={"kind": "tasks"}, headers=person.headers).status_code == 403
        )
        assert client.get(EXPORTS, headers=person.headers).status_code == 403
        assert client.get(f"{EXPORTS}/{export['id']}", headers=person.headers).status_code == 404
    browser = signed_in(app, volunteer)
    assert browser.get("/t/borough/exports").status_code == 403
    assert browser.get(f"/t/borough/exports/{export['id']}/download").status_code == 404
    # An admin of another tenant: the export is not theirs to find, by any address.
    other = world.tenant("elsewhere")
    their_admin = world.person(other, Role.ADMIN)
    assert client.get(f"{EXPORTS}/{export['id']}", headers=their_admin.headers).status_code == 404
    theirs = f"/api/v1/tenants/elsewhere/exports/{export['id']}"
    assert client.get(theirs, headers=their_admin.headers).status_code == 404
    assert client.get("/api/v1/tenants/elsewhere/exports", headers=their_admin.headers).json == []
    listed = client.get(EXPORTS, headers=admin.headers).json
    assert [e["id"] for e in listed] == [export["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "clients"}, "kind"),
        ({}, "kind"),
        ({"kind": "tasks", "from": "2026-02-01", "to": "2026-01-01"}, "to"),
        ({"kind": "tasks", "from": "yesterday"}, "from"),
    ],
)
def test_a_bad_request_is_422_naming_the_field(
    client: FlaskClient, admin: Person, body: dict[str, Any], field: str
) -> None:
    response = client.post(EXPORTS, json=body, headers=admin.headers)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert client.get(EXPORTS, headers=admin.headers).json == []


def test_the_same_idempotency_key_asks_once(client: FlaskClient, admin: Person) -> None:
    headers = {**admin.headers, "Idempotency-Key": "export-1"}
    first = client.post(EXPORTS, json={"kind": "tasks"}, headers=headers)
    again = client.post(EXPORTS, json={"kind": "tasks"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json["id"] == again.json["id"]
    assert len(client.get(EXPORTS, headers=admin.headers).json) == 1


def signed_in(app: Flask, person: Person) -> FlaskClient:
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["account_id"] = str(person.account.id)
    return browser


def csrf(browser: FlaskClient, url: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(url).text)
    assert found is not None
    return found[1]


def test_the_page_asks_shows_progress_and_downloads(
    app: Flask, borough: Any, nurse: Person, admin: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_tasks(app, borough, nurse, 2)
    browser = signed_in(app, admin)
    token = csrf(browser, "/t/borough/exports")
    refused = browser.post(
        "/t/borough/exports",
        data={"csrf_token": token, "kind": "tasks", "from": "2026-02-01", "to": "2026-01-01"},
    )
    assert refused.status_code == 422 and "Must not be before the start." in refused.text
    held = hold_jobs(app, monkeypatch)
    asked = browser.post(
        "/t/borough/exports",
        data={"csrf_token": token, "kind": "tasks", "from": "2026-01-01", "to": "2026-01-31"},
    )
    assert asked.status_code == 303
    page = browser.get("/t/borough/exports").text
    assert "Waiting to start" in page and "<progress" in page
    assert 'data-exports-refresh="on"' in page
    [(job, (tenant_id, export_id))] = held.jobs
    with app.app_context():
        assert job(tenant_id, export_id) is True
    page = browser.get("/t/borough/exports").text
    assert 'data-exports-refresh="off"' in page
    assert "Download tasks-borough-2026-01-01-2026-01-31.csv" in page
    link = browser.get(f"/t/borough/exports/{export_id}/download")
    assert link.status_code == 303
    download = browser.get(link.headers["Location"])
    assert download.status_code == 200 and download.data.decode().startswith(TASK_HEADER)
    # The admins' menu leads here; a volunteer's does not.
    assert 'href="/t/borough/exports"' in browser.get("/t/borough/").text


def test_a_running_export_shows_its_progress_in_the_api_and_on_the_page(
    app: Flask, client: FlaskClient, borough: Any, admin: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold_jobs(app, monkeypatch)
    export_id = ask(client, admin)["id"]
    with app.app_context(), tenant_scope(borough.id):
        db.session.execute(
            update(Export)
            .where(Export.id == uuid.UUID(export_id))
            .values(status="running", rows_done=2000, rows_total=5000, heartbeat_at=utcnow())
        )
        db.session.commit()
    shown = client.get(f"{EXPORTS}/{export_id}", headers=admin.headers).json
    assert (shown["status"], shown["rows_done"], shown["rows_total"], shown["percent"]) == (
        "running",
        2000,
        5000,
        40,
    )
    assert shown["download_url"] is None
    page = signed_in(app, admin).get("/t/borough/exports").text
    assert "Being written" in page and "2000 of 5000 rows (40%)" in page
    assert re.search(r'<progress [^>]*max="5000" value="2000"', page)
