"""The demo is realistic enough to try every rule, and loading it twice changes nothing."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from nyby.auth.models import Account
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db, utcnow
from nyby.demo import load_demo
from nyby.members.models import Membership
from nyby.onboarding.models import CheckRecord
from nyby.onboarding.qualification import qualification
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant


def _member(email: str) -> Membership:
    return db.session.scalars(
        select(Membership).join(Membership.account).where(Account.email == email)
    ).one()


def _role(key: str) -> VolunteerRole:
    return db.session.scalars(select(VolunteerRole).where(VolunteerRole.key == key)).one()


def test_demo_volunteers_show_both_sides_of_the_qualification_rule(app: Flask) -> None:
    with app.app_context():
        load_demo()
        borough = db.session.scalars(select(Tenant).where(Tenant.slug == "demo-borough")).one()
        with tenant_scope(borough.id):
            first = db.session.scalar(select(func.count()).select_from(CheckRecord))
        load_demo()
        with tenant_scope(borough.id):
            assert qualification(
                _member("volunteer@demo-borough.example"), _role("shopping"), utcnow()
            ).qualified
            sam = qualification(_member("sam@demo-borough.example"), _role("shopping"), utcnow())
            assert sam.missing_checks == ("dbs-basic",) and not sam.reasons
            again = db.session.scalar(select(func.count()).select_from(CheckRecord))
            # Amy's three roles need 3 checks, Sam's two need 2, Kari's two (to share) 3.
            assert first == again == 8


def test_demo_teams_decide_who_posts_the_restricted_roles(app: Flask) -> None:
    from nyby.configuration.posting import may_post
    from nyby.demo import DEMO_TASKS

    with app.app_context():
        load_demo()
        load_demo()  # the team places are not added twice
        tenants = {t.slug: t for t in db.session.scalars(select(Tenant))}
        with tenant_scope(tenants["demo-borough"].id):
            grace = _member("nurse@demo-borough.example")
            ben = _member("socialworker@demo-borough.example")
            assert [team.key for team in grace.teams] == ["hospital-discharge"]
            assert may_post(grace, _role("patient-transport"))
            assert not may_post(ben, _role("patient-transport"))
            assert may_post(
                _member("coordinator@demo-borough.example"), _role("home-from-hospital")
            )
            for _, role_key, *_ in DEMO_TASKS["demo-borough"]:
                assert may_post(grace, _role(role_key)) and may_post(ben, _role(role_key))
        with tenant_scope(tenants["demo-kommune"].id):
            sofie = _member("sykepleier@demo-kommune.example")
            assert may_post(sofie, _role("frivillig-sjafor"))
            for _, role_key, *_ in DEMO_TASKS["demo-kommune"]:
                assert may_post(sofie, _role(role_key))
