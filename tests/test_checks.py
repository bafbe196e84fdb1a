"""Checks with evidence: what a volunteer sends, what a coordinator sees and decides,
the training module passed online, and the daily sweep that warns and suspends."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nyby import create_app
from nyby.auth.permissions import Role
from nyby.core.db import db, utcnow
from nyby.jobs.schedule import SCHEDULE
from nyby.notifications.models import Notification
from nyby.onboarding.checks import sweep_expiring_checks
from nyby.onboarding.jobs import sweep_check_expiry
from nyby.onboarding.models import CheckRecord, RoleAssignment
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.checking import (
    API,
    applicant,
    check_type_id,
    make_town,
    member_url,
    record,
    send_file,
)
from tests.conftest import Person, S3Endpoint, World, all_at_once, mails_to, run_jobs
from tests.samples import EXE, JPEG, PDF, PNG
from tests.test_storage import fetch


@pytest.fixture
def town(app: Flask, world: World) -> Tenant:
    return make_town(app, world)


@pytest.fixture
def coordinator(world: World, town: Tenant) -> Person:
    return world.person(town, Role.COORDINATOR)


def stored_files(app: Flask, tenant: Tenant) -> list[Path]:
    root = app.extensions["nyby.settings"].storage_dir / "tenants" / str(tenant.id)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def notices(app: Flask, tenant: Tenant, person: Person) -> list[Notification]:
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        found = db.session.scalars(
            select(Notification)
            .where(Notification.recipient_id == person.membership.id)
            .order_by(Notification.created_at)
        ).all()
        db.session.expunge_all()
        return list(found)


# --------------------------------------------------------------------------- my checks


def test_my_checks_list_what_my_roles_need(
    app: Flask, client: FlaskClient, world: World, town: Tenant
) -> None:
    amy = applicant(app, world, town, "befriender")
    mine = client.get(f"{API}/me/checks", headers=amy.headers)
    assert mine.status_code == 200
    assert [(c["key"], c["evidence_wanted"], c["training_available"]) for c in mine.json] == [
        ("id-check", "document", False),
        ("dbs-basic", "number", False),
        ("safeguarding", "document", True),
    ]
    assert all(
        c["status"] is None and c["may_send"] and c["roles"] == ["Befriender"] for c in mine.json
    )
    # Nobody applied for nothing: no checks.
    ben = world.person(town, Role.VOLUNTEER)
    assert client.get(f"{API}/me/checks", headers=ben.headers).json == []


# --------------------------------------------------------------------------- evidence


def test_a_volunteer_sends_a_document_and_a_coordinator_reads_it_through_a_link(
    app: Flask, client: FlaskClient, world: World, town: Tenant, coordinator: Person
) -> None:
    amy = applicant(app, world, town, "befriender")
    id_check = check_type_id(app, town, "id-check")
    sent = send_file(client, amy, id_check, PNG, "passport.png")
    assert sent.status_code == 200, sent.json
    assert sent.json["status"] == "pending" and sent.json["evidence_file_name"] == "passport.png"
    [stored] = stored_files(app, town)
    assert f"members/{amy.membership.id}/checks/{id_check}/" in stored.as_posix()  # type: ignore[union-attr]

    check = record(app, town, amy, "id-check")
    assert check is not None and check.submitted_at is not None
    # The volunteer cannot read it back; the coordinator gets a short-lived link.
    assert client.get(f"{API}/checks/{check.id}/evidence", headers=amy.headers).status_code == 403
    seen = client.get(f"{API}/checks/{check.id}/evidence", headers=coordinator.headers)
    assert seen.status_code == 200
    assert seen.json["file_name"] == "passport.png" and seen.json["content_type"] == "image/png"
    assert seen.json["size"] == len(PNG) and seen.json["number"] is None
    downloaded = client.get(seen.json["download_url"])
    assert downloaded.status_code == 200 and downloaded.data == PNG

    # A better photo replaces the first; the first file goes once that has committed.
    again = send_file(client, amy, id_check, JPEG, "passport.jpg")
    assert again.status_code == 200
    [replacement] = stored_files(app, town)
    assert replacement != stored and replacement.read_bytes() == JPEG


def test_a_dbs_number_alone_can_be_json_and_is_checked(
    app: Flask, client: FlaskClient, world: World, town: Tenant, coordinator: Person
) -> None:
    amy = applicant(app, world, town, "shopper")
    dbs = check_type_id(app, town, "dbs-basic")
    url = f"{API}/me/checks/{dbs}/evidence"
    short = client.post(url, json={"number": "0012 3456 789"}, headers=amy.headers)
    assert short.status_code == 422 and "12 digits" in short.json["detail"]
    assert "number" in short.json["errors"]
    missing = client.post(url, json={}, headers=amy.headers)
    assert missing.status_code == 422 and "number" in missing.json["errors"]
    assert record(app, town, amy, "dbs-basic") is None
    sent = client.post(url, json={"number": "0012 3456 7890"}, headers=amy.headers)
    assert sent.status_code == 200 and sent.json["evidence_number_sent"] is True
    check = record(app, town, amy, "dbs-basic")
    assert check is not None and check.evidence_number == "001234567890"
    seen = client.get(f"{API}/checks/{check.id}/evidence", headers=coordinator.headers).json
    assert seen["number"] == "001234567890" and seen["download_url"] is None
    # A form post works the same way.
    form = client.post(url, data={"number": "111122223333"}, headers=amy.headers)
    assert form.status_code == 200


def test_a_check_a_coordinator_records_takes_no_upload(
    app: Flask, client: FlaskClient, world: World, town: Tenant
) -> None:
    amy = applicant(app, world, town, "caller")
    refused = send_file(client, amy, check_type_id(app, town, "reference"))
    assert refused.status_code == 422
    assert "nothing to upload" in refused.json["detail"].lower()
    assert stored_files(app, town) == [] and record(app, town, amy, "reference") is None


def test_bad_uploads_are_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, world: World, town: Tenant
) -> None:
    amy = applicant(app, world, town, "befriender")
    id_check = check_type_id(app, town, "id-check")
    limit = app.extensions["nyby.settings"].max_upload_bytes
    exe = send_file(client, amy, id_check, EXE, "passport.jpg")
    assert exe.status_code == 422 and exe.json["errors"] == {"file": ["Not an accepted file type."]}
    # A PDF calling itself a photo: the content does not match the name.
    renamed = send_file(client, amy, id_check, PDF, "passport.jpg")
    assert renamed.status_code == 422 and "does not match" in renamed.json["detail"]
    too_big = send_file(client, amy, id_check, JPEG + bytes(limit), "passport.jpg")
    assert too_big.status_code == 413
    no_file = client.post(
        f"{API}/me/checks/{id_check}/evidence",
        data={"number": "123456"},
        headers=amy.headers,
        content_type="multipart/form-data",
    )
    assert no_file.status_code == 422 and "file" in no_file.json["errors"]
    assert stored_files(app, town) == []
    assert record(app, town, amy, "id-check") is None


def test_evidence_only_for_my_roles_checks_and_this_tenants(
    app: Flask, client: FlaskClient, world: World, town: Tenant
) -> None:
    amy = applicant(app, world, town, "shopper")
    # The ID check belongs to a role Amy did not apply for.
    assert send_file(client, amy, check_type_id(app, town, "id-check")).status_code == 403
    other = make_town(app, world, "village")
    foreign = check_type_id(app, other, "id-check")
    assert send_file(client, amy, foreign).status_code == 404
    assert client.get(f"{API}/me/checks/{foreign}/training", headers=amy.headers).status_code == 404
    assert stored_files(app, town) == [] and stored_files(app, other) == []


def test_a_request_that_fails_after_storing_leaves_no_file(
    app: Flask,
    client: FlaskClient,
    world: World,
    town: Tenant,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from nyby.core.errors import Conflict

    amy = applicant(app, world, town, "befriender")

    def fail(response: Any) -> None:
        raise Conflict("Lost a race at commit time.")

    monkeypatch.setattr("nyby.core.pipeline.idempotency.remember", fail)
    assert send_file(client, amy, check_type_id(app, town, "id-check")).status_code == 409
    assert stored_files(app, town) == [] and record(app, town, amy, "id-check") is None


# --------------------------------------------------------------------------- outcomes


def test_a_coordinator_verifies_or_rejects_with_a_reason_and_the_volunteer_is_told(
    app: Flask, client: FlaskClient, world: World, town: Tenant, coordinator: Person
) -> None:
    amy = applicant(app, world, town, "befriender")
    id_check = check_type_id(app, town, "id-check")
    send_file(client, amy, id_check)
    url = f"{member_url(amy)}/check-outcomes"
    no_reason = client.post(
        url, json={"check_type": "id-check", "status": "rejected"}, headers=coordinator.headers
    )
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]["json"]
    rejected = client.post(
        url,
        json={"check_type": "id-check", "status": "rejected", "reason": "The photo is blurred."},
        headers=coordinator.headers,
    )
    assert rejected.status_code == 200
    mine = client.get(f"{API}/me/checks", headers=amy.headers).json[0]
    assert mine["status"] == "rejected" and mine["reason"] == "The photo is blurred."
    # A new photo puts it back in the queue; verifying clears the reason.
    assert send_file(client, amy, id_check).json["status"] == "pending"
    expires = (utcnow() + timedelta(days=400)).replace(microsecond=0)
    verified = client.post(
        url,
        json={"check_type": "id-check", "status": "verified", "expires_at": expires.isoformat()},
        headers=coordinator.headers,
    )
    assert verified.status_code == 200
    [check] = [c for c in verified.json["checks"] if c["check_type"] == "id-check"]
    assert check["status"] == "verified" and check["reason"] == ""
    assert check["verified_by"] == str(coordinator.membership.id)  # type: ignore[union-attr]
    assert check["expires_at"][:10] == expires.date().isoformat()
    # Verified and far from expiry: nothing more to send.
    assert send_file(client, amy, id_check).status_code == 409
    kinds = [(n.kind, n.params.get("reason")) for n in notices(app, town, amy)]
    assert kinds == [
        ("check_rejected", "The photo is blurred."),
        ("check_verified", None),
    ]
    inbox = client.get(f"{API}/notifications", headers=amy.headers).json
    assert any("The photo is blurred." in n["message"] for n in inbox)


def test_two_coordinators_deciding_at_once_one_wins(
    app: Flask, world: World, town: Tenant, coordinator: Person
) -> None:
    other = world.person(town, Role.COORDINATOR)
    amy = applicant(app, world, town, "shopper")
    first = app.test_client()
    first.post(
        f"{API}/me/checks/{check_type_id(app, town, 'dbs-basic')}/evidence",
        json={"number": "123456789012"},
        headers=amy.headers,
    )
    check = record(app, town, amy, "dbs-basic")
    assert check is not None
    url = f"{member_url(amy)}/check-outcomes"
    bodies = [
        {"check_type": "dbs-basic", "status": "verified", "version": check.version_id},
        {
            "check_type": "dbs-basic",
            "status": "rejected",
            "reason": "Wrong number.",
            "version": check.version_id,
        },
    ]
    clients = [app.test_client(), app.test_client()]
    answers = all_at_once(
        [
            lambda: clients[0].post(url, json=bodies[0], headers=coordinator.headers),
            lambda: clients[1].post(url, json=bodies[1], headers=other.headers),
        ]
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    winner = bodies[[a.status_code for a in answers].index(200)]
    after = record(app, town, amy, "dbs-basic")
    assert after is not None and after.status == winner["status"]
    assert len(notices(app, town, amy)) == 1


def test_verifying_another_tenants_volunteer_is_404(
    app: Flask, client: FlaskClient, world: World, town: Tenant, coordinator: Person
) -> None:
    outsider = world.person(make_town(app, world, "village"), Role.COORDINATOR)
    amy = applicant(app, world, town, "shopper")
    send_file(client, amy, check_type_id(app, town, "id-check"))
    url = f"/api/v1/tenants/village/members/{amy.membership.id}/check-outcomes"  # type: ignore[union-attr]
    refused = client.post(
        url, json={"check_type": "dbs-basic", "status": "verified"}, headers=outsider.headers
    )
    assert refused.status_code == 404
    assert record(app, town, amy, "dbs-basic") is None


# --------------------------------------------------------------------------- training


def test_the_training_module_is_passed_online(
    app: Flask, client: FlaskClient, world: World, town: Tenant
) -> None:
    amy = applicant(app, world, town, "befriender")
    url = f"{API}/me/checks/{check_type_id(app, town, 'safeguarding')}/training"
    module = client.get(url, headers=amy.headers)
    assert module.status_code == 200
    assert module.json["pass_mark"] == 2 and len(module.json["questions"]) == 3
    assert "answer" not in str(module.json)
    assert module.json["questions"][0]["options"] == ["999", "Nobody"]

    wrong_count = client.post(url, json={"answers": [0, 1]}, headers=amy.headers)
    assert wrong_count.status_code == 422 and "answers" in wrong_count.json["errors"]
    no_option = client.post(url, json={"answers": [0, 1, 7]}, headers=amy.headers)
    assert no_option.status_code == 422

    failed = client.post(url, json={"answers": [1, 1, 0]}, headers=amy.headers)
    assert failed.status_code == 200
    assert failed.json == {
        "passed": False,
        "score": 1,
        "out_of": 3,
        "pass_mark": 2,
        "expires_at": None,
    }
    assert record(app, town, amy, "safeguarding") is None

    passed = client.post(url, json={"answers": [0, 1, 0]}, headers=amy.headers)
    assert passed.status_code == 200 and passed.json["passed"] is True
    assert passed.json["score"] == 2
    check = record(app, town, amy, "safeguarding")
    assert check is not None and check.status == "verified"
    assert check.verified_by is None and check.source == "Online training module"
    assert check.expires_at is not None
    assert 725 <= (check.expires_at - utcnow()).days <= 731  # 24 months
    # Passed and far from expiry: no need to take it again.
    assert client.post(url, json={"answers": [0, 1, 1]}, headers=amy.headers).status_code == 409


def test_a_check_without_a_module_and_a_role_i_did_not_apply_for(
    app: Flask, client: FlaskClient, world: World, town: Tenant
) -> None:
    amy = applicant(app, world, town, "shopper")
    dbs = check_type_id(app, town, "dbs-basic")
    assert client.get(f"{API}/me/checks/{dbs}/training", headers=amy.headers).status_code == 404
    # Anyone may read a module; only someone whose role needs it may pass it.
    url = f"{API}/me/checks/{check_type_id(app, town, 'safeguarding')}/training"
    assert client.get(url, headers=amy.headers).status_code == 200
    assert client.post(url, json={"answers": [0, 1, 1]}, headers=amy.headers).status_code == 403


def test_a_module_in_the_tenant_file_is_validated() -> None:
    from nyby.configuration.schemas import TenantFileSchema, error_lines
    from tests.checking import town_document

    document = town_document()
    module = document["check_types"][2]["training"]
    module["questions"][0]["answer"] = 2
    with pytest.raises(ma.ValidationError) as caught:
        TenantFileSchema().load(document)
    assert error_lines(caught.value.messages) == [
        "check_types.2.training.questions.0.answer: There are 2 options: answer counts from 0."
    ]
    module["questions"][0]["answer"] = 0
    module["pass_mark"] = 4
    with pytest.raises(ma.ValidationError) as caught:
        TenantFileSchema().load(document)
    assert error_lines(caught.value.messages) == [
        "check_types.2.training.pass_mark: The module has 3 questions: it could never be passed."
    ]
    module["pass_mark"] = 0.5
    assert TenantFileSchema().load(document)["check_types"][2]["training"]["pass_mark"] == 0.5


# --------------------------------------------------------------------------- the sweep


def _verified(
    app: Flask, tenant: Tenant, person: Person, key: str, expires_in: timedelta, role: str
) -> None:
    """A verified check and an approved role, as if done long ago."""
    from nyby.configuration.models import CheckType, VolunteerRole

    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        check_type = db.session.scalars(select(CheckType).where(CheckType.key == key)).one()
        role_row = db.session.scalars(select(VolunteerRole).where(VolunteerRole.key == role)).one()
        db.session.add(
            CheckRecord(
                membership_id=person.membership.id,
                check_type_id=check_type.id,
                status="verified",
                verified_at=utcnow() - timedelta(days=1000),
                expires_at=utcnow() + expires_in,
            )
        )
        assignment = db.session.scalars(
            select(RoleAssignment).where(
                RoleAssignment.membership_id == person.membership.id,
                RoleAssignment.role_id == role_row.id,
            )
        ).one()
        assignment.status = "approved"
        db.session.commit()


def _sweep(app: Flask, tenant: Tenant, at: Any = None) -> dict[str, int]:
    with app.app_context():
        result: dict[str, int] = sweep_check_expiry(str(tenant.id))
    run_jobs(app)
    return result


def test_the_sweep_warns_once_then_suspends_once(
    app: Flask, client: FlaskClient, world: World, town: Tenant
) -> None:
    amy = applicant(app, world, town, "shopper", "befriender")
    ben = applicant(app, world, town, "shopper")
    _verified(app, town, amy, "dbs-basic", timedelta(days=20), "shopper")
    _verified(app, town, ben, "dbs-basic", timedelta(days=200), "shopper")

    assert _sweep(app, town) == {"warned": 1, "expired": 0, "suspended": 0}
    assert _sweep(app, town) == {"warned": 0, "expired": 0, "suspended": 0}
    [warning] = mails_to(app, amy.account.email)
    assert "Basic DBS" in warning["Subject"] and "expires" in warning["Subject"]
    assert mails_to(app, ben.account.email) == []
    # Renewal is open now that it is close to its expiry.
    mine = client.get(f"{API}/me/checks", headers=amy.headers).json
    assert [c["may_send"] for c in mine if c["key"] == "dbs-basic"] == [True]

    # 21 days on, it has lapsed: the shopper role is suspended, with the reason.
    with app.app_context(), tenant_scope(town.id):
        later = utcnow() + timedelta(days=21)
        assert sweep_expiring_checks(later) == {"warned": 0, "expired": 1, "suspended": 1}
        db.session.commit()
        assert sweep_expiring_checks(later) == {"warned": 0, "expired": 0, "suspended": 0}
        db.session.commit()
    run_jobs(app)
    standing = client.get(f"{member_url(amy)}/qualifications", headers=amy.headers).json
    shopper = next(r for r in standing["roles"] if r["role"] == "shopper")
    assert shopper["status"] == "suspended" and shopper["may_take_tasks"] is False
    assert shopper["reason"].startswith("Basic DBS expired on ")
    befriender = next(r for r in standing["roles"] if r["role"] == "befriender")
    assert befriender["status"] == "applied"  # only approved roles are suspended
    assert [c["status"] for c in standing["checks"]] == ["expired"]
    kinds = [n.kind for n in notices(app, town, amy)]
    assert kinds == ["check_expiring", "role_suspended", "check_expired"]
    assert len(mails_to(app, amy.account.email)) == 2
    assert "Shopper" in mails_to(app, amy.account.email)[1].get_content()


def test_the_sweep_runs_daily_for_every_tenant() -> None:
    [periodic] = [p for p in SCHEDULE if p.name == "sweep-check-expiry"]
    assert periodic.every == timedelta(hours=24)


# --------------------------------------------------------------------------- on S3


def test_evidence_on_s3_as_in_production(
    app: Flask, world: World, town: Tenant, coordinator: Person, s3: S3Endpoint
) -> None:
    settings = dataclasses.replace(
        app.extensions["nyby.settings"],
        storage_backend="s3",
        s3_bucket=s3.bucket,
        s3_endpoint_url=s3.url,
        s3_region=s3.region,
    )
    on_s3 = create_app(settings)
    on_s3.config["TESTING"] = True
    client = on_s3.test_client()
    amy = applicant(app, world, town, "befriender")
    id_check = check_type_id(app, town, "id-check")
    assert send_file(client, amy, id_check, PDF, "passport.pdf").status_code == 200

    prefix = f"tenants/{town.id}/members/{amy.membership.id}/checks/{id_check}/"  # type: ignore[union-attr]
    [first] = [
        o["Key"] for o in s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=prefix)["Contents"]
    ]
    head = s3.client().head_object(Bucket=s3.bucket, Key=first)
    assert head["ServerSideEncryption"] == "AES256" and head["ContentType"] == "application/pdf"

    check = record(app, town, amy, "id-check")
    assert check is not None
    seen = client.get(f"{API}/checks/{check.id}/evidence", headers=coordinator.headers).json
    assert seen["download_url"].startswith(s3.url) and "X-Amz-Signature=" in seen["download_url"]
    status, headers, body = fetch(seen["download_url"])
    assert status == 200 and body == PDF and headers["content-type"] == "application/pdf"

    assert send_file(client, amy, id_check, JPEG, "passport.jpg").status_code == 200
    keys = [
        o["Key"] for o in s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=prefix)["Contents"]
    ]
    assert len(keys) == 1 and keys[0] != first  # the replaced file is gone


def test_the_upload_is_documented_as_multipart(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    post = spec["paths"]["/api/v1/tenants/{tenant}/me/checks/{check_type_id}/evidence"]["post"]
    schema = post["requestBody"]["content"]["multipart/form-data"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    assert schema["properties"]["file"]["format"] == "binary"
    assert "number" in schema["properties"]


# --------------------------------------------------------------------------- web pages


def test_my_checks_page_takes_a_photo_and_the_module(
    app: Flask, world: World, town: Tenant, coordinator: Person
) -> None:
    from tests.test_web_tasks import csrf, signed_in

    amy = applicant(app, world, town, "befriender")
    phone = signed_in(app, amy)
    page = phone.get("/t/town/me/roles").text
    id_check = check_type_id(app, town, "id-check")
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    assert 'accept="image/jpeg,' in page and 'inputmode="numeric"' in page
    assert f"/t/town/me/checks/{check_type_id(app, town, 'safeguarding')}/training" in page
    sent = phone.post(
        f"/t/town/me/checks/{id_check}/evidence",
        data={"csrf_token": csrf(page), "file": (io.BytesIO(PNG), "passport.png")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    after = phone.get("/t/town/me/roles").text
    assert "Sent. A coordinator will check it." in after and "passport.png" in after
    wrong = phone.post(
        f"/t/town/me/checks/{id_check}/evidence",
        data={"csrf_token": csrf(after), "file": (io.BytesIO(EXE), "passport.png")},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 303
    assert "This file type is not accepted" in phone.get("/t/town/me/roles").text

    # The coordinator sees the evidence through a link, and verifies it with an expiry.
    desk = signed_in(app, coordinator)
    member_page = f"/t/town/volunteers/{amy.membership.id}"  # type: ignore[union-attr]
    review = desk.get(member_page).text
    link = re.search(r'<a href="([^"]+)" rel="noopener">View evidence: passport.png', review)
    assert link is not None and desk.get(link[1].replace("&amp;", "&")).data == PNG
    assert "Still needed:" in review and "ID check: evidence waiting to be checked" in review
    verified = desk.post(
        f"{member_page}/checks",
        data={
            "csrf_token": csrf(review),
            "check_type": "id-check",
            "status": "verified",
            "expires_at": "2031-05-01",
        },
    )
    assert verified.status_code == 303
    assert "Valid until 1 May 2031" in desk.get(member_page).text

    # The module: a radio group per question; the result says how many were right.
    url = f"/t/town/me/checks/{check_type_id(app, town, 'safeguarding')}/training"
    module = phone.get(url).text
    assert module.count("<fieldset") == 3 and module.count('type="radio"') == 7
    unanswered = phone.post(url, data={"csrf_token": csrf(module), "q1": "0"})
    assert unanswered.status_code == 422 and "Choose an answer." in unanswered.text
    failed = phone.post(url, data={"csrf_token": csrf(module), "q1": "1", "q2": "1", "q3": "0"})
    assert "1 of 3 right; you need 2." in failed.text
    passed = phone.post(url, data={"csrf_token": csrf(module), "q1": "0", "q2": "1", "q3": "1"})
    assert "You passed" in passed.text and "3 of 3 right" in passed.text
