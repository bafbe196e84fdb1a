"""The generic isolation probe, generated from the OpenAPI document.

Every tenant route is called with another tenant's slug, and every route that
takes an object id is called with the ids of another tenant's objects. A later
endpoint is covered the day it is added: nobody has to remember to list it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from nyby.auth.permissions import Role
from nyby.core.db import Base, db
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import TenantScoped
from nyby.tenancy.resolution import is_public
from tests.conftest import Person, World
from tests.seed import seed_tenant

TENANT_PREFIX = "/api/v1/tenants/{tenant}"
METHODS = ("get", "put", "patch", "post", "delete")


def _tenant_operations(client: FlaskClient) -> list[tuple[str, str, list[str]]]:
    spec = client.get("/api/v1/openapi.json").json
    operations = []
    for path, item in spec["paths"].items():
        if not path.startswith(TENANT_PREFIX):
            continue
        id_params = [p for p in re.findall(r"{(\w+)}", path) if p != "tenant"]
        for method in METHODS:
            if method in item:
                operations.append((path, method, id_params))
    return operations


def _all_ids(app: Flask, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    ids = []
    with app.app_context(), tenant_scope(tenant_id):
        for mapper in Base.registry.mappers:
            model = mapper.class_
            if issubclass(model, TenantScoped) and "id" in mapper.columns:
                ids.extend(db.session.scalars(select(model.id)).all())
    return ids


def _call(client: FlaskClient, person: Person, method: str, url: str) -> Any:
    headers = {**person.headers, "If-Match": "*"}
    kwargs: dict[str, Any] = {"headers": headers}
    if method in {"put", "patch", "post"}:
        kwargs["json"] = {}
    return getattr(client, method)(url, **kwargs)


def _is_public_route(app: Flask, url: str, method: str) -> bool:
    endpoint, _ = app.url_map.bind("localhost").match(url, method.upper())
    return is_public(app.view_functions[endpoint])


def _without_instance(body: Any) -> Any:
    return {k: v for k, v in body.items() if k != "instance"} if isinstance(body, dict) else body


def _fill(path: str, slug: str, ids: dict[str, uuid.UUID]) -> str:
    url = path.replace("{tenant}", slug)
    for name, value in ids.items():
        url = url.replace("{" + name + "}", str(value))
    return url


@pytest.fixture
def two_tenants(world: World) -> tuple[Any, Any, Person, Person]:
    a, b = world.tenant("tenant-a"), world.tenant("tenant-b")
    admin_a = world.person(a, Role.ADMIN, Role.COORDINATOR)
    admin_b = world.person(b, Role.ADMIN, Role.COORDINATOR)
    seed_tenant(world, a)
    seed_tenant(world, b)
    return a, b, admin_a, admin_b


def test_every_tenant_model_is_seeded_for_the_probe(app: Flask, two_tenants: Any) -> None:
    a = two_tenants[0]
    with app.app_context(), tenant_scope(a.id):
        for mapper in Base.registry.mappers:
            model = mapper.class_
            if issubclass(model, TenantScoped):
                assert db.session.scalars(select(model).limit(1)).first() is not None, (
                    f"tests/seed.py creates no {model.__name__}: the probe cannot cover it"
                )


def test_another_tenants_slug_is_404_on_every_tenant_route(
    client: FlaskClient, two_tenants: Any
) -> None:
    _, b, admin_a, _ = two_tenants
    operations = _tenant_operations(client)
    assert len(operations) >= 5
    for path, method, id_params in operations:
        url = _fill(path, b.slug, {p: uuid.uuid4() for p in id_params})
        if _is_public_route(client.application, url, method):
            continue  # open to anyone by design (sign-up); their own tests cover isolation
        response = _call(client, admin_a, method, url)
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.json["status"] == 404


def test_another_tenants_object_ids_are_404_everywhere(
    app: Flask, client: FlaskClient, two_tenants: Any
) -> None:
    a, b, admin_a, _ = two_tenants
    foreign_ids = _all_ids(app, b.id)
    own_ids = _all_ids(app, a.id)
    assert foreign_ids and own_ids
    probed = 0
    for path, method, id_params in _tenant_operations(client):
        if not id_params:
            continue
        if _is_public_route(app, _fill(path, a.slug, {p: uuid.uuid4() for p in id_params}), method):
            continue  # a public link takes a key or token, not an id: its own tests cover it
        for foreign in foreign_ids:
            url = _fill(path, a.slug, {p: foreign for p in id_params})
            response = _call(client, admin_a, method, url)
            missing = _call(
                client, admin_a, method, _fill(path, a.slug, {p: uuid.uuid4() for p in id_params})
            )
            # Another tenant's object is indistinguishable from one that does not exist.
            assert response.status_code == missing.status_code, (method, path)
            if method in {"get", "delete"}:
                assert response.status_code == 404, (method, path, response.status_code)
            # The same answer, word for word, apart from echoing the URL the caller sent.
            assert _without_instance(response.json) == _without_instance(missing.json)
            probed += 1
        if method == "get":
            # The probe is not vacuous: the route does find the caller's own objects.
            found = [
                oid
                for oid in own_ids
                if _call(
                    client, admin_a, "get", _fill(path, a.slug, {p: oid for p in id_params})
                ).status_code
                == 200
            ]
            assert found, f"no object of tenant A is found at {path}: the probe is blind there"
    assert probed > 0


def test_every_id_in_a_tenant_route_is_a_uuid(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if "<tenant>" not in rule.rule:
            continue
        for name, converter in rule._converters.items():
            if name == "tenant":
                continue
            if name in ("token", "key") and is_public(app.view_functions[rule.endpoint]):
                continue  # a link's token (sign-up, consent) or key (a campaign), not an id
            assert type(converter).__name__ == "UUIDConverter", (rule.rule, name)


def _web_pages(app: Flask) -> list[tuple[str, str, list[str]]]:
    """Every web page and form under a tenant's address, from the URL map."""
    pages = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/t/<tenant>"):
            continue
        ids = sorted(rule.arguments - {"tenant"})
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            pages.append((rule.endpoint, method, ids))
    return pages


def _page_apart_from_url(response: Any) -> str:
    """The page without what differs from one request to the next: the URL it echoes
    and its form's CSRF token (signed with the time)."""
    text = str(response.text).replace(response.request.path, "")
    return re.sub(r'name="csrf_token" value="[^"]+"', "", text)


def test_another_tenants_web_pages_and_objects_are_404(app: Flask, two_tenants: Any) -> None:
    """The probe for the web app: signed in to tenant A, every page and form of tenant B
    is a 404, and so is every page of A given the id of one of B's objects."""
    a, b, admin_a, _ = two_tenants
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["account_id"] = str(admin_a.account.id)
    home = browser.get(f"/t/{a.slug}/").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', home)
    assert token is not None
    form = {"csrf_token": token[1]}
    foreign_ids = _all_ids(app, b.id)
    pages = _web_pages(app)
    assert len(pages) >= 10

    def url(endpoint: str, slug: str, ids: dict[str, uuid.UUID]) -> str:
        with app.test_request_context():
            return url_for(endpoint, tenant=slug, **ids)

    def call(method: str, target: str) -> Any:
        return browser.post(target, data=form) if method == "POST" else browser.get(target)

    for endpoint, method, id_names in pages:
        if is_public(app.view_functions[endpoint]):
            continue  # open to anyone by design (sign-up); their own tests cover isolation
        response = call(method, url(endpoint, b.slug, {n: uuid.uuid4() for n in id_names}))
        assert response.status_code == 404, (method, endpoint, response.status_code)
        if not id_names:
            continue
        missing = call(method, url(endpoint, a.slug, {n: uuid.uuid4() for n in id_names}))
        assert missing.status_code == 404, (method, endpoint, missing.status_code)
        unknown = _page_apart_from_url(missing)
        for foreign in foreign_ids:
            found = call(method, url(endpoint, a.slug, {n: foreign for n in id_names}))
            assert found.status_code == 404, (method, endpoint, found.status_code)
            # Word for word the page of an id that does not exist, but for the URL it echoes.
            assert _page_apart_from_url(found) == unknown, (method, endpoint)
