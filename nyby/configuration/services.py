"""Tenant configuration as code: validate a tenant file, show what it would change, apply it.

``plan`` and ``apply`` run the same comparison (``_Sync``), so the plan lists exactly
the changes ``apply`` writes, and a value is only assigned when it differs: applying
the same file twice issues no UPDATE and leaves every version id alone.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import marshmallow as ma
import yaml
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session, selectinload

from nyby.campaigns.tenant_file import export_campaigns, sync_campaigns
from nyby.configuration.models import (
    CheckType,
    RoleCategory,
    RoleCheckType,
    RolePostingTeam,
    TaskCategory,
    Team,
    VolunteerRole,
)
from nyby.configuration.schemas import TenantFileSchema, error_lines
from nyby.core.db import utcnow
from nyby.core.errors import Conflict, Unprocessable
from nyby.members.models import MembershipTeam
from nyby.reporting.tenant_file import export_criteria, sync_criteria
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant

TENANT_FIELDS = ("name", "kind", "locale", "timezone", "volunteer_agreement")
TENANT_DICTS = (
    "branding",
    "dispatch_policy",
    "task_support",
    "expense_policy",
    "recognition",
    "need_provision",
)
# Stored verbatim until they get their own models (campaigns have theirs: campaigns/,
# success criteria theirs: reporting/). None is left at the moment.
RESERVED: tuple[tuple[str, str], ...] = ()
CHECK_FIELDS = ("name", "description", "kind", "evidence", "validity_months", "training")
CATEGORY_FIELDS = ("name", "description")
TEAM_FIELDS = ("name", "description")
ROLE_FIELDS = (
    "name",
    "description",
    "guidance",
    "dispatch_mode",
    "staff_only",
    "remote",
    "min_age",
)
# A role's read-only relationships to what its link rows point at.
LINKED = ("check_types", "categories", "posted_by_teams")


@dataclass(frozen=True)
class Change:
    """One line of a plan: ``+`` added, ``~`` changed, ``-`` removed or deactivated."""

    op: Literal["+", "~", "-"]
    subject: str  # tenant, check, category, team, role, campaign, success criterion
    key: str | None = None
    detail: str = ""

    def __str__(self) -> str:
        line = f"{self.op} {self.subject}" + (f" {self.key}" if self.key else "")
        if not self.detail:
            return line
        return f"{line}: {self.detail}" if self.op == "~" else f"{line} {self.detail}"


class InvalidConfiguration(Unprocessable):
    """A tenant file that does not validate; ``lines`` name each field path."""

    def __init__(self, messages: Any) -> None:
        self.lines = error_lines(messages)
        super().__init__(
            "The tenant configuration is invalid:\n  " + "\n  ".join(self.lines),
            errors=messages if isinstance(messages, dict) else {"_schema": messages},
        )


def load_document(raw: Any) -> dict[str, Any]:
    """Validate a parsed tenant file (or an exported document) into the canonical shape."""
    if not isinstance(raw, Mapping):
        raise InvalidConfiguration({"_schema": ["A tenant file must be a mapping."]})
    try:
        return TenantFileSchema().load(raw)  # type: ignore[no-any-return]
    except ma.ValidationError as error:
        raise InvalidConfiguration(error.messages)


def plan(
    session: Session, document: Mapping[str, Any], *, tenant: Tenant | None = None
) -> list[Change]:
    """What ``apply`` would change, writing nothing. Empty when the database matches."""
    loaded = _for_tenant(load_document(document), tenant)
    return _Sync(session, loaded, write=False).run()[1]


def apply(
    session: Session, document: Mapping[str, Any], *, tenant: Tenant | None = None
) -> tuple[Tenant, list[Change]]:
    """Create or update the tenant named by the document's slug; flush, never commit.

    Pass ``tenant`` when the document must belong to that tenant (an API call made
    in one tenant's URL), so a document cannot reach into another tenant.
    """
    loaded = _for_tenant(load_document(document), tenant)
    applied, changes = _Sync(session, loaded, write=True).run()
    assert applied is not None
    return applied, changes


def replace(session: Session, tenant: Tenant, document: Mapping[str, Any]) -> list[Change]:
    """The admin API's whole-configuration write.

    It first bumps the tenant row's version: two admins replacing the configuration
    at the same moment then conflict on that row (the loser gets 412), instead of the
    second silently undoing the first one's roles.
    """
    tenant.updated_at = utcnow()
    session.flush()
    return apply(session, document, tenant=tenant)[1]


def _for_tenant(document: dict[str, Any], tenant: Tenant | None) -> dict[str, Any]:
    if tenant is not None and document["slug"] != tenant.slug:
        raise InvalidConfiguration({"slug": [f"This document is for {tenant.slug!r}."]})
    return document


def export(session: Session, tenant: Tenant) -> dict[str, Any]:
    """The tenant's configuration in the file format; applying it changes nothing."""
    with tenant_scope(tenant.id, session):
        checks = session.scalars(
            select(CheckType).order_by(CheckType.position, CheckType.key)
        ).all()
        categories = session.scalars(
            select(TaskCategory).order_by(TaskCategory.position, TaskCategory.key)
        ).all()
        teams = session.scalars(select(Team).order_by(Team.position, Team.key)).all()
        roles = session.scalars(
            select(VolunteerRole)
            .where(VolunteerRole.is_active)
            .order_by(VolunteerRole.position, VolunteerRole.key)
        ).all()
        links = _Links.load(session)
        campaigns = export_campaigns(session)
        criteria = export_criteria(session)
    check_keys = {check.id: check.key for check in checks}
    category_keys = {category.id: category.key for category in categories}
    check_order = {check.id: index for index, check in enumerate(checks)}
    category_order = {category.id: index for index, category in enumerate(categories)}
    team_keys = {team.id: team.key for team in teams}
    team_order = {team.id: index for index, team in enumerate(teams)}
    reserved = tenant.reserved_config or {}
    return {
        "slug": tenant.slug,
        **{field: getattr(tenant, field) for field in TENANT_FIELDS},
        "branding": copy.deepcopy(tenant.branding or {}),
        "dispatch_policy": copy.deepcopy(tenant.dispatch_policy or {}),
        "task_support": copy.deepcopy(tenant.task_support or {}),
        "expense_policy": copy.deepcopy(tenant.expense_policy or {}),
        "recognition": copy.deepcopy(tenant.recognition or {}),
        "need_provision": copy.deepcopy(tenant.need_provision or {}),
        "check_types": [_check_entry(check) for check in checks],
        "categories": [
            {"key": category.key, **{field: getattr(category, field) for field in CATEGORY_FIELDS}}
            for category in categories
        ],
        "teams": [
            {"key": team.key, **{field: getattr(team, field) for field in TEAM_FIELDS}}
            for team in teams
        ],
        "roles": [
            {
                "key": role.key,
                **{field: getattr(role, field) for field in ROLE_FIELDS},
                "checks": [
                    check_keys[i]
                    for i in sorted(links.checks(role.id), key=check_order.__getitem__)
                ],
                "categories": [
                    category_keys[i]
                    for i in sorted(links.categories(role.id), key=category_order.__getitem__)
                ],
                "posted_by_teams": [
                    team_keys[i] for i in sorted(links.teams(role.id), key=team_order.__getitem__)
                ],
            }
            for role in roles
        ],
        "campaigns": campaigns,
        "success_criteria": criteria,
        **{section: copy.deepcopy(reserved.get(section, [])) for section, _ in RESERVED},
    }


def _check_entry(check: CheckType) -> dict[str, Any]:
    entry = {"key": check.key, **{f: copy.deepcopy(getattr(check, f)) for f in CHECK_FIELDS}}
    if entry["training"] is None:
        del entry["training"]  # a check without an online module says nothing about one
    return entry


class _Dumper(yaml.SafeDumper):
    """safe_dump, with multi-line text as readable ``|`` blocks."""


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    # A role's checks, categories and teams read best on one line, as people write them.
    flow = bool(value) and all(isinstance(item, str) and "\n" not in item for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(str, _represent_text)
_Dumper.add_representer(list, _represent_list)


def dump_yaml(document: Mapping[str, Any]) -> str:
    """A document as tenant-file YAML, in the file's field order; keeps æ, ø and å as is."""
    return yaml.dump(dict(document), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


# -- single roles (the API) ---------------------------------------------------------------


def list_roles(tenant: Tenant, *, include_inactive: bool = False) -> Select[tuple[VolunteerRole]]:
    """The tenant's roles in the file's order, for the API to paginate."""
    statement = (
        select(VolunteerRole)
        .where(VolunteerRole.tenant_id == tenant.id)
        .options(
            selectinload(VolunteerRole.check_types),
            selectinload(VolunteerRole.categories),
            selectinload(VolunteerRole.posted_by_teams),
        )
        .order_by(VolunteerRole.position, VolunteerRole.key)
    )
    if not include_inactive:
        statement = statement.where(VolunteerRole.is_active)
    return statement


def list_check_types(tenant: Tenant) -> Select[tuple[CheckType]]:
    return (
        select(CheckType)
        .where(CheckType.tenant_id == tenant.id)
        .order_by(CheckType.position, CheckType.key)
    )


def list_categories(tenant: Tenant) -> Select[tuple[TaskCategory]]:
    return (
        select(TaskCategory)
        .where(TaskCategory.tenant_id == tenant.id)
        .order_by(TaskCategory.position, TaskCategory.key)
    )


def list_teams(tenant: Tenant) -> Select[tuple[Team]]:
    return select(Team).where(Team.tenant_id == tenant.id).order_by(Team.position, Team.key)


def create_role(session: Session, tenant: Tenant, data: Mapping[str, Any]) -> VolunteerRole:
    """Add a role (data from ``RoleCreateSchema``); the key must be new in the tenant."""
    with tenant_scope(tenant.id, session):
        existing = session.scalar(select(VolunteerRole).where(VolunteerRole.key == data["key"]))
        if existing is not None:
            hint = " It is deactivated: reactivate it instead." if not existing.is_active else ""
            raise Conflict(
                f"A role with key {data['key']!r} already exists.{hint}",
                errors={"key": [f"A role with this key already exists.{hint}"]},
            )
        check_ids = _ids_by_key(session, CheckType, "checks", data.get("checks", []))
        category_ids = _ids_by_key(session, TaskCategory, "categories", data.get("categories", []))
        team_ids = _ids_by_key(session, Team, "posted_by_teams", data.get("posted_by_teams", []))
        last = session.scalar(select(func.max(VolunteerRole.position)))
        role = VolunteerRole(
            key=data["key"],
            position=0 if last is None else last + 1,  # new roles go last
            **{field: data[field] for field in ROLE_FIELDS if field in data},
        )
        session.add(role)
        session.flush()
        _replace_links(session, RoleCheckType, "check_type_id", role.id, set(), set(check_ids))
        _replace_links(session, RoleCategory, "category_id", role.id, set(), set(category_ids))
        _replace_links(session, RolePostingTeam, "team_id", role.id, set(), set(team_ids))
        session.flush()
        session.expire(role, list(LINKED))
    return role


def update_role(session: Session, role: VolunteerRole, data: Mapping[str, Any]) -> VolunteerRole:
    """Change the fields given (data from ``RoleUpdateSchema``); unchanged values write nothing."""
    with tenant_scope(role.tenant_id, session):
        # Resolve keys first, so an unknown one changes nothing at all.
        check_ids = _ids_by_key(session, CheckType, "checks", data.get("checks", []))
        category_ids = _ids_by_key(session, TaskCategory, "categories", data.get("categories", []))
        team_ids = _ids_by_key(session, Team, "posted_by_teams", data.get("posted_by_teams", []))
        changed = False
        for field in (*ROLE_FIELDS, "is_active"):
            if field in data and getattr(role, field) != data[field]:
                setattr(role, field, data[field])
                changed = True
        links_changed = False
        links = _Links.load(session, role.id)
        if "checks" in data:
            links_changed |= _replace_links(
                session,
                RoleCheckType,
                "check_type_id",
                role.id,
                links.checks(role.id),
                set(check_ids),
            )
        if "categories" in data:
            links_changed |= _replace_links(
                session,
                RoleCategory,
                "category_id",
                role.id,
                links.categories(role.id),
                set(category_ids),
            )
        if "posted_by_teams" in data:
            links_changed |= _replace_links(
                session, RolePostingTeam, "team_id", role.id, links.teams(role.id), set(team_ids)
            )
        if links_changed and not changed:
            # The role's requirements changed: bump its version so a stale If-Match fails.
            role.updated_at = utcnow()
        session.flush()
        if links_changed:
            session.expire(role, list(LINKED))
    return role


def _ids_by_key(
    session: Session,
    model: type[CheckType] | type[TaskCategory] | type[Team],
    field: str,
    keys: Sequence[str],
) -> list[uuid.UUID]:
    rows = session.execute(select(model.key, model.id).where(model.key.in_(keys))).tuples()
    found = dict(rows.all())
    unknown = {i: [f"Unknown key {key!r}."] for i, key in enumerate(keys) if key not in found}
    if unknown:
        raise Unprocessable("The request names unknown keys.", errors={field: unknown})
    return [found[key] for key in keys]


def _replace_links(
    session: Session,
    link: type[RoleCheckType] | type[RoleCategory] | type[RolePostingTeam],
    column: str,
    role_id: uuid.UUID,
    current: set[uuid.UUID],
    wanted: set[uuid.UUID],
) -> bool:
    """Make a role's link rows match ``wanted``; True when anything changed."""
    if removed := current - wanted:
        session.execute(
            delete(link).where(link.role_id == role_id, getattr(link, column).in_(removed))
        )
    for target in sorted(wanted - current):
        session.add(link(role_id=role_id, **{column: target}))
    return bool(removed or wanted - current)


# -- the comparison behind plan and apply -------------------------------------------------


@dataclass
class _Links:
    """A tenant's role links, by role id."""

    by_role_checks: dict[uuid.UUID, set[uuid.UUID]]
    by_role_categories: dict[uuid.UUID, set[uuid.UUID]]
    by_role_teams: dict[uuid.UUID, set[uuid.UUID]]

    @classmethod
    def load(cls, session: Session, role_id: uuid.UUID | None = None) -> _Links:
        checks: dict[uuid.UUID, set[uuid.UUID]] = {}
        categories: dict[uuid.UUID, set[uuid.UUID]] = {}
        teams: dict[uuid.UUID, set[uuid.UUID]] = {}
        check_rows = select(RoleCheckType.role_id, RoleCheckType.check_type_id)
        category_rows = select(RoleCategory.role_id, RoleCategory.category_id)
        team_rows = select(RolePostingTeam.role_id, RolePostingTeam.team_id)
        if role_id is not None:
            check_rows = check_rows.where(RoleCheckType.role_id == role_id)
            category_rows = category_rows.where(RoleCategory.role_id == role_id)
            team_rows = team_rows.where(RolePostingTeam.role_id == role_id)
        for role, check in session.execute(check_rows).tuples():
            checks.setdefault(role, set()).add(check)
        for role, category in session.execute(category_rows).tuples():
            categories.setdefault(role, set()).add(category)
        for role, team in session.execute(team_rows).tuples():
            teams.setdefault(role, set()).add(team)
        return cls(checks, categories, teams)

    def checks(self, role_id: uuid.UUID) -> set[uuid.UUID]:
        return self.by_role_checks.get(role_id, set())

    def categories(self, role_id: uuid.UUID) -> set[uuid.UUID]:
        return self.by_role_categories.get(role_id, set())

    def teams(self, role_id: uuid.UUID) -> set[uuid.UUID]:
        return self.by_role_teams.get(role_id, set())


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return repr(text)
    if isinstance(value, list | set | frozenset):
        return "[" + ", ".join(str(item) for item in value) + "]"
    if isinstance(value, dict) and "questions" in value:
        return f"(a module of {len(value['questions'])} questions)"
    return str(value)


def _dict_details(prefix: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return [
        f"{prefix}{name} {_show(old.get(name))} -> {_show(new.get(name))}"
        for name in [*old, *(name for name in new if name not in old)]
        if old.get(name) != new.get(name)
    ]


class _Sync:
    """Compares one tenant document with the database and, if ``write``, makes them equal."""

    def __init__(self, session: Session, document: dict[str, Any], *, write: bool) -> None:
        self.session = session
        self.doc = document
        self.write = write
        self.changes: list[Change] = []

    def run(self) -> tuple[Tenant | None, list[Change]]:
        tenant = self.session.scalar(select(Tenant).where(Tenant.slug == self.doc["slug"]))
        is_new = tenant is None
        old_reserved = dict(tenant.reserved_config or {}) if tenant else {}
        tenant = self._sync_tenant(tenant, old_reserved)
        if tenant is None:  # a plan for a tenant that does not exist yet
            self._sync_owned(is_new=True)
        else:
            with tenant_scope(tenant.id, self.session):
                self._sync_owned(is_new=is_new)
        for section, subject in RESERVED:  # written with the tenant, listed last
            self._diff_reserved(section, subject, old_reserved.get(section, []))
        return tenant, self.changes

    def _add(
        self, op: Literal["+", "~", "-"], subject: str, key: str | None, detail: str = ""
    ) -> None:
        self.changes.append(Change(op, subject, key, detail))

    def _sync_tenant(self, tenant: Tenant | None, old_reserved: dict[str, Any]) -> Tenant | None:
        doc = self.doc
        reserved = {section: doc[section] for section, _ in RESERVED}
        if tenant is None:
            self._add("+", "tenant", doc["slug"])
            if self.write:
                tenant = Tenant(
                    slug=doc["slug"],
                    **{field: doc[field] for field in (*TENANT_FIELDS, *TENANT_DICTS)},
                    reserved_config=copy.deepcopy(reserved),
                )
                self.session.add(tenant)
                self.session.flush()
        else:
            for field in TENANT_FIELDS:
                if getattr(tenant, field) != doc[field]:
                    old = getattr(tenant, field)
                    self._add("~", "tenant", None, f"{field} {_show(old)} -> {_show(doc[field])}")
                    if self.write:
                        setattr(tenant, field, doc[field])
            for field in TENANT_DICTS:
                old_dict = getattr(tenant, field) or {}
                if old_dict != doc[field]:
                    for detail in _dict_details(f"{field}.", old_dict, doc[field]):
                        self._add("~", "tenant", None, detail)
                    if self.write:
                        setattr(tenant, field, copy.deepcopy(doc[field]))
            if any(old_reserved.get(section, []) != doc[section] for section, _ in RESERVED):
                if self.write:
                    tenant.reserved_config = {**old_reserved, **copy.deepcopy(reserved)}
        if self.write and tenant is not None:
            self.session.flush()
        return tenant

    def _diff_reserved(self, section: str, subject: str, old: list[dict[str, Any]]) -> None:
        """Reserved sections are stored verbatim, but planned by key like everything else."""
        new: list[dict[str, Any]] = self.doc[section]
        old_by_key = {entry["key"]: entry for entry in old}
        new_keys = [entry["key"] for entry in new]
        for entry in new:
            before = old_by_key.get(entry["key"])
            if before is None:
                self._add("+", subject, entry["key"])
            else:
                for detail in _dict_details("", before, entry):
                    self._add("~", subject, entry["key"], detail)
        for key in old_by_key:
            if key not in new_keys:
                self._add("-", subject, key)
        if [key for key in old_by_key if key in new_keys] != [
            key for key in new_keys if key in old_by_key
        ]:
            self._add("~", section, None, "order changed")

    def _sync_owned(self, *, is_new: bool) -> None:
        session = self.session
        if is_new and not self.write:
            checks: dict[str, CheckType] = {}
            categories: dict[str, TaskCategory] = {}
            teams: dict[str, Team] = {}
            roles: dict[str, VolunteerRole] = {}
            links = _Links({}, {}, {})
        else:
            checks = {row.key: row for row in session.scalars(select(CheckType))}
            categories = {row.key: row for row in session.scalars(select(TaskCategory))}
            teams = {row.key: row for row in session.scalars(select(Team))}
            roles = {row.key: row for row in session.scalars(select(VolunteerRole))}
            links = _Links.load(session)

        self._upsert("check", CheckType, checks, self.doc["check_types"], CHECK_FIELDS)
        self._upsert("category", TaskCategory, categories, self.doc["categories"], CATEGORY_FIELDS)
        self._upsert("team", Team, teams, self.doc["teams"], TEAM_FIELDS)
        if self.write:
            session.flush()  # new check types, categories and teams get their ids
        added, touched = self._upsert("role", VolunteerRole, roles, self.doc["roles"], ROLE_FIELDS)
        if self.write:
            session.flush()

        in_file = {item["key"] for item in self.doc["roles"]}
        for key, role in roles.items():
            if key not in in_file and role.is_active:
                self._add("-", "role", key, "(deactivated)")
                if self.write:
                    role.is_active = False

        for item in self.doc["roles"]:
            file_role = roles.get(item["key"])
            is_added = item["key"] in added
            changed = self._sync_links(
                item,
                file_role,
                is_added,
                "checks",
                RoleCheckType,
                "check_type_id",
                links.by_role_checks,
                checks,
            )
            changed |= self._sync_links(
                item,
                file_role,
                is_added,
                "categories",
                RoleCategory,
                "category_id",
                links.by_role_categories,
                categories,
            )
            changed |= self._sync_links(
                item,
                file_role,
                is_added,
                "posted_by_teams",
                RolePostingTeam,
                "team_id",
                links.by_role_teams,
                teams,
            )
            if self.write and changed and not is_added and item["key"] not in touched:
                assert file_role is not None
                file_role.updated_at = utcnow()  # bumps version_id: the requirements changed
        if self.write:
            session.flush()

        # Roles still in the file were just synced and cannot name a dropped key (the
        # schema checks that), so only roles outside the file can still hold one.
        outside = [role for key, role in roles.items() if key not in in_file]
        self._remove_unused("check", checks, self.doc["check_types"], links.by_role_checks, outside)
        self._remove_unused(
            "category", categories, self.doc["categories"], links.by_role_categories, outside
        )
        self._remove_unused("team", teams, self.doc["teams"], links.by_role_teams, outside)
        if self.write:
            session.flush()
        sync_campaigns(
            session,
            self.doc["campaigns"],
            roles,
            write=self.write,
            is_new=is_new,
            note=lambda op, key, detail: self._add(op, "campaign", key, detail),
            show=_show,
        )
        sync_criteria(
            session,
            self.doc["success_criteria"],
            roles,
            write=self.write,
            is_new=is_new,
            note=lambda op, key, detail: self._add(op, "success criterion", key, detail),
            show=_show,
        )

    def _upsert(
        self,
        subject: str,
        model: type[CheckType] | type[TaskCategory] | type[Team] | type[VolunteerRole],
        rows: dict[str, Any],
        items: list[dict[str, Any]],
        fields: tuple[str, ...],
    ) -> tuple[set[str], set[str]]:
        """Add or update rows by key; returns the keys added and the existing keys changed."""
        added: set[str] = set()
        touched: set[str] = set()
        for position, item in enumerate(items):
            key = item["key"]
            row = rows.get(key)
            if row is None:
                self._add("+", subject, key)
                added.add(key)
                if self.write:
                    row = model(
                        key=key, position=position, **{field: item[field] for field in fields}
                    )
                    self.session.add(row)
                    rows[key] = row
                continue
            if isinstance(row, VolunteerRole) and not row.is_active:
                self._add("~", subject, key, "reactivated")
                touched.add(key)
                if self.write:
                    row.is_active = True
            for field in (*fields, "position"):
                new = position if field == "position" else item[field]
                old = getattr(row, field)
                if old != new:
                    self._add("~", subject, key, f"{field} {_show(old)} -> {_show(new)}")
                    touched.add(key)
                    if self.write:
                        setattr(row, field, new)
        return added, touched

    def _sync_links(
        self,
        item: dict[str, Any],
        role: VolunteerRole | None,
        is_added: bool,
        field: str,
        link: type[RoleCheckType] | type[RoleCategory] | type[RolePostingTeam],
        column: str,
        current: Mapping[uuid.UUID, set[uuid.UUID]],
        targets: Mapping[str, CheckType | TaskCategory | Team],
    ) -> bool:
        """Match one role's links to the file's keys; True when they differ."""
        current_ids = set() if is_added or role is None else current.get(role.id, set())
        by_id = {target.id: key for key, target in targets.items()}
        current_keys = {by_id[target_id] for target_id in current_ids}
        if current_keys == set(item[field]):
            return False
        if not is_added:  # a new role's links are implied by its "+ role" line
            old = sorted(current_keys, key=lambda key: (targets[key].position, key))
            self._add("~", "role", item["key"], f"{field} {_show(old)} -> {_show(item[field])}")
        if self.write:
            assert role is not None
            _replace_links(
                self.session,
                link,
                column,
                role.id,
                current_ids,
                {targets[key].id for key in item[field]},
            )
        return True

    def _remove_unused(
        self,
        subject: str,
        rows: Mapping[str, CheckType | TaskCategory | Team],
        items: Iterable[Mapping[str, Any]],
        used: Mapping[uuid.UUID, set[uuid.UUID]],
        outside: Sequence[VolunteerRole],
    ) -> None:
        """Delete rows the file dropped, unless a role outside the file still links them.

        Those roles are deactivated, but their requirements (and who may post in them)
        are part of their record: dropping a team from a deactivated role's list would
        quietly let anyone post in it once it is reactivated.

        A dropped team is deleted with its members' places in it; nothing else refers
        to a team, and the plan says how many members leave it.
        """
        keep = {item["key"] for item in items}
        for key, row in list(rows.items()):
            if key in keep:
                continue
            users = sorted(role.key for role in outside if row.id in used.get(role.id, set()))
            if users:
                names = ", ".join(users)
                if subject == "team":
                    held, short = "still name it in posted_by_teams", "Still named by role(s)"
                else:
                    held, short = "still require it", "Still required by role(s)"
                raise Conflict(
                    f"The file drops {subject} {key!r}, but deactivated role(s) {names} "
                    f"{held}. Keep it in the file, or first apply the file with "
                    f"those roles listed and {key!r} removed from them.",
                    errors={subject: {key: [f"{short} {names}."]}},
                )
            detail = ""
            if isinstance(row, Team):
                count = self.session.scalar(
                    select(func.count())
                    .select_from(MembershipTeam)
                    .where(MembershipTeam.team_id == row.id)
                )
                if count:
                    detail = f"({count} member{'s' if count != 1 else ''} taken out of it)"
                if self.write:
                    self.session.execute(
                        delete(MembershipTeam).where(MembershipTeam.team_id == row.id)
                    )
            self._add("-", subject, key, detail)
            if self.write:
                self.session.delete(row)
