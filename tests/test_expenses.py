"""Expenses through the API: a volunteer claims against a task they hold, with a receipt;
a coordinator approves it; finance downloads the approved claims as CSV. Bad claims are
refused with nothing stored, and two coordinators deciding at once give one decision."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nyby.auth.permissions import Role
from nyby.core.db import db, utcnow
from nyby.expenses.models import ExpenseClaim
from nyby.notifications.models import Notification
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.caring import API, completed_task, taken_task
from tests.conftest import Person, World, all_at_once
from tests.samples import EXE, HEIC, JPEG, PDF, PNG
from tests.tasking import TASKS, post_task
from tests.test_attachments import stored_files

EXPENSES = f"{API}/expenses"


def claim(
    client: FlaskClient,
    person: Person,
    task_id: str,
    receipt: tuple[bytes, str] | None = None,
    **fields: str,
) -> Any:
    data: dict[str, Any] = dict(fields)
    if receipt is not None:
        data["receipt"] = (io.BytesIO(receipt[0]), receipt[1], "application/octet-stream")
    return client.post(
        f"{TASKS}/{task_id}/expenses",
        data=data,
        headers=person.headers,
        content_type="multipart/form-data",
    )


def claims_stored(app: Flask, tenant: Any) -> int:
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalar(select(func.count()).select_from(ExpenseClaim)) or 0


def set_policy(app: Flask, tenant: Any, **policy: str) -> None:
    with app.app_context():
        row = db.session.get(Tenant, tenant.id)
        assert row is not None
        row.expense_policy = policy
        db.session.commit()


def test_a_claim_with_a_receipt_is_approved_and_exported(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, currency="GBP", max_per_claim="150.00", mileage_rate_per_km="0.2796")
    task, amy = completed_task(app, client, world, borough, nurse)
    coordinator = world.person(borough, Role.COORDINATOR)
    shopping = claim(
        client,
        amy,
        task["id"],
        receipt=(JPEG, "till-receipt.jpg"),
        category="shopping",
        amount="23,45",  # a Norwegian keyboard's comma
        description="Groceries from the list",
    )
    assert shopping.status_code == 201, shopping.json
    assert shopping.json["amount"] == "23.45" and shopping.json["currency"] == "GBP"
    assert shopping.json["has_receipt"] is True and shopping.json["status"] == "claimed"
    mileage = client.post(
        f"{TASKS}/{task['id']}/expenses",
        json={"category": "mileage", "distance_km": "12.5"},
        headers=amy.headers,
    )
    assert mileage.status_code == 201, mileage.json
    # 12.5 km x 0.2796 = 3.495, rounded half up to the penny.
    assert mileage.json["amount"] == "3.50" and mileage.json["distance_km"] == "12.5"
    assert mileage.json["rate_per_km"] == "0.2796"

    # The coordinators' queue, oldest first; the receipt through a short-lived link.
    queue = client.get(EXPENSES, query_string={"status": "claimed"}, headers=coordinator.headers)
    assert [c["id"] for c in queue.json] == [shopping.json["id"], mileage.json["id"]]
    assert queue.json[0]["claimant_name"] == amy.account.name
    link = client.get(f"{EXPENSES}/{shopping.json['id']}/receipt", headers=coordinator.headers)
    assert link.status_code == 200 and link.json["content_type"] == "image/jpeg"
    assert client.get(link.json["download_url"]).data == JPEG
    # The volunteer sees their own claims, and not the queue's other powers.
    assert len(client.get(EXPENSES, headers=amy.headers).json) == 2
    own = client.post(f"{EXPENSES}/{shopping.json['id']}/approve", headers=amy.headers)
    assert own.status_code == 403

    approved = client.post(f"{EXPENSES}/{shopping.json['id']}/approve", headers=coordinator.headers)
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert approved.json["decided_by_name"] == coordinator.account.name
    rejected = client.post(
        f"{EXPENSES}/{mileage.json['id']}/reject",
        json={"reason": "Mileage was agreed as a round trip of 6 km."},
        headers=coordinator.headers,
    )
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    with app.app_context(), tenant_scope(borough.id):
        told = db.session.scalars(
            select(Notification.kind).where(
                Notification.recipient_id == amy.membership.id,  # type: ignore[union-attr]
                Notification.kind.like("expense%"),
            )
        ).all()
    assert sorted(told) == ["expense_approved", "expense_rejected"]

    today = utcnow().date()
    export = client.get(
        f"{EXPENSES}/export",
        query_string={"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))},
        headers=coordinator.headers,
    )
    assert export.status_code == 200, export.data
    assert export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 1  # approved only
    [row] = rows
    assert row["claim_id"] == shopping.json["id"]
    assert row["amount"] == "23.45" and row["currency"] == "GBP"
    assert row["category"] == "shopping" and row["receipt"] == "yes"
    assert row["volunteer_name"] == amy.account.name
    assert row["approved_by"] == coordinator.account.name
    assert row["description"] == "Groceries from the list"
    assert "Edith" not in export.text  # no client's name goes to finance
    # Another period: nothing approved then.
    earlier = client.get(
        f"{EXPENSES}/export",
        query_string={"from": "2020-01-01", "to": "2020-01-31"},
        headers=coordinator.headers,
    )
    assert len(list(csv.DictReader(io.StringIO(earlier.text)))) == 0
    assert client.get(f"{EXPENSES}/export", headers=amy.headers).status_code == 403
    bad_period = client.get(
        f"{EXPENSES}/export",
        query_string={"from": "2020-02-01", "to": "2020-01-01"},
        headers=coordinator.headers,
    )
    assert bad_period.status_code == 422


def test_export_keeps_a_formula_as_text(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = taken_task(app, client, world, borough, nurse)
    coordinator = world.person(borough, Role.COORDINATOR)
    made = client.post(
        f"{TASKS}/{task['id']}/expenses",
        json={"category": "parking", "amount": "4.00", "description": '=HYPERLINK("x")'},
        headers=amy.headers,
    ).json
    client.post(f"{EXPENSES}/{made['id']}/approve", headers=coordinator.headers)
    text = client.get(f"{EXPENSES}/export", headers=coordinator.headers).text
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["description"] == '\'=HYPERLINK("x")'


@pytest.mark.parametrize(
    ("fields", "receipt", "status", "field"),
    [
        ({"category": "shopping", "amount": "150.01"}, (PNG, "r.png"), 422, "amount"),
        ({"category": "mileage", "distance_km": "600"}, None, 422, "distance_km"),
        ({"category": "shopping", "amount": "10.00"}, (EXE, "receipt.jpg"), 422, "file"),
        ({"category": "shopping", "amount": "10.00"}, (HEIC, "receipt.heic"), 422, "file"),
        ({"category": "shopping", "amount": "10.00"}, None, 422, "receipt"),
        ({"category": "mileage", "distance_km": "3"}, (PDF, "map.pdf"), 422, "receipt"),
        ({"category": "parking", "amount": "1.234"}, None, 422, "amount"),
        ({"category": "parking", "amount": "0"}, None, 422, "amount"),
        ({"category": "parking", "amount": "5", "currency": "EUR"}, None, 422, "currency"),
        ({"category": "parking", "distance_km": "5"}, None, 422, "amount"),
        ({"category": "lunch", "amount": "5"}, None, 422, "category"),
    ],
)
def test_bad_claims_are_refused_and_nothing_is_stored(
    app: Flask,
    client: FlaskClient,
    world: World,
    borough: Any,
    nurse: Person,
    fields: dict[str, str],
    receipt: tuple[bytes, str] | None,
    status: int,
    field: str,
) -> None:
    set_policy(app, borough, currency="GBP", max_per_claim="150.00", mileage_rate_per_km="0.28")
    task, amy = taken_task(app, client, world, borough, nurse)
    answer = claim(client, amy, task["id"], receipt=receipt, **fields)
    assert answer.status_code == status, answer.json
    assert answer.json["status"] == status
    assert field in str(answer.json.get("errors")), answer.json
    assert claims_stored(app, borough) == 0
    assert stored_files(app, borough) == []


def test_a_claim_on_someone_elses_task_is_refused(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, _amy = taken_task(app, client, world, borough, nurse)
    bob = world.person(borough, Role.VOLUNTEER)
    # Bob cannot see Amy's task at all: the same 404 as a task that does not exist.
    theirs = claim(client, bob, task["id"], category="parking", amount="3.00")
    assert theirs.status_code == 404
    # An open task Bob can see but does not hold: 403, saying why.
    open_task = post_task(client, nurse).json
    not_held = claim(client, bob, open_task["id"], category="parking", amount="3.00")
    assert not_held.status_code == 403
    assert "hold" in not_held.json["detail"]
    # Nor can the care team claim.
    assert claim(client, nurse, task["id"], category="parking", amount="3.00").status_code == 403
    assert claims_stored(app, borough) == 0


def test_two_coordinators_deciding_at_once_give_one_decision(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = taken_task(app, client, world, borough, nurse)
    first = world.person(borough, Role.COORDINATOR)
    second = world.person(borough, Role.COORDINATOR)
    made = client.post(
        f"{TASKS}/{task['id']}/expenses",
        json={"category": "public_transport", "amount": "6.40"},
        headers=amy.headers,
    ).json

    def approve() -> Any:
        return app.test_client().post(f"{EXPENSES}/{made['id']}/approve", headers=first.headers)

    def reject() -> Any:
        return app.test_client().post(
            f"{EXPENSES}/{made['id']}/reject", json={"reason": "No ticket."}, headers=second.headers
        )

    answers = all_at_once([approve, reject, approve, reject])
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200, 409, 409, 409], [a.json for a in answers]
    [winner] = [answer for answer in answers if answer.status_code == 200]
    stored = client.get(f"{EXPENSES}/{made['id']}", headers=first.headers).json
    assert stored["status"] == winner.json["status"]
    assert stored["decided_by"] == winner.json["decided_by"]
    with app.app_context(), tenant_scope(borough.id):
        told = db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.kind.like("expense%"))
        )
    assert told == 1


def test_another_tenants_claim_is_404(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = taken_task(app, client, world, borough, nurse)
    made = client.post(
        f"{TASKS}/{task['id']}/expenses",
        json={"category": "parking", "amount": "2.00"},
        headers=amy.headers,
    ).json
    world.tenant("elsewhere")
    other = world.tenant("other-place")
    their_coordinator = world.person(other, Role.COORDINATOR, Role.ADMIN)
    there = "/api/v1/tenants/other-place/expenses"
    for url in (f"{there}/{made['id']}", f"{there}/{made['id']}/receipt"):
        assert client.get(url, headers=their_coordinator.headers).status_code == 404
    approve = client.post(f"{there}/{made['id']}/approve", headers=their_coordinator.headers)
    assert approve.status_code == 404
    assert client.get(there, headers=their_coordinator.headers).json == []
    export = client.get(f"{there}/export", headers=their_coordinator.headers)
    assert list(csv.DictReader(io.StringIO(export.text))) == []
    assert (
        client.get(f"{EXPENSES}/{made['id']}", headers=their_coordinator.headers).status_code == 404
    )
