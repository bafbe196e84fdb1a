"""The demo: both demo tenants with people in every role (`nyby demo`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from nyby.auth.models import Account
from nyby.auth.passwords import hash_password
from nyby.auth.permissions import Role
from nyby.auth.services import create_account, normalise_email
from nyby.clients.models import Client, ClientProfessional
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db, utcnow
from nyby.core.errors import NotFound
from nyby.geo import Place
from nyby.members.models import Membership
from nyby.members.services import add_member, set_teams
from nyby.onboarding.models import AssignmentStatus, CheckRecord, CheckStatus, RoleAssignment
from nyby.tasks.models import DETAIL_FIELDS, Task, TaskEvent, TaskSeries
from nyby.tasks.series import HORIZON, generate
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant

TENANTS_DIR = Path(__file__).resolve().parents[1] / "tenants"
DEMO_FILES = ("demo-borough.yaml", "demo-kommune.yaml")
DEMO_PASSWORD = "demo-password"  # noqa: S105 (printed for the demo on purpose)

DEMO_PEOPLE: dict[str, list[tuple[str, str, tuple[Role, ...]]]] = {
    "demo-borough": [
        ("admin@demo-borough.example", "Priya Shah", (Role.ADMIN, Role.COORDINATOR)),
        ("coordinator@demo-borough.example", "Tom Evans", (Role.COORDINATOR,)),
        ("nurse@demo-borough.example", "Grace Okafor", (Role.PROFESSIONAL,)),
        ("socialworker@demo-borough.example", "Ben Adeyemi", (Role.PROFESSIONAL,)),
        ("staff@demo-borough.example", "Dan Murphy", (Role.STAFF,)),
        ("volunteer@demo-borough.example", "Amy Clarke", (Role.VOLUNTEER,)),
        ("sam@demo-borough.example", "Sam Patel", (Role.VOLUNTEER,)),
        # One person in both tenants: memberships are per tenant, the account is not.
        ("kari@example.org", "Kari Nordmann", (Role.VOLUNTEER,)),
    ],
    "demo-kommune": [
        ("admin@demo-kommune.example", "Ingrid Berg", (Role.ADMIN, Role.COORDINATOR)),
        ("koordinator@demo-kommune.example", "Ola Hansen", (Role.COORDINATOR,)),
        ("sykepleier@demo-kommune.example", "Sofie Johansen", (Role.PROFESSIONAL,)),
        ("ansatt@demo-kommune.example", "Lars Nilsen", (Role.STAFF,)),
        ("frivillig@demo-kommune.example", "Emma Larsen", (Role.VOLUNTEER,)),
        ("kari@example.org", "Kari Nordmann", (Role.VOLUNTEER,)),
    ],
}


# (name, address, latitude, longitude, needs): fictional people at real-looking places.
DEMO_CLIENTS: dict[str, list[tuple[str, str, float, float, dict[str, object]]]] = {
    "demo-borough": [
        (
            "Edith Clark",
            "12 Example Road, SW1A 1AA",
            51.5014,
            -0.1419,
            {
                "hearing_impairment": True,
                "key_safe": True,
                "risk_assessment": "Lives alone; walks with a frame. Knock loudly and wait.",
            },
        ),
        (
            "Arthur Bennett",
            "4 Sample Close, SE11 4PT",
            51.4875,
            -0.1099,
            {
                "dementia": True,
                "pets": True,
                "risk_assessment": "Early dementia; his daughter sends the shopping lists.",
            },
        ),
        (
            "Mrs Begum",
            "Flat 7, Demo House, E1 6AN",
            51.5176,
            -0.0714,
            {"interpreter_language": "bn", "mobility_needs": True},
        ),
    ],
    "demo-kommune": [
        (
            "Astrid Solberg",
            "Eksempelveien 3, 0150 Oslo",
            59.9127,
            10.7461,
            {"hearing_impairment": True, "risk_assessment": "Bor alene i tredje etasje uten heis."},
        ),
        (
            "Knut Haugen",
            "Prøvegata 12, 0557 Oslo",
            59.9236,
            10.7579,
            {
                "lone_working_risk": True,
                "pets": True,
                "risk_assessment": "Stor hund; be om at den er i et annet rom.",
            },
        ),
    ],
}


# Teams per demo member. Grace, a discharge nurse, may post volunteer drivers; Ben, a
# social worker, may not (that role is posted by hospital discharge and the community hub).
DEMO_TEAMS: dict[str, dict[str, tuple[str, ...]]] = {
    "demo-borough": {
        "coordinator@demo-borough.example": ("community-hub",),
        "nurse@demo-borough.example": ("hospital-discharge",),
        "socialworker@demo-borough.example": ("adult-social-care",),
    },
    "demo-kommune": {
        "koordinator@demo-kommune.example": ("frivilligsentralen",),
        "sykepleier@demo-kommune.example": ("hjemmetjenesten",),
    },
}


# Approved roles per demo volunteer, with every check those roles need verified;
# checks named in the second list expired last month (to show a refusal naming them).
DEMO_QUALIFICATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "volunteer@demo-borough.example": (("shopping", "prescriptions", "check-in-and-chat"), ()),
    "sam@demo-borough.example": (("shopping", "odd-jobs"), ("dbs-basic",)),
    "frivillig@demo-kommune.example": (("handlehjelp", "ringevenn", "besoksvenn"), ()),
    # Kari moved from the borough to the kommune: her borough checks can travel there
    # (the volunteer passport).
    "kari@example.org": (("shopping", "prescriptions"), ()),
}


# Where each demo volunteer lives (latitude, longitude, km they will travel): "tasks near
# me" in the web app starts from here, so the demo's tasks show at once.
DEMO_HOME_AREAS: dict[str, tuple[float, float, float]] = {
    "volunteer@demo-borough.example": (51.5007, -0.1246, 10.0),
    "sam@demo-borough.example": (51.5155, -0.0922, 10.0),
    "frivillig@demo-kommune.example": (59.9170, 10.7500, 5.0),
}


def create_person(
    email: str,
    name: str,
    password: str,
    tenant_slug: str | None,
    roles: tuple[str, ...] | list[str],
) -> Account:
    """An account, and a membership with roles when a tenant is named (`nyby users create`)."""
    wanted = {Role(r) for r in roles}
    if roles and not tenant_slug:
        raise ValueError("--role needs --tenant")
    tenant = None
    if tenant_slug:
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
        if tenant is None:
            raise NotFound(f"no tenant {tenant_slug!r}")
    account = create_account(email, name, password)
    if tenant is not None:
        with tenant_scope(tenant.id):
            add_member(account, wanted or {Role.VOLUNTEER})
    db.session.commit()
    return account


def load_demo() -> list[tuple[str, str, str]]:
    """Apply both demo files and add their people; running it again changes nothing."""
    from nyby.configuration.files import apply_file

    for name in DEMO_FILES:
        apply_file(TENANTS_DIR / name)
    password_hash = hash_password(DEMO_PASSWORD)
    logins = []
    for slug, people in DEMO_PEOPLE.items():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        assert tenant is not None
        for email, name, roles in people:
            account = db.session.scalar(
                select(Account).where(Account.email == normalise_email(email))
            )
            if account is None:
                account = Account(
                    email=normalise_email(email), name=name, password_hash=password_hash
                )
                db.session.add(account)
                db.session.flush()
            with tenant_scope(tenant.id):
                add_member(account, set(roles))
                db.session.commit()
            logins.append((slug, email, ", ".join(r.value for r in roles)))
        _add_demo_teams(tenant)
        _add_demo_clients(tenant)
        _add_demo_qualifications(tenant)
        _add_demo_home_areas(tenant)
        _add_demo_tasks(tenant)
    return logins


# (client name, role key, title, description, minutes, starts in hours, due in hours)
DEMO_TASKS: dict[str, list[tuple[str, str, str, str, int, int, int]]] = {
    "demo-borough": [
        (
            "Edith Clark",
            "shopping",
            "Weekly shop",
            "Bread, milk, tea, tinned soup. Card on delivery.",
            60,
            2,
            48,
        ),
        (
            "Arthur Bennett",
            "prescriptions",
            "Collect repeat prescription",
            "Ready at the High Street pharmacy from noon.",
            45,
            1,
            24,
        ),
        (
            "Mrs Begum",
            "check-in-and-chat",
            "Check-in call",
            "A friendly call; she prefers Bengali.",
            30,
            3,
            30,
        ),
    ],
    "demo-kommune": [
        (
            "Astrid Solberg",
            "handlehjelp",
            "Ukentlig handel",
            "Melk, brød, kaffe og frukt.",
            60,
            2,
            48,
        ),
    ],
}


def _add_demo_tasks(tenant: Tenant) -> None:
    now = utcnow()
    with tenant_scope(tenant.id):
        if db.session.scalar(select(Task.id).limit(1)) is not None:
            return
        nurse = db.session.scalar(
            select(Membership).where(Membership.is_professional).order_by(Membership.created_at)
        )
        if nurse is None:
            return
        for client_name, role_key, title, description, minutes, starts, due in DEMO_TASKS[
            tenant.slug
        ]:
            client = db.session.scalars(select(Client).where(Client.name == client_name)).one()
            role = db.session.scalars(
                select(VolunteerRole).where(VolunteerRole.key == role_key)
            ).one()
            task = Task(
                client_id=client.id,
                role_id=role.id,
                posted_by=nurse.id,
                title=title,
                description=description,
                estimated_minutes=minutes,
                earliest_start=now + timedelta(hours=starts),
                due_by=now + timedelta(hours=due),
                address=client.address,
                **Place(client.latitude, client.longitude).columns(),
            )
            db.session.add(task)
            db.session.flush()
            db.session.add(TaskEvent(task_id=task.id, actor_id=nurse.id, to_status="open"))
        _add_demo_series(tenant, now)
        db.session.commit()


def _add_demo_series(tenant: Tenant, now: datetime) -> None:
    """The first task also repeats weekly from next week, so the demo shows a series."""
    first = db.session.scalars(select(Task).order_by(Task.earliest_start, Task.title)).first()
    if first is None:
        return
    series = TaskSeries(
        rrule="FREQ=WEEKLY",
        first_start=(first.earliest_start + timedelta(days=7)).replace(microsecond=0),
        window_minutes=int((first.due_by - first.earliest_start).total_seconds() // 60),
        **{field: getattr(first, field) for field in DETAIL_FIELDS},
    )
    db.session.add(series)
    db.session.flush()
    generate(series, tenant, until=now + HORIZON)


def _add_demo_teams(tenant: Tenant) -> None:
    """Adds the demo's team places; a place someone has been given since is kept."""
    with tenant_scope(tenant.id):
        for email, keys in DEMO_TEAMS[tenant.slug].items():
            member = db.session.scalars(
                select(Membership).join(Membership.account).where(Account.email == email)
            ).one()
            current = [team.key for team in member.teams]
            set_teams(member, current + [key for key in keys if key not in current])
        db.session.commit()


def _add_demo_home_areas(tenant: Tenant) -> None:
    with tenant_scope(tenant.id):
        for email, (latitude, longitude, radius) in DEMO_HOME_AREAS.items():
            member = db.session.scalar(
                select(Membership).join(Membership.account).where(Account.email == email)
            )
            if member is not None and member.home_latitude is None:
                member.home_latitude, member.home_longitude = latitude, longitude
                member.home_area_cell = Place(latitude, longitude).area_cell
                member.travel_radius_km = radius
        db.session.commit()


def _add_demo_qualifications(tenant: Tenant) -> None:
    now = utcnow()
    with tenant_scope(tenant.id):
        # Checks are verified by a coordinator, so a shared passport says who.
        verifier = db.session.scalar(
            select(Membership.id)
            .join(Membership.account)
            .where(Membership.is_coordinator, ~Membership.is_admin)
            .order_by(Account.email)
        )
        for email, (role_keys, expired) in DEMO_QUALIFICATIONS.items():
            member = db.session.scalar(
                select(Membership).join(Membership.account).where(Account.email == email)
            )
            if member is None:
                continue
            roles = db.session.scalars(
                select(VolunteerRole).where(VolunteerRole.key.in_(role_keys))
            ).all()
            held = set(
                db.session.scalars(
                    select(RoleAssignment.role_id).where(RoleAssignment.membership_id == member.id)
                )
            )
            checked = set(
                db.session.scalars(
                    select(CheckRecord.check_type_id).where(CheckRecord.membership_id == member.id)
                )
            )
            for role in roles:
                if role.id not in held:
                    db.session.add(
                        RoleAssignment(
                            membership_id=member.id,
                            role_id=role.id,
                            status=AssignmentStatus.APPROVED.value,
                            approved_at=now,
                        )
                    )
                    held.add(role.id)
                for check in role.check_types:
                    if check.id in checked:
                        continue
                    expires = (
                        now - timedelta(days=30)
                        if check.key in expired
                        else now + timedelta(days=30 * check.validity_months)
                        if check.validity_months
                        else None
                    )
                    db.session.add(
                        CheckRecord(
                            membership_id=member.id,
                            check_type_id=check.id,
                            status=CheckStatus.VERIFIED.value,
                            verified_at=now - timedelta(days=60),
                            expires_at=expires,
                            verified_by=verifier,
                        )
                    )
                    checked.add(check.id)
        db.session.commit()


def _add_demo_clients(tenant: Tenant) -> None:
    with tenant_scope(tenant.id):
        known = set(db.session.scalars(select(Client.name)))
        nurse = db.session.scalar(
            select(Membership).where(Membership.is_professional).order_by(Membership.created_at)
        )
        for name, address, latitude, longitude, needs in DEMO_CLIENTS[tenant.slug]:
            if name in known:
                continue
            client = Client(
                name=name, address=address, **Place(latitude, longitude).columns(), **needs
            )
            db.session.add(client)
            db.session.flush()
            if nurse is not None:
                db.session.add(ClientProfessional(client_id=client.id, membership_id=nurse.id))
        db.session.commit()
