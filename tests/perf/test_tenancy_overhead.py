"""What isolation costs: the automatic tenant filter and the whole request pipeline.

Run (medians, and each figure's ratio to the hand-written query in the same run):

    .venv/bin/python -m pytest tests/perf -o addopts="" -p no:cacheprovider --benchmark-only \\
        --benchmark-columns=median,iqr,rounds --benchmark-group-by=group

Two tenants of 2,000 members each; one page of 20 members, sorted by name.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, select

from nyby.auth.models import Account
from nyby.auth.permissions import Role
from nyby.core.db import db, utcnow
from nyby.members.models import Membership
from nyby.tenancy.context import ALL_TENANTS, tenant_scope
from tests.conftest import Person, World

MEMBERS = 2_000
PAGE = 20


def _fill(app: Flask, tenant_id: uuid.UUID) -> None:
    now = utcnow()
    accounts = [
        {
            "id": uuid.uuid4(),
            "email": f"{uuid.uuid4().hex}@example.org",
            "name": f"P {i:05}",
            "is_active": True,
            "version_id": 1,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(MEMBERS)
    ]
    with app.app_context(), tenant_scope(tenant_id):
        db.session.execute(insert(Account), accounts)
        db.session.execute(
            insert(Membership),
            [
                {
                    "tenant_id": tenant_id,
                    "id": uuid.uuid4(),
                    "account_id": a["id"],
                    "is_volunteer": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for a in accounts
            ],
        )
        db.session.commit()


@pytest.fixture
def crowd(app: Flask, world: World) -> tuple[Any, Person]:
    tenant, other = world.tenant("big"), world.tenant("other")
    admin = world.person(tenant, Role.ADMIN)
    _fill(app, tenant.id)
    _fill(app, other.id)
    return tenant, admin


def _page() -> Any:
    return (
        select(Membership)
        .join(Membership.account)
        .order_by(Account.name, Membership.id)
        .limit(PAGE)
        .offset(PAGE * 10)
    )


@pytest.mark.benchmark(group="one page of members")
def test_baseline_hand_filtered_query(benchmark: Any, app: Flask, crowd: Any) -> None:
    tenant, _ = crowd
    with app.app_context(), tenant_scope(tenant.id):
        statement = _page().where(Membership.tenant_id == tenant.id)
        statement = statement.execution_options(**{ALL_TENANTS: True})
        rows = benchmark(lambda: db.session.scalars(statement).all())
    assert len(rows) == PAGE


@pytest.mark.benchmark(group="one page of members")
def test_automatic_tenant_filter(benchmark: Any, app: Flask, crowd: Any) -> None:
    tenant, _ = crowd
    with app.app_context(), tenant_scope(tenant.id):
        rows = benchmark(lambda: db.session.scalars(_page()).all())
    assert len(rows) == PAGE and {r.tenant_id for r in rows} == {tenant.id}


@pytest.mark.benchmark(group="one page of members")
def test_whole_api_request(benchmark: Any, app: Flask, crowd: Any) -> None:
    _, admin = crowd
    client = app.test_client()
    url = f"/api/v1/tenants/big/members?page=11&page_size={PAGE}"
    response = benchmark(lambda: client.get(url, headers=admin.headers))
    assert response.status_code == 200 and len(response.json) == PAGE
