"""The admin API over the tenant configuration: the same document as the YAML file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from nyby.auth.permissions import Role
from nyby.configuration import services
from nyby.core.db import db
from tests.conftest import Person, World, all_at_once

BOROUGH_FILE = Path(__file__).resolve().parents[1] / "tenants" / "demo-borough.yaml"
URL = "/api/v1/tenants/demo-borough"


@pytest.fixture
def borough(app: Flask) -> Any:
    with app.app_context():
        tenant, _ = services.apply(db.session(), yaml.safe_load(BOROUGH_FILE.read_text()))
        db.session.commit()
        return tenant


@pytest.fixture
def admin(world: World, borough: Any) -> Person:
    return world.person(borough, Role.ADMIN)


def test_every_member_reads_roles_only_admins_change_them(
    client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    volunteer = world.person(borough, Role.VOLUNTEER)
    roles = client.get(f"{URL}/roles?page_size=100", headers=volunteer.headers)
    assert roles.status_code == 200
    shopping = next(r for r in roles.json if r["key"] == "shopping")
    assert shopping["description"] and shopping["checks"]
    detail = f"{URL}/roles/{shopping['id']}"
    etag = client.get(detail, headers=volunteer.headers).headers["ETag"]
    new_role = {"key": "gardening", "name": "Gardening", "description": "Tidy a garden."}
    assert client.post(f"{URL}/roles", json=new_role, headers=volunteer.headers).status_code == 403
    refused = client.patch(
        detail, json={"name": "X"}, headers={**volunteer.headers, "If-Match": etag}
    )
    assert refused.status_code == 403
    created = client.post(f"{URL}/roles", json=new_role, headers=admin.headers)
    assert created.status_code == 201 and created.json["key"] == "gardening"
    changed = client.patch(
        detail, json={"name": "Food shopping"}, headers={**admin.headers, "If-Match": etag}
    )
    assert changed.status_code == 200 and changed.json["name"] == "Food shopping"
    stale = client.patch(detail, json={"name": "Y"}, headers={**admin.headers, "If-Match": etag})
    assert stale.status_code == 412


def test_bad_role_input_is_a_clear_422_and_writes_nothing(
    client: FlaskClient, borough: Any, admin: Person
) -> None:
    before = client.get(f"{URL}/roles?page_size=100", headers=admin.headers).json
    for body in (
        {"key": "x", "name": "X", "description": "d", "checks": ["no-such-check"]},
        {"key": "Bad Key!", "name": "X", "description": "d"},
        {"key": "y", "name": "Y", "description": "d", "tenant_id": str(borough.id)},
        {"key": "z", "name": "Z", "description": "d", "is_active": False, "id": "1"},
    ):
        response = client.post(f"{URL}/roles", json=body, headers=admin.headers)
        assert response.status_code == 422, body
        assert response.content_type == "application/problem+json" and response.json["errors"]
    duplicate = {"key": "shopping", "name": "Again", "description": "d"}
    assert client.post(f"{URL}/roles", json=duplicate, headers=admin.headers).status_code == 409
    assert client.get(f"{URL}/roles?page_size=100", headers=admin.headers).json == before


def test_a_role_is_deactivated_never_deleted(
    client: FlaskClient, borough: Any, admin: Person
) -> None:
    roles = client.get(f"{URL}/roles?page_size=100", headers=admin.headers).json
    odd_jobs = next(r for r in roles if r["key"] == "odd-jobs")
    url = f"{URL}/roles/{odd_jobs['id']}"
    etag = client.get(url, headers=admin.headers).headers["ETag"]
    assert client.delete(url, headers={**admin.headers, "If-Match": etag}).status_code == 405
    deactivated = client.patch(
        url, json={"is_active": False}, headers={**admin.headers, "If-Match": etag}
    )
    assert deactivated.status_code == 200 and deactivated.json["is_active"] is False
    active = client.get(f"{URL}/roles?page_size=100", headers=admin.headers).json
    assert "odd-jobs" not in {r["key"] for r in active}
    everything = client.get(
        f"{URL}/roles?page_size=100&include_inactive=true", headers=admin.headers
    )
    assert any(r["key"] == "odd-jobs" and not r["is_active"] for r in everything.json)


def test_configuration_document_reads_plans_and_replaces(
    client: FlaskClient, borough: Any, admin: Person, world: World
) -> None:
    current = client.get(f"{URL}/configuration", headers=admin.headers)
    assert current.status_code == 200
    document = current.json
    assert document == yaml.safe_load(services.dump_yaml(document)), "same shape as the file"
    document["roles"][0]["name"] = "Food shopping"
    plan = client.post(f"{URL}/configuration/plan", json=document, headers=admin.headers)
    assert plan.status_code == 200
    assert any("Food shopping" in line for line in plan.json["changes"])
    etag = current.headers["ETag"]
    replaced = client.put(
        f"{URL}/configuration", json=document, headers={**admin.headers, "If-Match": etag}
    )
    assert replaced.status_code == 200 and replaced.json["roles"][0]["name"] == "Food shopping"
    assert (
        client.get(f"{URL}/configuration", headers=admin.headers).headers["ETag"]
        == replaced.headers["ETag"]
    )
    again = client.put(
        f"{URL}/configuration", json=document, headers={**admin.headers, "If-Match": etag}
    )
    assert again.status_code == 412
    coordinator = world.person(borough, Role.COORDINATOR)
    new_etag = replaced.headers["ETag"]
    assert (
        client.put(
            f"{URL}/configuration",
            json=document,
            headers={**coordinator.headers, "If-Match": new_etag},
        ).status_code
        == 403
    )


def test_a_document_cannot_reach_another_tenant(
    client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    world.tenant("kommune-x")
    current = client.get(f"{URL}/configuration", headers=admin.headers)
    document = {**current.json, "slug": "kommune-x"}
    response = client.put(
        f"{URL}/configuration",
        json=document,
        headers={**admin.headers, "If-Match": current.headers["ETag"]},
    )
    assert response.status_code == 422 and "slug" in response.json["errors"]


def test_concurrent_replacements_have_one_winner(app: Flask, borough: Any, admin: Person) -> None:
    client = app.test_client()
    current = client.get(f"{URL}/configuration", headers=admin.headers)
    etag = current.headers["ETag"]
    headers = {**admin.headers, "If-Match": etag}

    def replace(name: str) -> Callable[[], int]:
        document = {**current.json, "name": name}
        return lambda: (
            app.test_client()
            .put(f"{URL}/configuration", json=document, headers=headers)
            .status_code
        )

    results = all_at_once([replace(n) for n in ("One", "Two", "Three")])
    assert sorted(results) == [200, 412, 412]


def test_check_types_and_categories_are_listed(
    client: FlaskClient, borough: Any, world: World
) -> None:
    volunteer = world.person(borough, Role.VOLUNTEER)
    checks = client.get(f"{URL}/check-types?page_size=100", headers=volunteer.headers).json
    assert {"dbs-enhanced", "driving-licence"} <= {c["key"] for c in checks}
    categories = client.get(f"{URL}/categories", headers=volunteer.headers).json
    assert categories and all(c["name"] for c in categories)
