"""The onboarding issue's "done when", through the HTTP API, on the demo tenants.

A campaign link brings a new volunteer, who signs up for two roles, sends DBS evidence
and the other documents, and passes the training module online; a coordinator verifies
and approves; the volunteer can now take tasks of those roles; the campaign's funnel
counts them; they share their passport with the second demo tenant, which accepts it;
a check expiring suspends the role.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nyby.core.db import db, utcnow
from nyby.demo import DEMO_PASSWORD, load_demo
from nyby.onboarding.jobs import sweep_check_expiry
from nyby.onboarding.models import CheckRecord
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.conftest import mails_to, run_jobs
from tests.samples import PNG

ROOT = Path(__file__).resolve().parents[1]
BOROUGH = "/api/v1/tenants/demo-borough"
KOMMUNE = "/api/v1/tenants/demo-kommune"
RITA = "rita.driver@example.org"


def login(client: FlaskClient, email: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    token = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert token.status_code == 200, token.json
    return {"Authorization": f"Bearer {token.json['access_token']}"}


def module_answers(slug: str, check_key: str) -> list[int]:
    document = yaml.safe_load((ROOT / "tenants" / f"{slug}.yaml").read_text())
    [check] = [c for c in document["check_types"] if c["key"] == check_key]
    return [question["answer"] for question in check["training"]["questions"]]


def test_from_campaign_link_to_passport_and_lapse(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        load_demo()
    tom = login(client, "coordinator@demo-borough.example")
    grace = login(client, "nurse@demo-borough.example")
    ola = login(client, "koordinator@demo-kommune.example")

    # 1. The campaign's link: the landing page counts the visit and offers sign-up.
    landing = client.get(f"{BOROUGH}/campaigns/by-key/volunteer-drivers/landing")
    assert landing.status_code == 200, landing.json
    assert [r["key"] for r in landing.json["roles"]] == ["patient-transport"]

    # 2. Rita signs up through it for two roles, and confirms her email by the link.
    signed = client.post(
        f"{BOROUGH}/sign-up",
        json={
            "name": "Rita Driver",
            "email": RITA,
            "password": "a long enough password",
            "date_of_birth": "1979-05-14",
            "roles": ["patient-transport", "check-in-and-chat"],
            "availability": [{"day": "tue", "part": "morning"}],
            "skills": ["driving"],
            "languages": ["en", "pl"],
            "home_area": {"latitude": 51.4975, "longitude": -0.1357, "travel_radius_km": 8},
            "agree_to_agreement": True,
            "campaign": "volunteer-drivers",
        },
    )
    assert signed.status_code == 201, signed.json
    run_jobs(app)
    link = re.search(r"/verify-email/(\S+)", mails_to(app, RITA)[-1].get_content())
    assert link is not None
    assert client.post("/api/v1/auth/verify-email", json={"token": link[1]}).status_code == 200
    rita = login(client, RITA, "a long enough password")

    # 3. She sends her evidence: the DBS number, photos of ID and licence; she passes
    #    the safeguarding module online.
    checks = {c["key"]: c for c in client.get(f"{BOROUGH}/me/checks", headers=rita).json}
    assert set(checks) == {"id-check", "dbs-enhanced", "driving-licence", "safeguarding-training"}

    def send(key: str, **form: Any) -> None:
        sent = client.post(
            f"{BOROUGH}/me/checks/{checks[key]['id']}/evidence",
            data=form,
            headers=rita,
            content_type="multipart/form-data",
        )
        assert sent.status_code == 200, sent.json

    send("dbs-enhanced", number="001234567890")
    send("id-check", file=(io.BytesIO(PNG), "passport.png"))
    send("driving-licence", file=(io.BytesIO(PNG), "licence.png"))
    passed = client.post(
        f"{BOROUGH}/me/checks/{checks['safeguarding-training']['id']}/training",
        json={"answers": module_answers("demo-borough", "safeguarding-training")},
        headers=rita,
    )
    assert passed.status_code == 200 and passed.json["passed"] is True, passed.json

    # 4. The coordinator finds her in the queue, reads the evidence, verifies, approves.
    queue = client.get(f"{BOROUGH}/approval-queue", headers=tom).json
    [entry] = [e for e in queue if e["email"] == RITA]
    member = entry["member_id"]
    early = client.post(
        f"{BOROUGH}/members/{member}/role-decisions",
        json={"role": "patient-transport", "status": "approved"},
        headers=tom,
    )
    assert early.status_code == 409 and "Identity check" in early.json["detail"]
    standing = client.get(f"{BOROUGH}/members/{member}/qualifications", headers=tom).json
    for check in standing["checks"]:
        if check["status"] != "pending":
            continue
        evidence = client.get(f"{BOROUGH}/checks/{check['id']}/evidence", headers=tom)
        assert evidence.status_code == 200
        # A document comes as a short-lived link; a DBS certificate as its number.
        assert evidence.json["download_url"] or evidence.json["number"] == "001234567890"
        outcome = client.post(
            f"{BOROUGH}/members/{member}/check-outcomes",
            json={"check_type": check["check_type"], "status": "verified"},
            headers=tom,
        )
        assert outcome.status_code == 200, outcome.json
    for role in ("patient-transport", "check-in-and-chat"):
        approved = client.post(
            f"{BOROUGH}/members/{member}/role-decisions",
            json={"role": role, "status": "approved"},
            headers=tom,
        )
        assert approved.status_code == 200, approved.json
    roles = client.get(f"{BOROUGH}/members/{member}/qualifications", headers=rita).json["roles"]
    assert {r["role"] for r in roles if r["may_take_tasks"]} == {
        "patient-transport",
        "check-in-and-chat",
    }

    # 5. She takes and completes a check-in call the nurse posts.
    client_id = client.get(f"{BOROUGH}/clients", headers=grace).json[0]["id"]
    start = utcnow() + timedelta(hours=1)
    task = client.post(
        f"{BOROUGH}/tasks",
        json={
            "role": "check-in-and-chat",
            "client_id": client_id,
            "title": "A friendly call",
            "estimated_minutes": 30,
            "earliest_start": start.isoformat(),
            "due_by": (start + timedelta(days=1)).isoformat(),
        },
        headers=grace,
    )
    assert task.status_code == 201, task.json
    url = f"{BOROUGH}/tasks/{task.json['id']}"
    assert client.post(f"{url}/accept", headers=rita).status_code == 200
    assert client.post(f"{url}/start", headers=rita).status_code == 200
    done = client.post(f"{url}/complete", json={"minutes_spent": 25}, headers=rita)
    assert done.status_code == 200, done.json

    # 6. The campaign's funnel counts her at every stage.
    [campaign] = [
        c
        for c in client.get(f"{BOROUGH}/campaigns", headers=tom).json
        if c["key"] == "volunteer-drivers"
    ]
    funnel = client.get(f"{BOROUGH}/campaigns/{campaign['id']}/funnel", headers=tom).json
    assert funnel["visits"] >= 1
    assert (funnel["sign_ups"], funnel["approved"], funnel["first_task_done"]) == (1, 1, 1)

    # 7. She joins the kommune too (nothing re-entered) and shares her passport with it.
    joined = client.post(
        f"{KOMMUNE}/sign-up",
        json={"roles": ["frivillig-sjafor"], "agree_to_agreement": True},
        headers=rita,
    )
    assert joined.status_code == 201, joined.json
    shared = client.post(
        f"{BOROUGH}/passport/consents", json={"to_tenant": "demo-kommune"}, headers=rita
    )
    assert shared.status_code == 201, shared.json
    there = joined.json["membership_id"]
    copies = {
        c["check_kind"]: c
        for c in client.get(f"{KOMMUNE}/members/{there}/passport", headers=ola).json
    }
    assert copies["dbs_enhanced"]["verified_by"] == "Tom Evans"
    accepted = client.post(
        f"{KOMMUNE}/members/{there}/passport/{copies['dbs_enhanced']['id']}/decision",
        json={"decision": "accepted", "check_type": "politiattest-utvidet"},
        headers=ola,
    )
    assert accepted.status_code == 200, accepted.json
    kommune_checks = client.get(f"{KOMMUNE}/members/{there}/qualifications", headers=ola).json
    assert {c["check_type"]: c["status"] for c in kommune_checks["checks"]}[
        "politiattest-utvidet"
    ] == "verified"

    # 8. Her driving licence lapses: the daily sweep suspends the driver role only.
    with app.app_context():
        borough = db.session.scalars(select(Tenant).where(Tenant.slug == "demo-borough")).one()
        with tenant_scope(borough.id):
            for record in db.session.scalars(select(CheckRecord)):
                if record.evidence_file_name == "licence.png":
                    record.expires_at = utcnow() - timedelta(hours=1)
            db.session.commit()
        sweep_check_expiry(str(borough.id))
    standing = client.get(f"{BOROUGH}/members/{member}/qualifications", headers=rita).json
    statuses = {r["role"]: r["status"] for r in standing["roles"]}
    assert statuses["patient-transport"] == "suspended"
    assert statuses["check-in-and-chat"] == "approved"
