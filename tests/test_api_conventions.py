"""One error shape, pagination, ETags, idempotent POSTs, and bad input that writes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nyby.auth.permissions import Role
from nyby.core.db import db
from nyby.members.models import Membership
from nyby.tenancy.context import tenant_scope
from tests.conftest import Person, World, all_at_once


@pytest.fixture
def borough(world: World):  # type: ignore[no-untyped-def]
    return world.tenant("borough")


@pytest.fixture
def admin(world: World, borough) -> Person:  # type: ignore[no-untyped-def]
    return world.person(borough, Role.ADMIN)


def _members(app: Flask, tenant) -> int:  # type: ignore[no-untyped-def]
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalar(select(func.count()).select_from(Membership)) or 0


def _assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.json
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_openapi_and_offline_docs_are_served(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/tenants/{tenant}/members/{member_id}" in spec["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in docs.text
    assert "//cdn" not in docs.text and "unpkg" not in docs.text
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000


def test_errors_are_problem_details(client: FlaskClient, admin: Person) -> None:
    _assert_problem(client.get("/api/v1/nothing-here"), 404)
    _assert_problem(
        client.get("/api/v1/tenants/no-such-tenant/members", headers=admin.headers), 404
    )
    _assert_problem(client.delete("/api/v1/me", headers=admin.headers), 405)
    _assert_problem(client.get("/api/v1/me"), 401)


def test_a_crash_is_a_clean_500_that_leaks_nothing(
    app: Flask, admin: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nyby.members import services

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret connection string postgres://user:pw@db")

    monkeypatch.setattr(services, "list_members", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = app.test_client().get("/api/v1/tenants/borough/members", headers=admin.headers)
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    _assert_problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)


def test_malformed_json_wrong_types_unknown_fields_are_4xx(
    app: Flask, client: FlaskClient, borough, admin: Person, world: World
) -> None:  # type: ignore[no-untyped-def]
    other = world.person(None)
    url = "/api/v1/tenants/borough/members"
    before = _members(app, borough)
    bad = client.post(
        url, data="{not json", headers={**admin.headers, "Content-Type": "application/json"}
    )
    assert bad.status_code in (400, 422)
    _assert_problem(bad, bad.status_code)
    body = _assert_problem(
        client.post(url, json={"email": 12, "roles": "admin"}, headers=admin.headers), 422
    )
    assert "email" in json.dumps(body["errors"]) and "roles" in json.dumps(body["errors"])
    # Mass assignment: tenant_id, status or ownership in the body are refused, not ignored.
    for extra in ({"tenant_id": str(borough.id)}, {"is_active": False}, {"account_id": "x"}):
        body = _assert_problem(
            client.post(
                url,
                json={"email": other.account.email, "roles": ["volunteer"], **extra},
                headers=admin.headers,
            ),
            422,
        )
        assert next(iter(extra)) in json.dumps(body["errors"])
    assert _members(app, borough) == before, "nothing was written"


def test_oversize_body_is_413(client: FlaskClient, admin: Person) -> None:
    huge = {"email": "a@example.org", "roles": ["volunteer"], "pad": "x" * 2_000_000}
    _assert_problem(
        client.post("/api/v1/tenants/borough/members", json=huge, headers=admin.headers), 413
    )


def test_pagination_is_bounded(client: FlaskClient, world: World, borough, admin: Person) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        world.person(borough, Role.VOLUNTEER)
    url = "/api/v1/tenants/borough/members"
    page = client.get(url + "?page_size=2&page=2", headers=admin.headers)
    assert page.status_code == 200 and len(page.json) == 2
    meta = json.loads(page.headers["X-Pagination"])
    assert meta["total"] == 5 and meta["total_pages"] == 3 and meta["previous_page"] == 1
    # Past the last page: no rows, and still the true total (counted apart).
    beyond = client.get(url + "?page=99", headers=admin.headers)
    assert beyond.json == [] and json.loads(beyond.headers["X-Pagination"])["total"] == 5
    for query in ("page_size=1000000", "page=9223372036854775808", "page=0", "page=abc"):
        _assert_problem(client.get(f"{url}?{query}", headers=admin.headers), 422)


def test_etag_protects_updates(client: FlaskClient, world: World, borough, admin: Person) -> None:  # type: ignore[no-untyped-def]
    volunteer = world.person(borough, Role.VOLUNTEER)
    assert volunteer.membership is not None
    url = f"/api/v1/tenants/borough/members/{volunteer.membership.id}"
    first = client.get(url, headers=admin.headers)
    etag = first.headers["ETag"]
    _assert_problem(client.patch(url, json={"roles": ["staff"]}, headers=admin.headers), 428)
    ok = client.patch(url, json={"roles": ["staff"]}, headers={**admin.headers, "If-Match": etag})
    assert ok.status_code == 200 and ok.json["roles"] == ["staff"]
    # A second coordinator still holding the old ETag does not overwrite the change.
    stale = client.patch(
        url, json={"roles": ["volunteer"]}, headers={**admin.headers, "If-Match": etag}
    )
    _assert_problem(stale, 412)
    assert client.get(url, headers=admin.headers).json["roles"] == ["staff"]


def test_concurrent_updates_with_the_same_etag_have_one_winner(
    app: Flask, world: World, borough, admin: Person
) -> None:  # type: ignore[no-untyped-def]
    volunteer = world.person(borough, Role.VOLUNTEER)
    assert volunteer.membership is not None
    url = f"/api/v1/tenants/borough/members/{volunteer.membership.id}"
    etag = app.test_client().get(url, headers=admin.headers).headers["ETag"]

    def edit(role: str) -> Callable[[], int]:
        headers = {**admin.headers, "If-Match": etag}
        return lambda: (
            app.test_client().patch(url, json={"roles": [role]}, headers=headers).status_code
        )

    results = all_at_once([edit(r) for r in ("staff", "admin", "coordinator", "professional")])
    assert sorted(results) == [200, 412, 412, 412]


def test_idempotency_key_replays_and_refuses_a_different_body(
    app: Flask, client: FlaskClient, world: World, borough, admin: Person
) -> None:  # type: ignore[no-untyped-def]
    a, b = world.person(None), world.person(None)
    url = "/api/v1/tenants/borough/members"
    headers = {**admin.headers, "Idempotency-Key": "retry-1"}
    first = client.post(
        url, json={"email": a.account.email, "roles": ["volunteer"]}, headers=headers
    )
    assert first.status_code == 201
    again = client.post(
        url, json={"email": a.account.email, "roles": ["volunteer"]}, headers=headers
    )
    assert again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _members(app, borough) == 2
    other = client.post(
        url, json={"email": b.account.email, "roles": ["volunteer"]}, headers=headers
    )
    _assert_problem(other, 422)
    assert _members(app, borough) == 2
    # Without a key the same POST is a real second attempt, and conflicts.
    _assert_problem(
        client.post(
            url, json={"email": a.account.email, "roles": ["volunteer"]}, headers=admin.headers
        ),
        409,
    )


def test_concurrent_retries_with_one_key_create_one_member(
    app: Flask, world: World, borough, admin: Person
) -> None:  # type: ignore[no-untyped-def]
    newcomer = world.person(None)
    headers = {**admin.headers, "Idempotency-Key": "same-key"}
    body = {"email": newcomer.account.email, "roles": ["volunteer"]}

    def post() -> tuple[int, str]:
        response = app.test_client().post(
            "/api/v1/tenants/borough/members", json=body, headers=headers
        )
        return response.status_code, response.get_data(as_text=True)

    results = all_at_once([post] * 6)
    assert {status for status, _ in results} == {201}
    assert len({text for _, text in results}) == 1, "every retry sees the same response"
    assert _members(app, borough) == 2


def test_admin_only_routes_answer_403_to_every_other_role(
    client: FlaskClient, world: World, borough, admin: Person
) -> None:  # type: ignore[no-untyped-def]
    target = world.person(borough, Role.VOLUNTEER)
    assert target.membership is not None
    url = f"/api/v1/tenants/borough/members/{target.membership.id}"
    etag = client.get(url, headers=admin.headers).headers["ETag"]
    for role in (Role.COORDINATOR, Role.PROFESSIONAL, Role.STAFF, Role.VOLUNTEER):
        person = world.person(borough, role)
        add = client.post(
            "/api/v1/tenants/borough/members",
            json={"email": target.account.email, "roles": ["admin"]},
            headers=person.headers,
        )
        _assert_problem(add, 403)
        change = client.patch(
            url, json={"roles": ["admin"]}, headers={**person.headers, "If-Match": etag}
        )
        _assert_problem(change, 403)
        # Refused before the body is read: no validation rules for those who may not write.
        invalid = client.post(
            "/api/v1/tenants/borough/members", json={"nonsense": 1}, headers=person.headers
        )
        _assert_problem(invalid, 403)


def test_deactivating_a_membership_removes_access_at_once(
    client: FlaskClient, world: World, borough, admin: Person
) -> None:  # type: ignore[no-untyped-def]
    volunteer = world.person(borough, Role.VOLUNTEER)
    assert volunteer.membership is not None
    assert client.get("/api/v1/tenants/borough", headers=volunteer.headers).status_code == 200
    url = f"/api/v1/tenants/borough/members/{volunteer.membership.id}"
    etag = client.get(url, headers=admin.headers).headers["ETag"]
    response = client.patch(
        url, json={"is_active": False}, headers={**admin.headers, "If-Match": etag}
    )
    assert response.status_code == 200 and response.json["deactivated_at"]
    _assert_problem(client.get("/api/v1/tenants/borough", headers=volunteer.headers), 404)


def test_the_last_admin_cannot_be_removed(client: FlaskClient, borough, admin: Person) -> None:  # type: ignore[no-untyped-def]
    assert admin.membership is not None
    url = f"/api/v1/tenants/borough/members/{admin.membership.id}"
    etag = client.get(url, headers=admin.headers).headers["ETag"]
    _assert_problem(
        client.patch(
            url, json={"roles": ["volunteer"]}, headers={**admin.headers, "If-Match": etag}
        ),
        409,
    )


def test_a_token_for_tenant_a_is_404_on_tenant_b(
    client: FlaskClient, world: World, admin: Person
) -> None:
    world.tenant("kommune")
    _assert_problem(client.get("/api/v1/tenants/kommune", headers=admin.headers), 404)
    _assert_problem(client.get("/api/v1/tenants/kommune/members", headers=admin.headers), 404)


def test_nul_characters_are_refused_everywhere(
    app: Flask, client: FlaskClient, borough, admin: Person
) -> None:  # type: ignore[no-untyped-def]
    body = {"email": "a\u0000@example.org", "roles": ["volunteer"]}
    response = client.post("/api/v1/tenants/borough/members", json=body, headers=admin.headers)
    assert _assert_problem(response, 422)["errors"] == {"json.email": ["Contains a NUL character."]}
    response = client.get("/api/v1/tenants/borough/members?role=x%00", headers=admin.headers)
    _assert_problem(response, 422)
    login = client.post("/login", data={"email": "a\u0000b@example.org", "password": "x"})
    assert login.status_code in (400, 422)
    assert _members(app, borough) == 1
