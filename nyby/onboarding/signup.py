"""Signing up as a volunteer: roles chosen, the agreement accepted, email verified, and
a parent's or guardian's consent for under-18s.

Links in mails carry tokens signed with SECRET_KEY (itsdangerous), not stored rows:
nothing to clean up, and a link is bound to what it was made for (the email address it
verifies; the tenant, membership and guardian it asks consent of).
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import force_locale, gettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from nyby.auth.models import Account
from nyby.auth.services import create_account, normalise_email
from nyby.campaigns.models import Campaign
from nyby.campaigns.services import find_open_campaign
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db, utcnow
from nyby.core.errors import (
    Conflict,
    DomainError,
    Gone,
    NotFound,
    TooManyRequests,
    Unprocessable,
)
from nyby.geo import Place
from nyby.members.models import Membership
from nyby.notifications.models import OutgoingMail
from nyby.notifications.services import notify, send_mail
from nyby.onboarding.models import RoleAssignment
from nyby.onboarding.qualification import ADULT_AGE, age_on
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor, memberships_of

VERIFY_SALT = "nyby.verify-email"
CONSENT_SALT = "nyby.guardian-consent"
VERIFY_FOR = timedelta(days=3)
# A parent may read the mail late; consent a few weeks on is still consent.
CONSENT_FOR = timedelta(days=30)
RESEND_AFTER = timedelta(minutes=1)
# Copied from a person's other membership when they sign up again elsewhere.
CARRIED = ("availability", "skills", "languages")


def _invalid_link() -> Unprocessable:
    """A link that was altered, or made for something else."""
    message = gettext("This link is not valid. Check that it was copied whole.")
    return Unprocessable(message, errors={"token": [message]})


def _already_member() -> Conflict:
    return Conflict(gettext("You are already a member here: see “My roles and checks”."))


def _signer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _read(token: str, salt: str, max_age: timedelta) -> dict[str, str]:
    try:
        found = _signer(salt).loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise Gone(gettext("This link has expired. Ask for a new one."))
    except BadSignature:
        raise _invalid_link()
    if not isinstance(found, dict):
        raise _invalid_link()
    return found


def local_today(tenant: Tenant) -> date:
    """Ages turn over at midnight where the tenant's people live."""
    return datetime.now(ZoneInfo(tenant.timezone)).date()


# -- what the sign-up page shows ------------------------------------------------------------


def roles_open_for_sign_up() -> list[VolunteerRole]:
    """The roles a volunteer may apply for, with the checks each needs, in file order."""
    return list(
        db.session.scalars(
            select(VolunteerRole)
            .where(VolunteerRole.is_active, VolunteerRole.staff_only.is_(False))
            .options(selectinload(VolunteerRole.check_types))
            .order_by(VolunteerRole.position, VolunteerRole.key)
        )
    )


def campaign_for_page(key: str | None, tenant: Tenant) -> tuple[Campaign | None, str | None]:
    """A campaign link's campaign, or why it cannot be used (the page still signs up)."""
    if not key:
        return None, None
    try:
        return find_open_campaign(key, local_today(tenant)), None
    except DomainError as error:
        return None, error.detail


# -- signing up -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedUp:
    account: Account
    membership: Membership
    guardian_consent_needed: bool


def sign_up(
    tenant: Tenant, account: Account | None, body: dict[str, Any], locale: str | None = None
) -> SignedUp:
    """A new volunteer (``account`` None) or a person already known to the platform
    (logged in) applies for roles in this tenant.

    Everything is checked before anything is written, so a refusal stores nothing;
    the unique email and the unique (tenant, account) membership decide between two
    identical sign-ups at the same moment.
    """
    today = local_today(tenant)
    if account is not None and db.session.scalar(
        select(Membership.id).where(Membership.account_id == account.id)
    ):
        raise _already_member()
    campaign = find_open_campaign(body["campaign"], today) if body.get("campaign") else None
    roles = _chosen_roles(body["roles"])
    earlier = _latest_other_membership(account) if account is not None else None
    born = _born(account, body, today)
    _check_ages(born, today, roles)
    guardian = body.get("guardian") or (
        {"name": earlier.guardian_name, "email": earlier.guardian_email}
        if earlier is not None and earlier.guardian_email
        else None
    )
    minor = age_on(born, today) < ADULT_AGE
    if minor and not guardian:
        raise Unprocessable(
            gettext(
                "Volunteers under 18 need a parent's or guardian's consent: "
                "give their name and email."
            ),
            errors={"guardian": [gettext("Give a parent's or guardian's name and email.")]},
        )
    if account is None:
        account = _new_account(body, born, locale)
    else:
        _refuse_account_fields(body)
        if account.date_of_birth is None:
            account.date_of_birth = born
    if minor and guardian is not None and normalise_email(guardian["email"]) == account.email:
        raise Unprocessable(
            gettext("Give your parent's or guardian's own email address."),
            errors={"guardian": {"email": [gettext("This is your own email address.")]}},
        )

    now = utcnow()
    member = Membership(
        account_id=account.id,
        account=account,
        is_volunteer=True,
        campaign_id=campaign.id if campaign is not None else None,
        agreement_accepted_at=now,
    )
    for name in CARRIED:
        value = body[name] if name in body else getattr(earlier, name) if earlier else []
        setattr(member, name, copy.deepcopy(value))
    _place_home(member, body.get("home_area", _home_of(earlier)))
    if minor and guardian is not None:
        member.guardian_name = guardian["name"]
        member.guardian_email = normalise_email(guardian["email"])
    try:
        with db.session.begin_nested():
            db.session.add(member)
            db.session.flush()
    except IntegrityError:
        raise _already_member()
    db.session.add_all(RoleAssignment(membership_id=member.id, role_id=role.id) for role in roles)
    db.session.flush()

    notify(member.id, "signed_up", roles=", ".join(role.name for role in roles))
    if account.email_verified_at is None:
        _mail_verification(tenant, account)
    if member.guardian_email:
        _mail_guardian(tenant, account, member, roles)
    return SignedUp(account, member, guardian_consent_needed=bool(member.guardian_email))


def _chosen_roles(keys: list[str]) -> list[VolunteerRole]:
    found = {
        role.key: role
        for role in db.session.scalars(
            select(VolunteerRole).where(
                VolunteerRole.key.in_(keys),
                VolunteerRole.is_active,
                VolunteerRole.staff_only.is_(False),
            )
        )
    }
    unknown = {
        i: [gettext("No such role to sign up for.")]
        for i, key in enumerate(keys)
        if key not in found
    }
    if unknown:
        names = ", ".join(repr(key) for key in keys if key not in found)
        raise Unprocessable(
            gettext("No such role to sign up for: %(roles)s.", roles=names),
            errors={"roles": unknown},
        )
    return [found[key] for key in keys]


def _born(account: Account | None, body: dict[str, Any], today: date) -> date:
    given: date | None = body.get("date_of_birth")
    known = account.date_of_birth if account is not None else None
    if known is not None and given is not None and given != known:
        raise Unprocessable(
            gettext("Your account has another date of birth; ask a coordinator to correct it."),
            errors={"date_of_birth": [gettext("Differs from the date of birth on your account.")]},
        )
    born = known or given
    if born is None:
        raise Unprocessable(
            gettext("Give your date of birth: roles have minimum ages."),
            errors={"date_of_birth": [gettext("Please fill this in.")]},
        )
    if born > today or born.year < 1900:
        raise Unprocessable(
            gettext("That date of birth cannot be right."),
            errors={"date_of_birth": [gettext("Enter your real date of birth.")]},
        )
    return born


def _check_ages(born: date, today: date, roles: list[VolunteerRole]) -> None:
    age = age_on(born, today)
    young = {
        i: [
            gettext(
                "You must be at least %(age)s to volunteer as %(role)s.",
                age=role.min_age,
                role=role.name,
            )
        ]
        for i, role in enumerate(roles)
        if role.min_age is not None and age < role.min_age
    }
    if young:
        names = ", ".join(
            gettext("%(role)s (from %(age)s)", role=role.name, age=role.min_age)
            for role in roles
            if role.min_age is not None and age < role.min_age
        )
        raise Unprocessable(
            gettext("Too young for: %(roles)s.", roles=names), errors={"roles": young}
        )


def _new_account(body: dict[str, Any], born: date, locale: str | None) -> Account:
    missing = {
        name: [gettext("Please fill this in.")]
        for name in ("name", "email", "password")
        if not body.get(name)
    }
    if missing:
        raise Unprocessable(
            gettext("Name, email and password are needed to sign up."), errors=missing
        )
    email = normalise_email(body["email"])
    if db.session.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise _already_registered()
    try:
        with db.session.begin_nested():
            account = create_account(email, body["name"], body["password"], body.get("phone"))
    except (IntegrityError, Conflict):
        raise _already_registered()
    account.date_of_birth = born
    account.locale = locale
    return account


def _already_registered() -> Conflict:
    # Says nothing else about the account: only that this email is taken.
    return Conflict(
        gettext("This email is already registered. Log in, then sign up here from your account."),
        errors={"email": [gettext("Already registered: log in first, then sign up.")]},
    )


def _refuse_account_fields(body: dict[str, Any]) -> None:
    given = [name for name in ("name", "email", "password", "phone") if name in body]
    if given:
        raise Unprocessable(
            gettext("You are logged in: your account's details are used."),
            errors={name: [gettext("Not needed when logged in.")] for name in given},
        )


def _latest_other_membership(account: Account) -> Membership | None:
    """Where a known person last signed up: what they told us then is copied."""
    others = [m for m, _tenant in memberships_of(account)]
    return max(others, key=lambda m: m.created_at) if others else None


def _home_of(member: Membership | None) -> dict[str, Any] | None:
    if member is None or member.home_latitude is None or member.home_longitude is None:
        return None
    return {
        "latitude": member.home_latitude,
        "longitude": member.home_longitude,
        "travel_radius_km": member.travel_radius_km,
    }


def _place_home(member: Membership, area: dict[str, Any] | None) -> None:
    if area is None:
        return
    member.home_latitude, member.home_longitude = area["latitude"], area["longitude"]
    member.home_area_cell = Place(area["latitude"], area["longitude"]).area_cell
    member.travel_radius_km = area.get("travel_radius_km")


# -- email verification ---------------------------------------------------------------------


def _mail_verification(tenant: Tenant, account: Account) -> None:
    token = _signer(VERIFY_SALT).dumps({"account": str(account.id), "email": account.email})
    link = url_for("web.verify_email", tenant=tenant.slug, token=token, _external=True)
    with force_locale(account.locale or tenant.locale):
        subject = gettext("Confirm your email address for %(tenant)s", tenant=tenant.name)
        body = gettext(
            "Hello %(name)s,\n\nThank you for signing up to volunteer with %(tenant)s. "
            "Please confirm your email address by opening this link within 3 days:\n\n"
            "%(link)s\n\nIf you did not sign up, you can ignore this message.",
            name=account.name,
            tenant=tenant.name,
            link=link,
        )
    send_mail(account.email, "verify_email", subject, body)


def resend_verification(actor: Actor) -> str:
    """Mail the link again (at most once a minute); returns where it went."""
    account = actor.account
    if account.email_verified_at is not None:
        raise Conflict(gettext("Your email address is already confirmed."))
    last = db.session.scalar(
        select(OutgoingMail.created_at)
        .where(OutgoingMail.to_address == account.email, OutgoingMail.kind == "verify_email")
        .order_by(OutgoingMail.created_at.desc())
        .limit(1)
    )
    if last is not None and utcnow() - last < RESEND_AFTER:
        raise TooManyRequests(
            gettext("We sent a link less than a minute ago: check your inbox first.")
        )
    _mail_verification(actor.tenant, account)
    return account.email


def verify_email(token: str) -> Account:
    """Follow the mailed link: the account's email is confirmed (again is fine)."""
    found = _read(token, VERIFY_SALT, VERIFY_FOR)
    account = db.session.get(Account, _uuid(found.get("account")))
    # A link for an address the account no longer has proves nothing.
    if account is None or account.email != found.get("email"):
        raise _invalid_link()
    if account.email_verified_at is None:
        account.email_verified_at = utcnow()
        db.session.flush()
    return account


# -- guardian consent -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentRequest:
    """What a guardian sees before consenting."""

    member: Membership
    roles: list[VolunteerRole]
    tenant: Tenant


def _mail_guardian(
    tenant: Tenant, account: Account, member: Membership, roles: list[VolunteerRole]
) -> None:
    assert member.guardian_email is not None
    token = _signer(CONSENT_SALT).dumps(
        {"tenant": str(tenant.id), "member": str(member.id), "guardian": member.guardian_email}
    )
    link = url_for("web.guardian_consent", tenant=tenant.slug, token=token, _external=True)
    with force_locale(account.locale or tenant.locale):
        subject = gettext(
            "%(name)s asks for your consent to volunteer with %(tenant)s",
            name=account.name,
            tenant=tenant.name,
        )
        body = gettext(
            "Hello %(guardian)s,\n\n%(name)s has signed up to volunteer with %(tenant)s as: "
            "%(roles)s. Because they are under 18, we need the consent of a parent or "
            "guardian before they can start.\n\nOpen this link to read the roles and the "
            "volunteer agreement, and to give your consent (valid for 30 days):\n\n"
            "%(link)s\n\nIf you do not know %(name)s, you can ignore this message.",
            guardian=member.guardian_name,
            name=account.name,
            tenant=tenant.name,
            roles=", ".join(role.name for role in roles),
            link=link,
        )
    send_mail(member.guardian_email, "guardian_consent", subject, body)


def consent_request(tenant: Tenant, token: str) -> ConsentRequest:
    """The young person, their roles and the agreement, for the guardian's page.

    A link made for another tenant is the same 404 as an unknown one."""
    found = _read(token, CONSENT_SALT, CONSENT_FOR)
    if found.get("tenant") != str(tenant.id):
        raise NotFound("No such consent request.")
    member = db.session.scalar(
        select(Membership).where(Membership.id == _uuid(found.get("member")))
    )
    # A guardian changed since the mail was sent: the old link no longer speaks for them.
    if member is None or member.guardian_email != found.get("guardian"):
        raise NotFound("No such consent request.")
    roles = db.session.scalars(
        select(VolunteerRole)
        .join(RoleAssignment, RoleAssignment.role_id == VolunteerRole.id)
        .where(RoleAssignment.membership_id == member.id)
        .order_by(VolunteerRole.position, VolunteerRole.key)
    ).all()
    return ConsentRequest(member, list(roles), tenant)


def give_guardian_consent(tenant: Tenant, token: str) -> Membership:
    """The guardian consents: recorded once (a second click changes nothing)."""
    member = consent_request(tenant, token).member
    if member.guardian_consent_at is None:
        member.guardian_consent_at = utcnow()
        db.session.flush()
    return member


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def describe(tenant: Tenant, signed: SignedUp) -> dict[str, Any]:
    """The sign-up's answer: the new membership's roles and what each still needs."""
    from nyby.onboarding.services import qualifications

    actor = Actor(account=signed.account, tenant=tenant, membership=signed.membership)
    return {
        "membership_id": signed.membership.id,
        "email_verified": signed.account.email_verified_at is not None,
        "guardian_consent_needed": signed.guardian_consent_needed,
        "qualifications": qualifications(actor, signed.membership),
    }
