"""Isolation at the ORM and the database: a query that forgets the tenant sees nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from nyby.auth.permissions import Role
from nyby.chat.models import TaskMessage
from nyby.core.db import db
from nyby.members.models import Membership
from nyby.notifications.models import Notification
from nyby.tenancy.context import CrossTenantWrite, add_rows, tenant_scope
from tests.conftest import World


def test_orm_queries_only_see_the_current_tenant(app: Flask, world: World) -> None:
    a, b = world.tenant(), world.tenant()
    world.person(a, Role.VOLUNTEER)
    world.person(b, Role.VOLUNTEER)
    world.person(b, Role.STAFF)
    with app.app_context():
        with tenant_scope(a.id):
            assert {m.tenant_id for m in db.session.scalars(select(Membership))} == {a.id}
        with tenant_scope(b.id):
            assert len(db.session.scalars(select(Membership)).all()) == 2
        # No tenant at all: nothing, never everything.
        assert db.session.scalars(select(Membership)).all() == []


def test_flush_refuses_rows_of_another_tenant(app: Flask, world: World) -> None:
    a, b = world.tenant(), world.tenant()
    person = world.person(a, Role.VOLUNTEER)
    with app.app_context():
        with tenant_scope(a.id):
            membership = db.session.scalars(select(Membership)).one()
        # Already in the identity map, so no query would filter it: the guard must.
        with tenant_scope(b.id):
            membership.is_admin = True
            with pytest.raises(CrossTenantWrite):
                db.session.flush()
        db.session.rollback()
        with tenant_scope(b.id):
            db.session.add(Membership(tenant_id=a.id, account_id=person.account.id))
            with pytest.raises(CrossTenantWrite):
                db.session.flush()
        db.session.rollback()
        db.session.add(Membership(account_id=person.account.id))
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
        db.session.rollback()


def test_new_rows_are_stamped_with_the_current_tenant(app: Flask, world: World) -> None:
    a = world.tenant()
    person = world.person(None)
    with app.app_context(), tenant_scope(a.id):
        membership = Membership(account_id=person.account.id, is_volunteer=True)
        db.session.add(membership)
        db.session.flush()
        assert membership.tenant_id == a.id
        db.session.rollback()


def test_rows_written_in_bulk_are_stamped_and_refused_like_objects(
    app: Flask, world: World
) -> None:
    a, b = world.tenant(), world.tenant()
    person = world.person(a, Role.VOLUNTEER)
    assert person.membership is not None
    notice = {"recipient_id": person.membership.id, "kind": "thanks"}
    with app.app_context():
        with tenant_scope(a.id):
            add_rows(Notification, [notice])
            assert db.session.scalars(select(Notification.tenant_id)).all() == [a.id]
        db.session.rollback()
        with tenant_scope(b.id), pytest.raises(CrossTenantWrite):
            add_rows(Notification, [notice | {"tenant_id": a.id}])
        with pytest.raises(CrossTenantWrite):
            add_rows(Notification, [notice])
        # The audit trail records objects as they are flushed: rows would go unrecorded.
        with tenant_scope(a.id), pytest.raises(TypeError):
            add_rows(TaskMessage, [])
        db.session.rollback()
        with tenant_scope(a.id):
            assert db.session.scalars(select(Notification)).all() == []


def _is_postgresql(app: Flask) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


def test_app_connects_as_an_ordinary_role(app: Flask) -> None:
    if not _is_postgresql(app):
        pytest.skip("row-level security is a PostgreSQL feature; this runs in the PostgreSQL leg")
    with app.app_context():
        row = db.session.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
        assert tuple(row) == (False, False), "a superuser would bypass every policy silently"
        owner = db.session.scalar(
            text("SELECT tableowner FROM pg_tables WHERE tablename = 'memberships'")
        )
        assert owner != db.session.scalar(text("SELECT current_user"))


def test_row_level_security_stops_raw_sql_without_a_tenant(app: Flask, world: World) -> None:
    if not _is_postgresql(app):
        pytest.skip("row-level security is a PostgreSQL feature; this runs in the PostgreSQL leg")
    a, b = world.tenant(), world.tenant()
    world.person(a, Role.VOLUNTEER)
    world.person(b, Role.VOLUNTEER)
    with app.app_context():
        # A deliberately unscoped query, past the ORM's filter: the database still says no.
        assert db.session.execute(text("SELECT * FROM memberships")).all() == []
        with tenant_scope(a.id):
            rows = db.session.execute(text("SELECT tenant_id FROM memberships")).all()
            assert {r.tenant_id for r in rows} == {a.id}
            with pytest.raises(DBAPIError, match="row-level security"):
                db.session.execute(text("UPDATE memberships SET tenant_id = :b"), {"b": b.id})
            db.session.rollback()


def test_tenant_setting_does_not_leak_to_the_next_transaction(app: Flask, world: World) -> None:
    if not _is_postgresql(app):
        pytest.skip("row-level security is a PostgreSQL feature; this runs in the PostgreSQL leg")
    a = world.tenant()
    world.person(a, Role.VOLUNTEER)
    with app.app_context():
        with tenant_scope(a.id):
            assert db.session.execute(text("SELECT count(*) FROM memberships")).scalar() == 1
            db.session.commit()
        db.session.remove()
        assert db.session.execute(
            text("SELECT current_setting('app.tenant_id', true)")
        ).scalar() in ("", None)
        assert db.session.execute(text("SELECT count(*) FROM memberships")).scalar() == 0
