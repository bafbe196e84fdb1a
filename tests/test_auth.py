"""Logging in, tokens, refresh rotation, rate limiting, web session + CSRF."""

from __future__ import annotations

import base64
import json
import time

from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import ECKey

from nyby.auth.permissions import Role
from tests.conftest import PASSWORD, World


def _token(client: FlaskClient, email: str, password: str = PASSWORD) -> dict:
    response = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.json
    return response.json


def test_login_returns_short_lived_jwt_verifiable_with_jwks(
    client: FlaskClient, world: World
) -> None:
    person = world.person(world.tenant("borough"), Role.VOLUNTEER)
    body = _token(client, person.account.email.upper())
    assert body["token_type"] == "Bearer"
    assert 600 <= body["expires_in"] <= 1200
    jwks = client.get("/api/v1/auth/jwks.json").json
    key = ECKey.import_key(jwks["keys"][0])
    claims = jwt.decode(body["access_token"], key, algorithms=["ES256"]).claims
    assert claims["sub"] == str(person.account.id)
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    assert "d" not in jwks["keys"][0], "the private part must never be published"


def test_me_lists_memberships_in_every_tenant(client: FlaskClient, world: World) -> None:
    borough, kommune = (
        world.tenant("borough", name="Borough"),
        world.tenant("kommune", name="Kommune"),
    )
    person = world.person(borough, Role.VOLUNTEER)
    world.join(person, kommune, Role.STAFF, Role.VOLUNTEER)
    me = client.get("/api/v1/me", headers=person.headers).json
    assert me["email"] == person.account.email
    assert {(m["tenant"], tuple(m["roles"])) for m in me["memberships"]} == {
        ("borough", ("volunteer",)),
        ("kommune", ("staff", "volunteer")),
    }


def test_missing_bad_tampered_and_alg_none_tokens_get_401(
    client: FlaskClient, world: World
) -> None:
    person = world.person(world.tenant(), Role.VOLUNTEER)
    header, payload, signature = person.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "00000000-0000-0000-0000-000000000000"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    for value in (
        None,
        "Bearer not-a-token",
        f"Bearer {header}.{forged}.{signature}",
        f"Bearer {none_header}.{payload}.",
        f"Basic {person.token}",
    ):
        headers = {"Authorization": value} if value else {}
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401, value
        assert response.content_type == "application/problem+json"
        assert response.json["status"] == 401


def test_wrong_audience_and_expired_tokens_are_refused(
    app: Flask, client: FlaskClient, world: World
) -> None:
    person = world.person(world.tenant(), Role.VOLUNTEER)
    key = app.extensions["nyby.jwt_key"]
    now = int(time.time())
    base = {
        "iss": "nyby",
        "aud": "nyby-api",
        "sub": str(person.account.id),
        "iat": now,
        "exp": now + 60,
    }
    for changes in ({"aud": "someone-else"}, {"exp": now - 1, "iat": now - 900}, {"iss": "evil"}):
        token = jwt.encode({"alg": "ES256", "kid": key.kid}, {**base, **changes}, key)
        assert (
            client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code
            == 401
        )
    good = jwt.encode({"alg": "ES256", "kid": key.kid}, base, key)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_sixth_wrong_password_within_a_minute_is_429(client: FlaskClient, world: World) -> None:
    person = world.person(world.tenant(), Role.VOLUNTEER)
    for _ in range(5):
        response = client.post(
            "/api/v1/auth/token", json={"email": person.account.email, "password": "wrong"}
        )
        assert response.status_code == 401
    response = client.post(
        "/api/v1/auth/token", json={"email": person.account.email, "password": "wrong"}
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
    # Even the right password waits out the minute: guessing cannot continue.
    response = client.post(
        "/api/v1/auth/token", json={"email": person.account.email, "password": PASSWORD}
    )
    assert response.status_code == 429


def test_refresh_rotates_and_reuse_revokes_the_family(client: FlaskClient, world: World) -> None:
    person = world.person(world.tenant(), Role.VOLUNTEER)
    first = person.refresh_token
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert second.status_code == 200
    new_refresh = second.json["refresh_token"]
    assert new_refresh != first
    assert (
        client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {second.json['access_token']}"}
        ).status_code
        == 200
    )
    # The spent token comes back (stolen?): refused, and the newer one dies with it.
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": first}).status_code == 401
    assert (
        client.post("/api/v1/auth/refresh", json={"refresh_token": new_refresh}).status_code == 401
    )


def test_logout_revokes_the_refresh_token(client: FlaskClient, world: World) -> None:
    person = world.person(world.tenant(), Role.VOLUNTEER)
    assert (
        client.post("/api/v1/auth/logout", json={"refresh_token": person.refresh_token}).status_code
        == 204
    )
    assert (
        client.post(
            "/api/v1/auth/refresh", json={"refresh_token": person.refresh_token}
        ).status_code
        == 401
    )


def test_deactivated_account_loses_access_at_once(
    app: Flask, client: FlaskClient, world: World
) -> None:
    from nyby.core.db import db

    person = world.person(world.tenant(), Role.VOLUNTEER)
    assert client.get("/api/v1/me", headers=person.headers).status_code == 200
    with app.app_context():
        account = db.session.merge(person.account)
        account.is_active = False
        db.session.commit()
    assert client.get("/api/v1/me", headers=person.headers).status_code == 401


def _csrf(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_web_login_uses_a_session_cookie_and_csrf(app: Flask, world: World) -> None:
    assert app.config.get("WTF_CSRF_ENABLED", True), "CSRF is on, in tests as in production"
    tenant = world.tenant("borough", name="Demo Borough")
    person = world.person(tenant, Role.COORDINATOR)
    browser = app.test_client()
    page = browser.get("/login")
    assert page.status_code == 200
    no_token = browser.post("/login", data={"email": person.account.email, "password": PASSWORD})
    assert no_token.status_code == 400, "a login form post without its CSRF token is refused"
    assert "text/html" in no_token.content_type, "web pages answer errors as pages"
    response = browser.post(
        "/login",
        data={"email": person.account.email, "password": PASSWORD, "csrf_token": _csrf(page.text)},
    )
    assert response.status_code == 302
    cookie = browser.get_cookie("session")
    assert cookie is not None and cookie.http_only
    home = browser.get("/")
    assert "Demo Borough" in home.text
    tenant_page = browser.get("/t/borough/")
    assert tenant_page.status_code == 200 and "Coordinator" in tenant_page.text


def test_web_pages_speak_norwegian(app: Flask, world: World) -> None:
    browser = app.test_client()
    page = browser.get("/login", headers={"Accept-Language": "nb-NO,nb;q=0.9"})
    assert '<html lang="nb">' in page.text
    assert "Logg inn" in page.text


def test_web_tenant_page_needs_login_and_membership(app: Flask, world: World) -> None:
    world.tenant("borough")
    outsider = world.person(world.tenant("kommune"), Role.VOLUNTEER)
    browser = app.test_client()
    response = browser.get("/t/borough/")
    assert response.status_code == 302 and "/login?next=/t/borough/" in response.headers["Location"]
    with browser.session_transaction() as session:
        session["account_id"] = str(outsider.account.id)
    assert browser.get("/t/kommune/").status_code == 200
    foreign = browser.get("/t/borough/")
    assert foreign.status_code == 404 and "borough" not in foreign.text.lower().split("<main")[1]


def test_login_redirect_never_leaves_the_site(app: Flask, world: World) -> None:
    person = world.person(world.tenant(), Role.VOLUNTEER)
    browser = app.test_client()
    for target in ("https://evil.example/", "//evil.example/x", "/t/ok/"):
        token = _csrf(browser.get("/login").text)
        response = browser.post(
            f"/login?next={target}",
            data={"email": person.account.email, "password": PASSWORD, "csrf_token": token},
        )
        location = response.headers["Location"]
        assert "evil" not in location


def test_refresh_works_with_a_stale_access_token_still_in_the_headers(
    client: FlaskClient, world: World
) -> None:
    person = world.person(world.tenant(), Role.VOLUNTEER)
    stale = {"Authorization": "Bearer expired.or.garbage"}
    response = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": person.refresh_token}, headers=stale
    )
    assert response.status_code == 200
    refused = client.get("/api/v1/me", headers=stale)
    assert refused.status_code == 401 and "invalid or expired" in refused.json["detail"]
