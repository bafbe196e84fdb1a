"""The dispatch pool (nyby.dispatch.pool): who may be offered each role's tasks.

Every test of the suite ends by checking that each tenant's pool is what the truth
derives (``conftest.pool_is_derived``); these tests show what a person notices of it:
who is offered a task, as a tenant changes its roles and as time passes.
"""

from __future__ import annotations

import importlib.util
import uuid
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Engine

from nyby.auth.permissions import Role
from nyby.configuration import services as configuration
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db, utcnow
from nyby.dispatch import matching, pool
from nyby.dispatch.models import PoolEntry
from nyby.members.duty import in_quiet_hours
from nyby.members.models import Membership
from nyby.onboarding.models import RoleAssignment
from nyby.tenancy.context import tenant_scope
from tests.conftest import Person, World, pool_is_derived
from tests.seed import configuration_document
from tests.tasking import post_task
from tests.test_dispatch import helper, matched, mid, on_duty, set_policy


def found(app: Flask, borough: Any, task: dict[str, Any], at: Any = None) -> set[uuid.UUID]:
    with app.app_context(), tenant_scope(borough.id):
        return {m.membership_id for m in matched(borough, task, at or utcnow(), 50)}


def apply(app: Flask, document: dict[str, Any]) -> None:
    with app.app_context():
        configuration.apply(db.session(), document)
        db.session.commit()


def approved_without_checks(app: Flask, world: World, borough: Any) -> Person:
    """A volunteer on duty, approved as a shopper, who has none of its checks."""
    unchecked = on_duty(app, borough, world.person(borough, Role.VOLUNTEER))
    with app.app_context(), tenant_scope(borough.id):
        shopper = db.session.scalars(select(VolunteerRole)).one()
        db.session.add(
            RoleAssignment(membership_id=mid(unchecked), role_id=shopper.id, status="approved")
        )
        db.session.commit()
    return unchecked


def test_a_role_that_stops_requiring_a_check_takes_those_without_it_and_back(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, mode="pull")  # we ask match() ourselves
    task = post_task(client, nurse).json
    ready = helper(app, world, borough)
    unchecked = approved_without_checks(app, world, borough)
    assert found(app, borough, task) == {mid(ready)}

    document = configuration_document(borough)
    document["roles"][0]["checks"] = []
    apply(app, document)
    assert found(app, borough, task) == {mid(ready), mid(unchecked)}

    apply(app, configuration_document(borough))
    assert found(app, borough, task) == {mid(ready)}


def test_on_duty_until_and_a_check_expiring_take_effect_without_anyone_writing(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, mode="pull")
    task = post_task(client, nurse).json
    now = utcnow()
    until_noon = helper(app, world, borough, on_duty_until=now + timedelta(hours=2))
    always = helper(app, world, borough)
    assert found(app, borough, task, now) == {mid(until_noon), mid(always)}
    # Three hours on, the first is off duty; the pool was not written in between.
    assert found(app, borough, task, now + timedelta(hours=3)) == {mid(always)}
    # Their DBS checks run out in 300 days (tests.tasking.qualify): then nobody.
    assert found(app, borough, task, now + timedelta(days=301)) == set()


def test_staff_are_in_a_staff_only_role_without_being_approved_in_it(
    app: Flask, world: World, borough: Any
) -> None:
    document = configuration_document(borough)
    document["roles"].append(
        {
            "key": "ward-runner",
            "name": "Ward runner",
            "description": "Staff only.",
            "staff_only": True,
            "categories": ["shopping"],
        }
    )
    apply(app, document)
    nurse_on_duty = on_duty(app, borough, world.person(borough, Role.STAFF))
    volunteer_on_duty = helper(app, world, borough)
    with app.app_context(), tenant_scope(borough.id):
        runner = db.session.scalars(
            select(VolunteerRole).where(VolunteerRole.key == "ward-runner")
        ).one()
        in_pool = set(
            db.session.scalars(
                select(PoolEntry.membership_id).where(PoolEntry.role_id == runner.id)
            )
        )
    assert in_pool == {mid(nurse_on_duty)}
    assert mid(volunteer_on_duty) not in in_pool


def test_a_bulk_update_keeps_the_pool_too(app: Flask, world: World, borough: Any) -> None:
    person = helper(app, world, borough)
    with app.app_context(), tenant_scope(borough.id):
        db.session.execute(
            update(Membership).where(Membership.id == mid(person)).values(on_duty=False)
        )
        assert db.session.scalars(select(PoolEntry.membership_id)).all() == []
        db.session.rollback()


def _migration(name: str) -> Any:
    path = Path(__file__).parents[1] / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


def test_the_migrations_fill_the_pool_as_the_code_derives_it(
    app: Flask, owner_engine: Engine, world: World, borough: Any
) -> None:
    """0023 fills the pool of an existing database with SQL of its own, and 0024 copies
    the quiet hours into it: the same rows."""
    helper(app, world, borough, quiet_hours_start=time(22), quiet_hours_end=time(7))
    helper(app, world, borough, on_duty=False)
    on_duty(app, borough, world.person(borough, Role.STAFF))
    approved_without_checks(app, world, borough)
    with owner_engine.begin() as conn:
        conn.execute(delete(pool.POOL))
        conn.execute(text(_migration("0023_dispatch_pool").FILL))
        conn.execute(text(_migration("0024_pool_quiet_hours").COPY))
    pool_is_derived(owner_engine)
    with app.app_context(), tenant_scope(borough.id):
        assert len(db.session.scalars(select(PoolEntry)).all()) == 1


def test_those_in_their_quiet_hours_do_not_crowd_out_those_awake(
    app: Flask,
    client: FlaskClient,
    world: World,
    borough: Any,
    nurse: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Those asleep wait longest (nobody asks them at night), so in the evening they stood
    at the front of the waiting order, and a wave reading the first few found nobody."""
    set_policy(app, borough, mode="pull")
    task = post_task(client, nurse).json
    now = utcnow()
    local = now.astimezone(ZoneInfo("Europe/London"))
    asleep = {
        "quiet_hours_start": (local - timedelta(hours=1)).time(),
        "quiet_hours_end": (local + timedelta(hours=1)).time(),
    }
    sleepers = [
        helper(app, world, borough, waiting_since=now - timedelta(days=30 - i), **asleep)
        for i in range(3)
    ]
    awake = [
        helper(app, world, borough, waiting_since=now - timedelta(days=10 - i)) for i in range(2)
    ]
    monkeypatch.setattr(matching, "CANDIDATE_LIMIT", 2)
    assert found(app, borough, task, now) == {mid(person) for person in awake}
    # Two hours on, they are awake and, having waited longest, asked first.
    later = now + timedelta(hours=2)
    assert found(app, borough, task, later) == {mid(person) for person in sleepers[:2]}


@pytest.mark.parametrize(
    ("start", "end"),
    [(None, None), (time(22), time(7)), (time(9), time(17)), (time(8), time(8)), (time(9), None)],
)
def test_quiet_hours_in_sql_are_the_rule_in_python(
    app: Flask, world: World, borough: Any, start: time | None, end: time | None
) -> None:
    person = helper(app, world, borough, quiet_hours_start=start, quiet_hours_end=end)
    with app.app_context(), tenant_scope(borough.id):
        member = db.session.get_one(Membership, (borough.id, mid(person)))
        for hour, minute in [
            (0, 0),
            (6, 59),
            (7, 0),
            (8, 0),
            (9, 0),
            (12, 30),
            (16, 59),
            (17, 0),
            (21, 59),
            (22, 0),
            (23, 59),
        ]:
            local = time(hour, minute)
            in_sql = db.session.scalar(
                select(PoolEntry.membership_id).where(
                    PoolEntry.membership_id == member.id, pool.awake(local)
                )
            )
            assert (in_sql is not None) == (not in_quiet_hours(member, local)), local
