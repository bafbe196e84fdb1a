"""Tenant configuration as code: validate, plan, apply, export (nyby.configuration).

These tests exercise the services directly, on the migrated schema, inside
``tenant_scope``; the HTTP side is in test_configuration_api.py.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
import yaml
from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from nyby.auth.permissions import Role
from nyby.configuration import services
from nyby.configuration.models import CheckType, TaskCategory, VolunteerRole
from nyby.configuration.schemas import (
    ConfigurationSchema,
    RoleCreateSchema,
    RoleSchema,
    RoleUpdateSchema,
    TenantFileSchema,
)
from nyby.core.db import db
from nyby.core.errors import Conflict, Unprocessable
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant

TENANTS = Path(__file__).resolve().parents[1] / "tenants"
BOROUGH = TENANTS / "demo-borough.yaml"
KOMMUNE = TENANTS / "demo-kommune.yaml"


def read(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture
def engine(app: Flask) -> Engine:
    with app.app_context():
        return db.engine


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """The app's own session on the migrated schema (PostgreSQL: as the app role)."""
    with app.app_context():
        yield db.session()
        db.session.rollback()


@pytest.fixture
def writes(engine: Engine) -> Iterator[list[str]]:
    """Every INSERT, UPDATE and DELETE sent to the database."""
    statements: list[str] = []

    def _record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _record)
    yield statements
    event.remove(engine, "before_cursor_execute", _record)


def lines(changes: list[services.Change]) -> list[str]:
    return [str(change) for change in changes]


def versions(session: Session, tenant: Tenant) -> dict[str, int]:
    with tenant_scope(tenant.id, session):
        roles = session.scalars(select(VolunteerRole)).all()
        return {"tenant": tenant.version_id, **{role.key: role.version_id for role in roles}}


def role_by_key(session: Session, tenant: Tenant, key: str) -> VolunteerRole:
    with tenant_scope(tenant.id, session):
        role = session.scalar(select(VolunteerRole).where(VolunteerRole.key == key))
    assert role is not None
    return role


def errors_of(document: dict[str, Any]) -> services.InvalidConfiguration:
    with pytest.raises(services.InvalidConfiguration) as caught:
        services.load_document(document)
    return caught.value


# -- validating and applying the demo files ----------------------------------------------


@pytest.mark.parametrize("path", [BOROUGH, KOMMUNE], ids=lambda p: p.stem)
def test_demo_files_validate_and_apply(session: Session, path: Path) -> None:
    document = read(path)
    planned = lines(services.plan(session, document))
    assert planned[0] == f"+ tenant {document['slug']}"
    assert f"+ role {document['roles'][0]['key']}" in planned

    tenant, changes = services.apply(session, document)
    session.commit()

    assert lines(changes) == planned
    assert tenant.locale == document["locale"]
    exported = services.export(session, tenant)["campaigns"]
    assert [c["key"] for c in exported] == [c["key"] for c in document["campaigns"]]
    with tenant_scope(tenant.id, session):
        roles = session.scalars(select(VolunteerRole).order_by(VolunteerRole.position)).all()
        assert [role.key for role in roles] == [role["key"] for role in document["roles"]]
        assert len(session.scalars(select(CheckType)).all()) == len(document["check_types"])
        remote = [role for role in roles if role.remote]
        assert len(remote) == 1 and remote[0].check_types  # check in and chat, by phone
        driver = max(roles, key=lambda role: len(role.check_types))
        assert {check.kind for check in driver.check_types} >= {
            "driving_licence",
            "dbs_enhanced",
        }


def test_applying_the_same_file_twice_changes_nothing(session: Session, writes: list[str]) -> None:
    document = read(BOROUGH)
    tenant, _ = services.apply(session, document)
    session.commit()
    before = versions(session, tenant)
    writes.clear()

    assert services.plan(session, document) == []
    _, changes = services.apply(session, document)
    session.commit()

    assert changes == []
    assert writes == []
    assert versions(session, tenant) == before


def test_planning_a_new_tenant_writes_nothing(session: Session, writes: list[str]) -> None:
    planned = services.plan(session, read(KOMMUNE))

    assert writes == []
    assert session.scalars(select(Tenant)).all() == []
    assert "+ role besoksvenn" in lines(planned)
    assert lines(planned)[-5:] == [
        "+ campaign ringevenn-pa-polsk",
        "+ campaign ungdom-sommer-2026",
        "+ success criterion fullforte-oppdrag",
        "+ success criterion tid-til-godkjenning",
        "+ success criterion aktive-frivillige",
    ]


def test_a_document_for_another_tenant_is_refused(session: Session) -> None:
    borough, _ = services.apply(session, read(BOROUGH))

    with pytest.raises(services.InvalidConfiguration) as caught:
        services.apply(session, read(KOMMUNE), tenant=borough)

    assert caught.value.lines == ["slug: This document is for 'demo-borough'."]
    assert session.scalar(select(Tenant).where(Tenant.slug == "demo-kommune")) is None


def test_export_round_trips(session: Session, writes: list[str]) -> None:
    original = read(BOROUGH)
    tenant, _ = services.apply(session, original)
    session.commit()

    exported = services.export(session, tenant)
    text = services.dump_yaml(exported)
    reparsed = yaml.safe_load(text)

    assert reparsed == exported
    assert ConfigurationSchema().dump(exported) == exported  # the API shows the same document
    writes.clear()
    assert services.plan(session, reparsed) == []
    assert services.apply(session, reparsed)[1] == []
    assert writes == []

    def canonical(document: dict[str, Any]) -> dict[str, Any]:
        loaded = services.load_document(document)
        for role in loaded["roles"]:  # link order is not stored
            role["checks"].sort()
            role["categories"].sort()
        for campaign in loaded["campaigns"]:
            campaign["roles"].sort()
        return loaded

    assert canonical(reparsed) == canonical(original)
    assert "checks: [id-check, dbs-basic]" in text  # written the way people write it


def test_a_changed_file_shows_in_the_plan_and_applies(session: Session) -> None:
    document = read(BOROUGH)
    tenant, _ = services.apply(session, document)
    session.commit()
    before = versions(session, tenant)

    changed = copy.deepcopy(document)
    changed["locale"] = "nb"
    changed["branding"]["primary_colour"] = "#003366"
    changed["roles"][0]["name"] = "Shopping and errands volunteer"
    changed["roles"][2]["checks"].append("dbs-basic")
    changed["categories"].append({"key": "pets", "name": "Pet care"})
    changed["campaigns"][0]["target_sign_ups"] = 200

    planned = lines(services.plan(session, changed))
    assert planned == [
        "~ tenant: locale 'en' -> 'nb'",
        "~ tenant: branding.primary_colour '#0b5394' -> '#003366'",
        "+ category pets",
        "~ role shopping: name 'Shopping volunteer' -> 'Shopping and errands volunteer'",
        "~ role check-in-and-chat: checks [id-check, safeguarding-training] -> "
        "[id-check, safeguarding-training, dbs-basic]",
        "~ campaign volunteer-drivers: target_sign_ups 40 -> 200",
    ]
    # Planning wrote nothing.
    session.rollback()
    assert services.plan(session, changed) != []

    _, changes = services.apply(session, changed)
    session.commit()
    assert lines(changes) == planned
    assert services.plan(session, changed) == []

    after = versions(session, tenant)
    assert after["tenant"] == before["tenant"] + 1
    assert after["shopping"] == before["shopping"] + 1
    # A new requirement is a change to the role, so a stale If-Match must fail.
    assert after["check-in-and-chat"] == before["check-in-and-chat"] + 1
    assert after["odd-jobs"] == before["odd-jobs"]
    assert services.export(session, tenant)["campaigns"][0]["target_sign_ups"] == 200


def test_reordering_roles_is_planned_and_kept(session: Session) -> None:
    document = read(BOROUGH)
    tenant, _ = services.apply(session, document)
    reordered = copy.deepcopy(document)
    reordered["roles"].insert(0, reordered["roles"].pop(1))

    assert lines(services.plan(session, reordered)) == [
        "~ role prescriptions: position 1 -> 0",
        "~ role shopping: position 0 -> 1",
    ]
    services.apply(session, reordered)
    exported = services.export(session, tenant)
    assert [role["key"] for role in exported["roles"][:2]] == ["prescriptions", "shopping"]


def test_removing_a_role_deactivates_it(session: Session) -> None:
    document = read(BOROUGH)
    tenant, _ = services.apply(session, document)
    session.commit()
    odd_jobs = role_by_key(session, tenant, "odd-jobs")

    without = copy.deepcopy(document)
    without["roles"] = [role for role in without["roles"] if role["key"] != "odd-jobs"]
    assert "- role odd-jobs (deactivated)" in lines(services.plan(session, without))
    services.apply(session, without)
    session.commit()

    kept = role_by_key(session, tenant, "odd-jobs")
    assert kept.id == odd_jobs.id and kept.is_active is False
    assert "odd-jobs" not in [role["key"] for role in services.export(session, tenant)["roles"]]
    assert services.plan(session, without) == []

    # Putting it back brings back the same row, not a new one.
    assert "~ role odd-jobs: reactivated" in lines(services.plan(session, document))
    services.apply(session, document)
    assert role_by_key(session, tenant, "odd-jobs").is_active is True


def test_unused_check_types_are_deleted_but_required_ones_are_kept(session: Session) -> None:
    document = read(BOROUGH)
    document["check_types"].append({"key": "first-aid", "name": "First aid", "kind": "training"})
    tenant, _ = services.apply(session, document)
    session.commit()

    trimmed = copy.deepcopy(document)
    trimmed["check_types"].pop()
    assert lines(services.plan(session, trimmed)) == ["- check first-aid"]
    services.apply(session, trimmed)
    session.commit()
    with tenant_scope(tenant.id, session):
        assert session.scalar(select(CheckType).where(CheckType.key == "first-aid")) is None

    # The volunteer driver role leaves the file (deactivated) but still requires the
    # driving licence check, so the file may not delete that check in the same breath.
    no_drivers = copy.deepcopy(trimmed)
    no_drivers["roles"] = [r for r in no_drivers["roles"] if r["key"] != "patient-transport"]
    no_drivers["campaigns"] = [
        c for c in no_drivers["campaigns"] if c["key"] != "volunteer-drivers"
    ]
    no_drivers["check_types"] = [
        c for c in no_drivers["check_types"] if c["key"] != "driving-licence"
    ]
    with pytest.raises(Conflict) as caught:
        services.apply(session, no_drivers)
    assert "patient-transport" in caught.value.detail
    session.rollback()
    assert role_by_key(session, tenant, "patient-transport").is_active is True


# -- validation ----------------------------------------------------------------------------


def test_an_unknown_check_key_names_the_field() -> None:
    document = read(BOROUGH)
    document["roles"][0]["checks"].append("dbs-enhnced")

    error = errors_of(document)

    message = error.errors["roles"][0]["checks"][2][0]  # type: ignore[index]
    assert "'dbs-enhnced'" in message and "check_types" in message
    assert error.lines == [f"roles.0.checks.2: {message}"]
    assert error.status == 422


def test_unknown_fields_are_rejected() -> None:
    document = read(BOROUGH)
    document["colour"] = "blue"
    document["roles"][1]["pay_rate"] = 12
    document["dispatch_policy"]["waves"] = 2

    error = errors_of(document)

    assert error.errors == {
        "colour": ["Unknown field."],
        "roles": {1: {"pay_rate": ["Unknown field."]}},
        "dispatch_policy": {"waves": ["Unknown field."]},
    }


@pytest.mark.parametrize("colour", ["blue", "#0b539", "0b5394", "#0b5394aa", "#gggggg"])
def test_a_bad_colour_is_rejected(colour: str) -> None:
    document = read(BOROUGH)
    document["branding"]["accent_colour"] = colour

    error = errors_of(document)

    assert error.errors == {"branding": {"accent_colour": ["Use a colour as #rrggbb."]}}


def test_duplicate_keys_are_rejected() -> None:
    document = read(BOROUGH)
    document["roles"].append(copy.deepcopy(document["roles"][0]))
    document["categories"].append({"key": "shopping", "name": "Shopping again"})

    error = errors_of(document)

    assert set(error.lines) == {
        "categories.5.key: Key 'shopping' is used twice in categories.",
        f"roles.{len(document['roles']) - 1}.key: Key 'shopping' is used twice in roles.",
    }


def test_a_check_listed_twice_in_a_role_is_rejected() -> None:
    document = read(BOROUGH)
    document["roles"][0]["checks"] = ["id-check", "id-check"]

    error = errors_of(document)

    assert error.lines == ["roles.0.checks: Listed more than once: id-check."]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slug", "Demo Borough"),
        ("kind", "council"),
        ("locale", "fr"),
        ("timezone", "Europe/Londres"),
    ],
)
def test_bad_tenant_settings_are_rejected(field: str, value: str) -> None:
    document = read(BOROUGH)
    document[field] = value

    assert list(errors_of(document).errors or {}) == [field]


def test_bad_keys_and_success_criteria_are_rejected() -> None:
    document = read(BOROUGH)
    document["check_types"][0]["key"] = "ID Check"
    document["campaigns"].append({"key": "spring", "roles": ["shopping"]})  # no name
    document["success_criteria"] += [
        {"name": "Active", "metric": "active_volunteers", "target": 5},  # no key
        {"key": "happy", "name": "Happy", "metric": "happiness", "target": 1},
        {"key": "rate", "name": "Rate", "metric": "completion_rate", "target": 85},
        {"key": "week", "name": "W", "metric": "tasks_created", "target": 1, "period": "day"},
    ]

    lines_ = errors_of(document).lines

    assert any(line.startswith("check_types.0.key: Use a lowercase key") for line in lines_)
    assert "campaigns.2.name: Missing data for required field." in lines_
    assert "success_criteria.4.key: Missing data for required field." in lines_
    assert any(line.startswith("success_criteria.5.metric: Must be one of") for line in lines_)
    assert "success_criteria.6.target: A rate's target is a fraction from 0 to 1." in lines_
    assert any(line.startswith("success_criteria.7.period: Must be one of") for line in lines_)

    document = read(BOROUGH)
    document["success_criteria"][0]["role"] = "gardening"
    assert errors_of(document).lines == [
        "success_criteria.0.role: Criterion 'completion-rate' names role 'gardening', "
        "which is not defined under roles in this file."
    ]


def test_success_criteria_round_trip_and_dates_become_text(session: Session) -> None:
    document = read(BOROUGH)
    text = BOROUGH.read_text(encoding="utf-8").replace('"2026-09-01"', "2026-09-01")
    unquoted = yaml.safe_load(text)  # YAML parses the bare date as a date object
    assert not isinstance(unquoted["campaigns"][0]["starts_on"], str)

    loaded = services.load_document(unquoted)

    assert loaded["campaigns"] == document["campaigns"]
    tenant, _ = services.apply(session, unquoted)
    assert services.plan(session, document) == []
    exported = services.export(session, tenant)["success_criteria"]
    assert exported == services.load_document(document)["success_criteria"]
    assert exported[3]["role"] == "shopping" and exported[3]["at_risk_margin"] == 0.4


def test_a_document_loads_to_the_same_document_again() -> None:
    loaded = TenantFileSchema().load(read(KOMMUNE))
    assert TenantFileSchema().load(copy.deepcopy(loaded)) == loaded


# -- Norwegian ------------------------------------------------------------------------------


def test_norwegian_letters_survive_the_round_trip(engine: Engine, session: Session) -> None:
    services.apply(session, read(KOMMUNE))
    session.commit()

    with Session(engine) as fresh:
        reloaded = fresh.scalars(select(Tenant).where(Tenant.slug == "demo-kommune")).one()
        text = services.dump_yaml(services.export(fresh, reloaded))

    assert "name: Førerkort klasse B" in text
    assert "Besøksvenn" in text and "Småjobber" in text and "ærend" in text
    assert "\\u00f8" not in text and "\\xF8" not in text
    assert yaml.safe_load(text)["roles"][5]["name"] == "Besøksvenn"
    assert "name: Tid fra påmelding til godkjent frivillig" in text
    assert services.plan(session, yaml.safe_load(text)) == []


# -- isolation -------------------------------------------------------------------------------


def test_rows_of_one_tenant_are_invisible_to_another(session: Session) -> None:
    borough, _ = services.apply(session, read(BOROUGH))
    kommune, _ = services.apply(session, read(KOMMUNE))
    session.commit()
    kommune_role = role_by_key(session, kommune, "besoksvenn")

    with tenant_scope(borough.id, session):
        keys = set(session.scalars(select(VolunteerRole.key)))
        assert "shopping" in keys and "besoksvenn" not in keys
        by_id = select(VolunteerRole).where(VolunteerRole.id == kommune_role.id)
        assert session.scalar(by_id) is None
        assert "legitimasjon" not in set(session.scalars(select(CheckType.key)))
        assert "selskap" not in set(session.scalars(select(TaskCategory.key)))

    # No tenant at all: nothing, never everything.
    assert session.scalars(select(VolunteerRole)).all() == []


# -- single roles through the API's services ---------------------------------------------------


@dataclass(frozen=True)
class Caller:
    tenant: Tenant
    roles: frozenset[Role]
    membership: object = None


def test_roles_can_be_created_changed_and_deactivated(session: Session) -> None:
    tenant, _ = services.apply(session, read(BOROUGH))
    data = RoleCreateSchema().load(
        {
            "key": "dog-walking",
            "name": "Dog walker",
            "description": "Walk the dog of someone who is unwell or in hospital.",
            "checks": ["id-check"],
            "categories": ["around-the-home"],
        }
    )
    role = services.create_role(session, tenant, data)

    with tenant_scope(tenant.id, session):
        assert RoleSchema().dump(role)["checks"] == ["id-check"]
        listed = session.scalars(services.list_roles(tenant)).all()
        assert listed[-1].id == role.id
        version = role.version_id

        services.update_role(session, role, RoleUpdateSchema().load({"checks": ["dbs-basic"]}))
        assert [check.key for check in role.check_types] == ["dbs-basic"]
        assert role.version_id == version + 1

        services.update_role(session, role, RoleUpdateSchema().load({"name": "Dog walker"}))
        assert role.version_id == version + 1  # same value, no write

        services.update_role(session, role, {"is_active": False})
        assert role.is_active is False
        assert role.id not in {r.id for r in session.scalars(services.list_roles(tenant))}

        with pytest.raises(Conflict):
            services.create_role(session, tenant, data)
        with pytest.raises(Unprocessable) as caught:
            services.update_role(session, role, {"checks": ["id-check", "no-such-check"]})
        assert caught.value.errors == {"checks": {1: ["Unknown key 'no-such-check'."]}}

    # The file is the source of truth: the next apply deactivates roles it does not list.
    assert "dog-walking" not in {r["key"] for r in services.export(session, tenant)["roles"]}


@pytest.mark.parametrize("field", ["id", "tenant_id", "version_id", "is_active"])
def test_role_create_refuses_fields_it_does_not_own(field: str) -> None:
    body = {"key": "x", "name": "X", "description": "X", field: str(uuid.uuid4())}
    with pytest.raises(ma.ValidationError) as caught:
        RoleCreateSchema().load(body)
    assert caught.value.messages == {field: ["Unknown field."]}


def test_role_update_cannot_change_the_key() -> None:
    with pytest.raises(ma.ValidationError) as caught:
        RoleUpdateSchema().load({"key": "new-key"})
    assert caught.value.messages == {"key": ["Unknown field."]}
