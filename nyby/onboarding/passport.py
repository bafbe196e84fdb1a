"""The volunteer passport: a volunteer shares their verified checks with another tenant
they belong to, and that tenant's coordinators accept each one (it becomes their own
verified check) or decline it (they do the check again).

The consent is kept by the tenant that verified the checks (the source), the copies by
the tenant that receives them. Writing the copies is the platform's one deliberate
cross-tenant write, and it happens in one place: ``_in_receiving_tenant``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm.exc import StaleDataError

from nyby.auth.models import Account
from nyby.auth.permissions import Action
from nyby.configuration.models import CheckType
from nyby.core.api import Rows
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, NotFound, Unprocessable
from nyby.members.models import Membership
from nyby.notifications.services import notify
from nyby.onboarding.models import (
    CheckRecord,
    CheckStatus,
    PassportCheck,
    PassportConsent,
    PassportDecision,
)
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor, memberships_of


@dataclass(frozen=True)
class SharedCheck:
    """What travels: a copy of one verified check, as the receiving tenant will see it."""

    kind: str
    name: str
    verified_by_name: str
    verified_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class Sharing:
    """One of my other tenants, and whether (and when) I shared my checks with it."""

    tenant: Tenant
    consent: PassportConsent | None

    @property
    def shared(self) -> bool:
        return self.consent is not None and self.consent.revoked_at is None


# -- the one cross-tenant write ----------------------------------------------------


@contextmanager
def _in_receiving_tenant(tenant_id: uuid.UUID) -> Iterator[None]:
    """Run a block as the receiving tenant, inside the caller's transaction.

    The only place the platform writes to a tenant other than the URL's, on purpose:
    the volunteer consented, and the copies must land in the receiving tenant
    atomically with the consent (both commit or neither). ``tenant_scope`` moves the
    ORM filter, the flush guard and, on PostgreSQL, ``app.tenant_id`` (so row-level
    security checks these rows against the receiving tenant). Pending rows are flushed
    on the way in and out, so each row is written under its own tenant's scope.
    """
    db.session.flush()
    with tenant_scope(tenant_id):
        yield
        db.session.flush()


# -- the volunteer, in the source tenant -------------------------------------------


def _other_memberships(account: Account, here: uuid.UUID) -> list[tuple[Membership, Tenant]]:
    return [(m, t) for m, t in memberships_of(account) if t.id != here and m.is_active]


def sharing(actor: Actor) -> list[Sharing]:
    """My other tenants, each with my consent to share with it (if I gave one)."""
    others = _other_memberships(actor.account, actor.tenant.id)
    consents = {
        c.to_tenant_id: c
        for c in db.session.scalars(
            select(PassportConsent).where(PassportConsent.membership_id == actor.membership.id)
        )
    }
    return [Sharing(tenant, consents.get(tenant.id)) for _m, tenant in others]


def shareable_checks(member: Membership, at: datetime) -> list[SharedCheck]:
    """The member's verified, unexpired checks here, with who verified each.

    A check passed online (a training module) has no verifier: "". The copies are keyed
    by kind, so of two checks of one kind the one valid longest travels.
    """
    rows = db.session.execute(
        select(CheckRecord, CheckType, Account.name)
        .join(CheckType, CheckType.id == CheckRecord.check_type_id)
        .outerjoin(
            Membership,
            (Membership.tenant_id == CheckRecord.tenant_id)
            & (Membership.id == CheckRecord.verified_by),
        )
        .outerjoin(Account, Account.id == Membership.account_id)
        .where(
            CheckRecord.membership_id == member.id,
            CheckRecord.status == CheckStatus.VERIFIED.value,
            CheckRecord.verified_at.is_not(None),
            (CheckRecord.expires_at.is_(None)) | (CheckRecord.expires_at > at),
        )
        .order_by(CheckType.position, CheckType.key)
    ).all()
    best: dict[str, SharedCheck] = {}
    for record, check_type, verifier in rows:
        found = SharedCheck(
            kind=check_type.kind,
            name=check_type.name,
            verified_by_name=verifier or "",
            verified_at=record.verified_at,
            expires_at=record.expires_at,
        )
        kept = best.get(found.kind)
        if kept is None or _lasts_longer(found, kept):
            best[found.kind] = found
    return list(best.values())


def _lasts_longer(a: SharedCheck, b: SharedCheck) -> bool:
    if b.expires_at is None:
        return False
    return a.expires_at is None or a.expires_at > b.expires_at


def share(actor: Actor, to_tenant: str) -> dict[str, Any]:
    """Consent to show my verified checks to another tenant I belong to, and send them.

    Sharing again refreshes the copies: a check that changed since (renewed, say) is
    put back before that tenant's coordinators; one they decided and that has not
    changed keeps their decision.
    """
    found = [
        (m, t) for m, t in _other_memberships(actor.account, actor.tenant.id) if t.slug == to_tenant
    ]
    if not found:
        raise Unprocessable(
            "You can share your checks only with another tenant you are an active member of.",
            errors={"to_tenant": ["You are not an active member of this tenant."]},
        )
    [(receiver, target)] = found
    now = utcnow()
    consent = db.session.scalar(
        select(PassportConsent).where(
            PassportConsent.membership_id == actor.membership.id,
            PassportConsent.to_tenant_id == target.id,
        )
    )
    if consent is None:
        consent = PassportConsent(membership_id=actor.membership.id, to_tenant_id=target.id)
        db.session.add(consent)
    consent.given_at, consent.revoked_at = now, None
    checks = shareable_checks(actor.membership, now)
    source = actor.tenant
    with _in_receiving_tenant(target.id):
        changed = _store_copies(receiver.id, source, checks)
        if changed:
            for coordinator in _coordinators():
                notify(
                    coordinator,
                    "passport_shared",
                    person=actor.account.name,
                    tenant=source.name,
                    count=changed,
                    member_id=str(receiver.id),
                )
    db.session.flush()
    return {**_consent(consent, target), "shared_checks": [c.name for c in checks]}


def _store_copies(member_id: uuid.UUID, source: Tenant, checks: list[SharedCheck]) -> int:
    """Upsert the copies (receiving tenant's scope); how many are new or changed."""
    existing = {
        c.check_kind: c
        for c in db.session.scalars(
            select(PassportCheck).where(
                PassportCheck.membership_id == member_id,
                PassportCheck.from_tenant_id == source.id,
            )
        )
    }
    changed = 0
    for check in checks:
        copy = existing.get(check.kind)
        if copy is None:
            copy = PassportCheck(
                membership_id=member_id, from_tenant_id=source.id, check_kind=check.kind
            )
            db.session.add(copy)
        elif (copy.check_name, copy.verified_at, copy.expires_at, copy.verified_by_name) == (
            check.name,
            check.verified_at,
            check.expires_at,
            check.verified_by_name,
        ):
            copy.from_tenant_name = source.name
            continue
        copy.from_tenant_name = source.name
        copy.check_name = check.name
        copy.verified_by_name = check.verified_by_name
        copy.verified_at = check.verified_at
        copy.expires_at = check.expires_at
        copy.decision = PassportDecision.PENDING.value
        copy.decided_by = copy.decided_at = None
        changed += 1
    return changed


def _coordinators() -> list[uuid.UUID]:
    return list(
        db.session.scalars(
            select(Membership.id).where(Membership.is_coordinator, Membership.is_active)
        )
    )


def my_consents(actor: Actor) -> Rows:
    """The tenants I shared my checks with: when, and whether I took it back."""
    statement = (
        select(PassportConsent, Tenant)
        .join(Tenant, Tenant.id == PassportConsent.to_tenant_id)
        .where(PassportConsent.membership_id == actor.membership.id)
        .order_by(Tenant.name, PassportConsent.id)
    )
    return Rows(statement, lambda page: [_consent(row[0], row[1]) for row in page])


def _consent(consent: PassportConsent, tenant: Tenant) -> dict[str, Any]:
    return {
        "id": consent.id,
        "to_tenant": tenant.slug,
        "to_tenant_name": tenant.name,
        "given_at": consent.given_at,
        "revoked_at": consent.revoked_at,
    }


def get_consent_or_404(actor: Actor, consent_id: uuid.UUID) -> PassportConsent:
    """My own consents only; anyone else's is the same 404 as a missing one."""
    consent = db.session.scalar(
        select(PassportConsent).where(
            PassportConsent.id == consent_id,
            PassportConsent.membership_id == actor.membership.id,
        )
    )
    if consent is None:
        raise NotFound("No such consent.")
    return consent


def revoke(actor: Actor, consent: PassportConsent) -> dict[str, Any]:
    """Take the consent back. The receiving tenant loses the copies it has not decided
    on; what it decided stays its own (an accepted check is its own verified check now,
    with the passport named as its source). Revoking again changes nothing."""
    if consent.revoked_at is None:
        consent.revoked_at = utcnow()
    source_id = actor.tenant.id
    receivers = [m.id for m, t in memberships_of(actor.account) if t.id == consent.to_tenant_id]
    with _in_receiving_tenant(consent.to_tenant_id):
        if receivers:
            db.session.execute(
                delete(PassportCheck)
                .where(
                    PassportCheck.membership_id.in_(receivers),
                    PassportCheck.from_tenant_id == source_id,
                    PassportCheck.decision == PassportDecision.PENDING.value,
                )
                .execution_options(synchronize_session="fetch")
            )
    db.session.flush()
    target = db.session.get(Tenant, consent.to_tenant_id)
    assert target is not None  # the consent's foreign key
    return _consent(consent, target)


# -- the receiving tenant's coordinators -------------------------------------------


def received(actor: Actor, member: Membership) -> Select[Any]:
    """The checks shared with this tenant for a member, newest verification first."""
    actor.require(Action.VERIFY_VOLUNTEERS)
    return (
        select(PassportCheck)
        .where(PassportCheck.membership_id == member.id)
        .order_by(PassportCheck.from_tenant_name, PassportCheck.check_name, PassportCheck.id)
    )


def check_types_by_kind(actor: Actor) -> dict[str, list[CheckType]]:
    """This tenant's check types by kind: a shared check is accepted as one of its kind."""
    actor.require(Action.VERIFY_VOLUNTEERS)
    found: dict[str, list[CheckType]] = {}
    for check_type in db.session.scalars(
        select(CheckType).order_by(CheckType.position, CheckType.key)
    ):
        found.setdefault(check_type.kind, []).append(check_type)
    return found


def get_passport_check_or_404(
    actor: Actor, member: Membership, passport_check_id: uuid.UUID
) -> PassportCheck:
    actor.require(Action.VERIFY_VOLUNTEERS)
    check = db.session.scalar(
        select(PassportCheck).where(
            PassportCheck.id == passport_check_id, PassportCheck.membership_id == member.id
        )
    )
    if check is None:
        raise NotFound("No such shared check.")
    return check


def decide(
    actor: Actor, shared: PassportCheck, decision: str, check_key: str | None = None
) -> PassportCheck:
    """Accept a shared check in place of doing it again, or decline it. Final: a
    second decision (or a second coordinator at the same moment) is a 409."""
    actor.require(Action.VERIFY_VOLUNTEERS)
    if shared.decision != PassportDecision.PENDING.value:
        raise Conflict(f"This shared check was already {shared.decision}.")
    now = utcnow()
    if decision == PassportDecision.ACCEPTED:
        if shared.expires_at is not None and shared.expires_at <= now:
            raise Unprocessable(
                "This shared check has expired; it cannot be accepted.",
                errors={"decision": ["The shared check has expired."]},
            )
        _accept(actor, shared, check_key or "", now)
    shared.decision = decision
    shared.decided_by = actor.membership.id
    shared.decided_at = now
    try:
        db.session.flush()
    except StaleDataError:
        # Another coordinator decided between our read and this write.
        raise Conflict("Someone else decided on this shared check first.") from None
    return shared


def _accept(actor: Actor, shared: PassportCheck, check_key: str, now: datetime) -> None:
    check_type = db.session.scalar(select(CheckType).where(CheckType.key == check_key))
    if check_type is None or check_type.kind != shared.check_kind:
        raise Unprocessable(
            "Choose one of this tenant's checks of the same kind as the shared one.",
            errors={"check_type": [f"Not a check of the kind {shared.check_kind!r} here."]},
        )
    record = db.session.scalar(
        select(CheckRecord).where(
            CheckRecord.membership_id == shared.membership_id,
            CheckRecord.check_type_id == check_type.id,
        )
    )
    if record is None:
        record = CheckRecord(membership_id=shared.membership_id, check_type_id=check_type.id)
        db.session.add(record)
    record.status = CheckStatus.VERIFIED.value
    record.verified_at = now
    record.expires_at = shared.expires_at
    record.verified_by = actor.membership.id
    record.reason = ""
    record.expiry_warned_at = None
    by = f", verified by {shared.verified_by_name}" if shared.verified_by_name else ""
    on = shared.verified_at.date().isoformat()
    record.source = f"Passport: {shared.from_tenant_name}{by} on {on}"
