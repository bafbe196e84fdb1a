"""The volunteer passport: a volunteer shares verified checks with another tenant they
belong to; its coordinators see who verified what and when, and accept or decline."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nyby.auth.permissions import Role
from nyby.configuration import services as configuration
from nyby.configuration.models import CheckType
from nyby.core.db import db, utcnow
from nyby.onboarding.models import CheckRecord, PassportCheck
from nyby.tenancy.context import tenant_scope
from tests.conftest import Person, World, all_at_once
from tests.seed import configuration_document
from tests.test_web_tasks import post_form, signed_in

BOROUGH = "/api/v1/tenants/borough"
KOMMUNE = "/api/v1/tenants/kommune"


@pytest.fixture
def kommune(app: Flask, world: World) -> Any:
    tenant = world.tenant("kommune", name="Kommune")
    document = configuration_document(tenant)
    document["check_types"] = [
        {"key": "politiattest", "name": "Politiattest", "kind": "dbs_basic"},
        {"key": "id-check", "name": "ID check", "kind": "identity"},
    ]
    document["roles"][0]["checks"] = ["politiattest"]
    with app.app_context():
        configuration.apply(db.session(), document)
        db.session.commit()
    return tenant


@pytest.fixture
def people(world: World, borough: Any, kommune: Any) -> dict[str, Person]:
    tom = world.person(borough, Role.COORDINATOR)
    ola = world.person(kommune, Role.COORDINATOR)
    kari = world.person(borough, Role.VOLUNTEER)
    world.join(kari, kommune, Role.VOLUNTEER)
    return {"tom": tom, "ola": ola, "kari": kari}


def verify_dbs(app: Flask, tenant: Any, person: Person, by: Person, **times: Any) -> None:
    """A verified DBS in the borough, verified by a coordinator there."""
    assert person.membership is not None and by.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        check = db.session.scalars(select(CheckType)).one()
        db.session.add(
            CheckRecord(
                membership_id=person.membership.id,
                check_type_id=check.id,
                status="verified",
                verified_at=times.get("verified_at", utcnow() - timedelta(days=10)),
                expires_at=times.get("expires_at", utcnow() + timedelta(days=300)),
                verified_by=by.membership.id,
            )
        )
        db.session.commit()


def kari_in(app: Flask, tenant: Any, kari: Person) -> str:
    from nyby.members.models import Membership

    with app.app_context(), tenant_scope(tenant.id):
        member = db.session.scalars(
            select(Membership).where(Membership.account_id == kari.account.id)
        ).one()
        return str(member.id)


def test_a_volunteer_shares_a_check_and_the_other_tenant_accepts_it(
    app: Flask, client: FlaskClient, people: dict[str, Person], borough: Any, kommune: Any
) -> None:
    kari, tom, ola = people["kari"], people["tom"], people["ola"]
    verify_dbs(app, borough, kari, tom)
    shared = client.post(
        f"{BOROUGH}/passport/consents", json={"to_tenant": "kommune"}, headers=kari.headers
    )
    assert shared.status_code == 201, shared.json
    assert shared.json["to_tenant"] == "kommune" and shared.json["shared_checks"] == ["Basic DBS"]
    assert shared.json["revoked_at"] is None
    mine = client.get(f"{BOROUGH}/passport/consents", headers=kari.headers).json
    assert [c["to_tenant_name"] for c in mine] == ["Kommune"]

    # The receiving coordinator is told, and sees who verified what and when.
    inbox = client.get(f"{KOMMUNE}/notifications", headers=ola.headers).json
    assert any("shared 1 verified checks from Borough" in n["message"] for n in inbox)
    member = kari_in(app, kommune, kari)
    [copy] = client.get(f"{KOMMUNE}/members/{member}/passport", headers=ola.headers).json
    assert copy["from_tenant"] == "Borough" and copy["check_name"] == "Basic DBS"
    assert copy["verified_by"] == "Test Person" and copy["decision"] == "pending"
    assert copy["check_kind"] == "dbs_basic" and copy["expires_at"]

    decide = f"{KOMMUNE}/members/{member}/passport/{copy['id']}/decision"
    no_type = client.post(decide, json={"decision": "accepted"}, headers=ola.headers)
    assert no_type.status_code == 422 and "check_type" in no_type.json["errors"]["json"]
    wrong_kind = client.post(
        decide, json={"decision": "accepted", "check_type": "id-check"}, headers=ola.headers
    )
    assert wrong_kind.status_code == 422 and "check_type" in wrong_kind.json["errors"]
    volunteer_tries = client.post(
        decide, json={"decision": "accepted", "check_type": "politiattest"}, headers=kari.headers
    )
    assert volunteer_tries.status_code == 403
    accepted = client.post(
        decide, json={"decision": "accepted", "check_type": "politiattest"}, headers=ola.headers
    )
    assert accepted.status_code == 200 and accepted.json["decision"] == "accepted"
    standing = client.get(f"{KOMMUNE}/members/{member}/qualifications", headers=ola.headers).json
    [check] = standing["checks"]
    assert check["check_type"] == "politiattest" and check["status"] == "verified"
    assert check["expires_at"] == copy["expires_at"], "the shared expiry is kept"
    with app.app_context(), tenant_scope(kommune.id):
        record = db.session.scalars(select(CheckRecord)).one()
        assert record.source.startswith("Passport: Borough, verified by Test Person on ")
        assert record.verified_by is not None
    again = client.post(decide, json={"decision": "declined"}, headers=ola.headers)
    assert again.status_code == 409

    # Revoking keeps what the receiving tenant decided; twice is fine.
    consent = shared.json["id"]
    revoked = client.post(f"{BOROUGH}/passport/consents/{consent}/revoke", headers=kari.headers)
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    twice = client.post(f"{BOROUGH}/passport/consents/{consent}/revoke", headers=kari.headers)
    assert twice.status_code == 200 and twice.json["revoked_at"] == revoked.json["revoked_at"]
    kept = client.get(f"{KOMMUNE}/members/{member}/passport", headers=ola.headers).json
    assert [c["decision"] for c in kept] == ["accepted"]
    standing = client.get(f"{KOMMUNE}/members/{member}/qualifications", headers=ola.headers).json
    assert standing["checks"][0]["status"] == "verified"


def test_revoking_withdraws_undecided_copies_and_sharing_again_refreshes_them(
    app: Flask, client: FlaskClient, people: dict[str, Person], borough: Any, kommune: Any
) -> None:
    kari, tom, ola = people["kari"], people["tom"], people["ola"]
    verify_dbs(app, borough, kari, tom)
    member = kari_in(app, kommune, kari)
    listing = f"{KOMMUNE}/members/{member}/passport"
    consent = client.post(
        f"{BOROUGH}/passport/consents", json={"to_tenant": "kommune"}, headers=kari.headers
    ).json
    assert len(client.get(listing, headers=ola.headers).json) == 1
    client.post(f"{BOROUGH}/passport/consents/{consent['id']}/revoke", headers=kari.headers)
    assert client.get(listing, headers=ola.headers).json == []
    # Sharing again is the same consent, given again, with the copies sent again.
    again = client.post(
        f"{BOROUGH}/passport/consents", json={"to_tenant": "kommune"}, headers=kari.headers
    ).json
    assert again["id"] == consent["id"] and again["revoked_at"] is None
    [copy] = client.get(listing, headers=ola.headers).json
    declined = client.post(
        f"{listing}/{copy['id']}/decision", json={"decision": "declined"}, headers=ola.headers
    )
    assert declined.status_code == 200
    # Unchanged: the decision stands. Renewed in the borough: back before the coordinator.
    client.post(f"{BOROUGH}/passport/consents", json={"to_tenant": "kommune"}, headers=kari.headers)
    assert client.get(listing, headers=ola.headers).json[0]["decision"] == "declined"
    with app.app_context(), tenant_scope(borough.id):
        record = db.session.scalars(select(CheckRecord)).one()
        record.expires_at = utcnow() + timedelta(days=900)
        db.session.commit()
    client.post(f"{BOROUGH}/passport/consents", json={"to_tenant": "kommune"}, headers=kari.headers)
    [renewed] = client.get(listing, headers=ola.headers).json
    assert renewed["id"] == copy["id"] and renewed["decision"] == "pending"


def test_expired_and_unverified_checks_do_not_travel_and_expired_copies_are_refused(
    app: Flask, client: FlaskClient, people: dict[str, Person], borough: Any, kommune: Any
) -> None:
    kari, tom, ola = people["kari"], people["tom"], people["ola"]
    verify_dbs(app, borough, kari, tom, expires_at=utcnow() - timedelta(days=1))
    shared = client.post(
        f"{BOROUGH}/passport/consents", json={"to_tenant": "kommune"}, headers=kari.headers
    )
    assert shared.status_code == 201 and shared.json["shared_checks"] == []
    member = kari_in(app, kommune, kari)
    # A copy that expired after it was shared cannot be accepted.
    with app.app_context(), tenant_scope(kommune.id):
        db.session.add(
            PassportCheck(
                membership_id=uuid.UUID(member),
                from_tenant_id=borough.id,
                from_tenant_name="Borough",
                check_kind="dbs_basic",
                check_name="Basic DBS",
                verified_by_name="Tom",
                verified_at=utcnow() - timedelta(days=400),
                expires_at=utcnow() - timedelta(hours=1),
            )
        )
        db.session.commit()
    [copy] = client.get(f"{KOMMUNE}/members/{member}/passport", headers=ola.headers).json
    refused = client.post(
        f"{KOMMUNE}/members/{member}/passport/{copy['id']}/decision",
        json={"decision": "accepted", "check_type": "politiattest"},
        headers=ola.headers,
    )
    assert refused.status_code == 422 and "expired" in refused.json["detail"]
    with app.app_context(), tenant_scope(kommune.id):
        assert db.session.scalars(select(CheckRecord)).all() == []


def test_two_coordinators_deciding_at_once_get_one_outcome(
    app: Flask, world: World, people: dict[str, Person], borough: Any, kommune: Any
) -> None:
    kari, tom, ola = people["kari"], people["tom"], people["ola"]
    other = world.person(kommune, Role.COORDINATOR)
    verify_dbs(app, borough, kari, tom)
    app.test_client().post(
        f"{BOROUGH}/passport/consents", json={"to_tenant": "kommune"}, headers=kari.headers
    )
    member = kari_in(app, kommune, kari)
    [copy] = app.test_client().get(f"{KOMMUNE}/members/{member}/passport", headers=ola.headers).json
    url = f"{KOMMUNE}/members/{member}/passport/{copy['id']}/decision"

    def decide(who: Person, body: dict[str, str]) -> Any:
        return lambda: app.test_client().post(url, json=body, headers=who.headers).status_code

    results = all_at_once(
        [
            decide(ola, {"decision": "accepted", "check_type": "politiattest"}),
            decide(other, {"decision": "declined"}),
        ]
    )
    assert sorted(results) == [200, 409]
    [after] = (
        app.test_client().get(f"{KOMMUNE}/members/{member}/passport", headers=ola.headers).json
    )
    with app.app_context(), tenant_scope(kommune.id):
        records = db.session.scalars(select(CheckRecord)).all()
    # Accepted means a verified check here; declined means none: never half of each.
    assert (after["decision"] == "accepted") == (len(records) == 1)


def test_the_passport_stays_within_its_people_and_tenants(
    app: Flask,
    client: FlaskClient,
    world: World,
    people: dict[str, Person],
    borough: Any,
    kommune: Any,
) -> None:
    kari, tom, ola = people["kari"], people["tom"], people["ola"]
    verify_dbs(app, borough, kari, tom)
    # Only a tenant I am an active member of.
    world.tenant("elsewhere")
    for target in ("elsewhere", "no-such-tenant", "borough"):
        refused = client.post(
            f"{BOROUGH}/passport/consents", json={"to_tenant": target}, headers=kari.headers
        )
        assert refused.status_code == 422 and "to_tenant" in refused.json["errors"]
    consent = client.post(
        f"{BOROUGH}/passport/consents", json={"to_tenant": "kommune"}, headers=kari.headers
    ).json
    # Someone else's consent is a 404, as is mine seen from another tenant.
    amy = world.person(borough, Role.VOLUNTEER)
    revoke = f"/passport/consents/{consent['id']}/revoke"
    assert client.post(BOROUGH + revoke, headers=amy.headers).status_code == 404
    assert client.post(KOMMUNE + revoke, headers=kari.headers).status_code == 404
    assert client.get(f"{BOROUGH}/passport/consents", headers=amy.headers).json == []
    # A member or shared check of another tenant is a 404 for the borough's coordinator.
    member = kari_in(app, kommune, kari)
    [copy] = client.get(f"{KOMMUNE}/members/{member}/passport", headers=ola.headers).json
    assert (
        client.get(f"{BOROUGH}/members/{member}/passport", headers=tom.headers).status_code == 404
    )
    assert kari.membership is not None
    crossed = client.post(
        f"{BOROUGH}/members/{kari.membership.id}/passport/{copy['id']}/decision",
        json={"decision": "declined"},
        headers=tom.headers,
    )
    assert crossed.status_code == 404
    # Volunteers do not see others' passports.
    assert client.get(f"{KOMMUNE}/members/{member}/passport", headers=kari.headers).status_code in (
        403,
        404,
    )


def test_sharing_and_accepting_in_the_web_app(
    app: Flask, people: dict[str, Person], borough: Any, kommune: Any
) -> None:
    kari, tom, ola = people["kari"], people["tom"], people["ola"]
    verify_dbs(app, borough, kari, tom)
    browser = signed_in(app, kari)
    page = browser.get("/t/borough/me/roles").text
    assert "Share my verified checks" in page and "Share with Kommune" in page
    assert "Basic DBS" in page
    shared = post_form(
        browser, "/t/borough/me/passport", {"to_tenant": "kommune"}, "/t/borough/me/roles"
    )
    assert shared.status_code == 303
    after = browser.get("/t/borough/me/roles").text
    assert "Your verified checks are shared." in after and "Stop sharing with Kommune" in after

    member = kari_in(app, kommune, kari)
    coordinator = signed_in(app, ola)
    page_url = f"/t/kommune/volunteers/{member}"
    received = coordinator.get(page_url).text
    assert "Checks shared from other organisations" in received
    assert "Verified by Test Person on" in received and "Accept Basic DBS" in received
    with app.app_context(), tenant_scope(kommune.id):
        copy_id = db.session.scalars(select(PassportCheck.id)).one()
    accepted = post_form(
        coordinator,
        f"{page_url}/passport/{copy_id}",
        {"decision": "accepted", "check_type": "politiattest"},
        page_url,
    )
    assert accepted.status_code == 303
    done = coordinator.get(page_url).text
    assert "The decision is saved." in done and "Accepted" in done
    assert "Accept Basic DBS" not in done
