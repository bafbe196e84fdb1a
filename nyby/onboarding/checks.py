"""A volunteer's own checks: evidence they send, training modules they pass online,
and the daily sweep that warns before a check lapses and suspends roles when it does.

Coordinators' decisions on checks and roles are in ``onboarding.services``; who may
take a task is ``onboarding.qualification``.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from dateutil.relativedelta import relativedelta
from flask_babel import force_locale, format_date, gettext
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from nyby.auth.models import Account
from nyby.auth.permissions import Action
from nyby.configuration.models import CheckKind, CheckType, Evidence, RoleCheckType, VolunteerRole
from nyby.core.db import db, new_id, utcnow
from nyby.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from nyby.integrations.storage import EXTENSIONS, check_upload, tenant_files
from nyby.members.models import Membership
from nyby.notifications.services import notify, send_mail
from nyby.onboarding.models import AssignmentStatus, CheckRecord, CheckStatus, RoleAssignment
from nyby.tenancy.context import current_tenant_id
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor

# A verified check is renewed (new evidence, the module again) in its last 30 days,
# which is also when the daily sweep warns that it is about to lapse.
RENEWAL_WINDOW = timedelta(days=30)
ONLINE_TRAINING = "Online training module"
# Roles in which a member still needs their checks: a rejected application needs none.
NEEDING = (AssignmentStatus.APPLIED, AssignmentStatus.APPROVED, AssignmentStatus.SUSPENDED)
DBS_KINDS = frozenset({CheckKind.DBS_BASIC.value, CheckKind.DBS_ENHANCED.value})
KNOWN_EXTENSIONS = frozenset(ext for exts in EXTENSIONS.values() for ext in exts)


# --------------------------------------------------------------------------- my checks


def my_checks(actor: Actor) -> list[dict[str, Any]]:
    """Each check my roles need (roles applied for, held or paused), with where I stand."""
    member = actor.membership
    rows = db.session.execute(
        select(CheckType, VolunteerRole.name)
        .join(RoleCheckType, RoleCheckType.check_type_id == CheckType.id)
        .join(VolunteerRole, VolunteerRole.id == RoleCheckType.role_id)
        .join(RoleAssignment, RoleAssignment.role_id == VolunteerRole.id)
        .where(
            RoleAssignment.membership_id == member.id,
            RoleAssignment.status.in_([s.value for s in NEEDING]),
        )
        .order_by(CheckType.position, CheckType.key, VolunteerRole.position)
    ).all()
    needed: dict[uuid.UUID, tuple[CheckType, list[str]]] = {}
    for check_type, role_name in rows:
        needed.setdefault(check_type.id, (check_type, []))[1].append(role_name)
    records = {
        r.check_type_id: r
        for r in db.session.scalars(
            select(CheckRecord).where(CheckRecord.membership_id == member.id)
        )
    }
    now = utcnow()
    return [
        present_my_check(check_type, records.get(check_type.id), now, roles)
        for check_type, roles in needed.values()
    ]


def my_check(actor: Actor, check_type: CheckType) -> dict[str, Any]:
    """Where I stand on one check my roles need (after sending evidence, say)."""
    for found in my_checks(actor):
        if found["id"] == check_type.id:
            return found
    raise NotFound(gettext("None of your roles needs this check."))


def present_my_check(
    check_type: CheckType, record: CheckRecord | None, now: datetime, roles: list[str]
) -> dict[str, Any]:
    return {
        "id": check_type.id,
        "key": check_type.key,
        "name": check_type.name,
        "description": check_type.description,
        "kind": check_type.kind,
        "evidence_wanted": check_type.evidence,
        "training_available": check_type.training is not None,
        "roles": roles,
        "status": record.status if record else None,
        "reason": record.reason if record else "",
        "submitted_at": record.submitted_at if record else None,
        "evidence_file_name": record.evidence_file_name if record else None,
        "evidence_number_sent": bool(record and record.evidence_number),
        "verified_at": record.verified_at if record else None,
        "expires_at": record.expires_at if record else None,
        "may_send": record is None or _may_renew(record, now),
    }


def _require_needed(actor: Actor, check_type: CheckType) -> None:
    needed = db.session.scalar(
        select(RoleAssignment.id)
        .join(RoleCheckType, RoleCheckType.role_id == RoleAssignment.role_id)
        .where(
            RoleAssignment.membership_id == actor.membership.id,
            RoleAssignment.status.in_([s.value for s in NEEDING]),
            RoleCheckType.check_type_id == check_type.id,
        )
        .limit(1)
    )
    if needed is None:
        raise Forbidden(
            gettext("None of your roles needs this check: apply for a role that does first.")
        )


def _my_record(actor: Actor, check_type: CheckType) -> CheckRecord | None:
    # Locked: two uploads from two tabs at once replace the evidence one after the other.
    return db.session.scalar(
        select(CheckRecord)
        .where(
            CheckRecord.membership_id == actor.membership.id,
            CheckRecord.check_type_id == check_type.id,
        )
        .with_for_update()
    )


def _may_renew(record: CheckRecord, now: datetime) -> bool:
    """Anything but a verified check far from its expiry can be sent (again)."""
    if record.status != CheckStatus.VERIFIED:
        return True
    return record.expires_at is not None and record.expires_at - now <= RENEWAL_WINDOW


def _refuse_if_done(record: CheckRecord | None, now: datetime) -> None:
    if record is not None and not _may_renew(record, now):
        if record.expires_at is None:
            raise Conflict(gettext("This check is verified and does not expire."))
        raise Conflict(
            gettext(
                "This check is verified until %(date)s; you can renew it from %(from)s.",
                date=format_date(record.expires_at, "long"),
                **{"from": format_date(record.expires_at - RENEWAL_WINDOW, "long")},
            )
        )


# --------------------------------------------------------------------------- evidence


def submit_evidence(
    actor: Actor, check_type: CheckType, upload: FileStorage | None, number: str | None
) -> CheckRecord:
    """Store what the volunteer sends for a check; it then waits for a coordinator.

    A check still verified (and renewed early) stays verified meanwhile, so the volunteer
    keeps taking tasks until the coordinator decides on the new evidence.
    """
    _require_needed(actor, check_type)
    if check_type.evidence == Evidence.NONE:
        raise Unprocessable(
            gettext("There is nothing to upload for this check: a coordinator records it."),
            errors={"file": [gettext("Nothing to upload for this check.")]},
        )
    if upload is not None and not upload.filename and not upload.content_length:
        upload = None  # an empty file input sends an empty part
    if check_type.evidence == Evidence.DOCUMENT and upload is None:
        raise Unprocessable(
            gettext("Send a photo or scan of the document."),
            errors={"file": [gettext("Missing data for required field.")]},
        )
    if check_type.evidence == Evidence.NUMBER and not number:
        raise Unprocessable(
            gettext("Send the certificate number."),
            errors={"number": [gettext("Missing data for required field.")]},
        )
    if number is not None:
        number = _certificate_number(check_type, number)
    now = utcnow()
    record = _my_record(actor, check_type)
    _refuse_if_done(record, now)
    if record is None:
        record = CheckRecord(membership_id=actor.membership.id, check_type_id=check_type.id)
        db.session.add(record)
    if record.status != CheckStatus.VERIFIED:
        record.status = CheckStatus.PENDING.value
        record.verified_at = record.expires_at = record.verified_by = None
        record.source = ""
    record.reason = ""
    record.submitted_at = now
    if number is not None:
        record.evidence_number = number
    if upload is not None:
        _store_file(actor, check_type, record, upload)
    db.session.flush()
    return record


def _certificate_number(check_type: CheckType, number: str) -> str:
    compact = "".join(number.split()).replace("-", "")
    if check_type.kind in DBS_KINDS and not (compact.isdigit() and len(compact) == 12):
        raise Unprocessable(
            gettext("A DBS certificate number has 12 digits."),
            errors={"number": [gettext("A DBS certificate number has 12 digits.")]},
        )
    if not compact.isalnum() or not 4 <= len(compact) <= 64:
        raise Unprocessable(
            gettext("A certificate number is 4 to 64 letters and digits."),
            errors={"number": [gettext("A certificate number is 4 to 64 letters and digits.")]},
        )
    return compact


def _store_file(
    actor: Actor, check_type: CheckType, record: CheckRecord, upload: FileStorage
) -> None:
    checked = check_upload(upload.stream, upload.filename)
    suffix = PurePosixPath((upload.filename or "").replace("\\", "/")).suffix.lower()
    if suffix and suffix not in EXTENSIONS[checked.content_type]:
        # A PDF named photo.jpg, or a photo named .exe: one of the two is not what it says.
        raise Unprocessable(
            gettext("The file's content does not match its name (%(suffix)s).", suffix=suffix),
            errors={"file": [gettext("The content does not match the file name.")]},
        )
    files = tenant_files()
    key = files.key("members", actor.membership.id, "checks", check_type.id, new_id())
    old = record.evidence_key
    record.evidence_key = key
    record.evidence_file_name = checked.file_name
    record.evidence_content_type = checked.content_type
    record.evidence_size = checked.size
    # Registered before the upload starts: whatever fails from here on leaves no file.
    db.on_rollback(lambda: files.delete(key))
    files.put(key, checked.stream, checked.content_type)
    if old is not None:
        db.on_commit(lambda: files.delete(old))


def evidence_of_member(actor: Actor, member: Membership) -> dict[uuid.UUID, dict[str, Any]]:
    """Each of a member's checks with evidence, by check id (a coordinator's page)."""
    actor.require(Action.VERIFY_VOLUNTEERS)
    records = db.session.scalars(
        select(CheckRecord).where(
            CheckRecord.membership_id == member.id,
            (CheckRecord.evidence_key.is_not(None)) | (CheckRecord.evidence_number.is_not(None)),
        )
    )
    return {record.id: present_evidence(record) for record in records}


def present_evidence(record: CheckRecord) -> dict[str, Any]:
    """What the volunteer sent, with a link to the file for the next few minutes.

    Only for a caller the access helper let through (coordinators): the link itself
    checks nothing but its signature and age.
    """
    files = tenant_files()
    link = expires = None
    if record.evidence_key is not None:
        link = files.download_url(
            record.evidence_key,
            file_name=record.evidence_file_name or "evidence",
            content_type=record.evidence_content_type or "application/octet-stream",
        )
        expires = utcnow() + timedelta(seconds=files.url_seconds)
    return {
        "check_id": record.id,
        "status": record.status,
        "file_name": record.evidence_file_name,
        "content_type": record.evidence_content_type,
        "size": record.evidence_size,
        "number": record.evidence_number,
        "submitted_at": record.submitted_at,
        "download_url": link,
        "download_expires_at": expires,
    }


# --------------------------------------------------------------------------- training


def training_module(actor: Actor, check_type: CheckType) -> dict[str, Any]:
    """The module's questions and options, never its answers (anyone in the tenant may
    read them before applying)."""
    training = _training_of(check_type)
    questions = training["questions"]
    return {
        "check_id": check_type.id,
        "check": check_type.key,
        "name": check_type.name,
        "introduction": training.get("introduction", ""),
        "pass_mark": _needed(training["pass_mark"], len(questions)),
        "questions": [
            {"number": index + 1, "question": q["question"], "options": q["options"]}
            for index, q in enumerate(questions)
        ],
    }


def take_training(actor: Actor, check_type: CheckType, answers: list[int]) -> dict[str, Any]:
    """Mark the answers; a pass verifies the check at once (verified by nobody: online)."""
    training = _training_of(check_type)
    _require_needed(actor, check_type)
    questions = training["questions"]
    if len(answers) != len(questions):
        raise Unprocessable(
            gettext("Answer each of the %(count)s questions.", count=len(questions)),
            errors={"answers": [gettext("One answer per question.")]},
        )
    wrong = [
        str(index + 1)
        for index, (answer, q) in enumerate(zip(answers, questions, strict=True))
        if not 0 <= answer < len(q["options"])
    ]
    if wrong:
        raise Unprocessable(
            gettext("No such option in question(s) %(numbers)s.", numbers=", ".join(wrong)),
            errors={"answers": [gettext("Choose one of the options.")]},
        )
    now = utcnow()
    record = _my_record(actor, check_type)
    _refuse_if_done(record, now)
    score = sum(answer == q["answer"] for answer, q in zip(answers, questions, strict=True))
    needed = _needed(training["pass_mark"], len(questions))
    passed = score >= needed
    if passed:
        if record is None:
            record = CheckRecord(membership_id=actor.membership.id, check_type_id=check_type.id)
            db.session.add(record)
        record.status = CheckStatus.VERIFIED.value
        record.verified_at = now
        record.verified_by = None
        record.source = ONLINE_TRAINING
        record.reason = ""
        record.expiry_warned_at = None
        record.expires_at = (
            now + relativedelta(months=check_type.validity_months)
            if check_type.validity_months is not None
            else None
        )
        db.session.flush()
    return {
        "passed": passed,
        "score": score,
        "out_of": len(questions),
        "pass_mark": needed,
        "expires_at": record.expires_at if passed and record is not None else None,
    }


def _training_of(check_type: CheckType) -> dict[str, Any]:
    if check_type.training is None:
        raise NotFound(gettext("This check has no online training module."))
    return check_type.training


def _needed(pass_mark: float, questions: int) -> int:
    """Right answers needed: a fraction of the questions (0.8), or a count (4)."""
    if pass_mark > 1:
        return int(pass_mark)
    return max(1, math.ceil(pass_mark * questions - 1e-9))


# --------------------------------------------------------------------------- the sweep


def sweep_expiring_checks(now: datetime) -> dict[str, int]:
    """The daily sweep of the current tenant: warn once 30 days before a check lapses;
    at expiry mark it expired and suspend every approved role that requires it.

    Each record moves on only from the state it was selected in, so a second run (or
    two workers at once) warns and suspends nobody twice.
    """
    tenant = db.session.get(Tenant, current_tenant_id())
    assert tenant is not None
    warned = suspended = expired = 0
    expiring = db.session.execute(
        select(CheckRecord, CheckType)
        .join(CheckType, CheckType.id == CheckRecord.check_type_id)
        .where(
            CheckRecord.status == CheckStatus.VERIFIED.value,
            CheckRecord.expires_at > now,
            CheckRecord.expires_at <= now + RENEWAL_WINDOW,
            CheckRecord.expiry_warned_at.is_(None),
        )
        .with_for_update(of=CheckRecord)
    ).all()
    for record, check_type in expiring:
        record.expiry_warned_at = now
        _tell_expiring(tenant, record, check_type)
        warned += 1
    lapsed = db.session.execute(
        select(CheckRecord, CheckType)
        .join(CheckType, CheckType.id == CheckRecord.check_type_id)
        .where(
            CheckRecord.status == CheckStatus.VERIFIED.value,
            CheckRecord.expires_at <= now,
        )
        .with_for_update(of=CheckRecord)
    ).all()
    for record, check_type in lapsed:
        record.status = CheckStatus.EXPIRED.value
        expired += 1
        suspended += _suspend_roles_needing(tenant, record, check_type, now)
    db.session.flush()
    return {"warned": warned, "expired": expired, "suspended": suspended}


def _suspend_roles_needing(
    tenant: Tenant, record: CheckRecord, check_type: CheckType, now: datetime
) -> int:
    assert record.expires_at is not None
    assignments = db.session.execute(
        select(RoleAssignment, VolunteerRole.name)
        .join(VolunteerRole, VolunteerRole.id == RoleAssignment.role_id)
        .join(RoleCheckType, RoleCheckType.role_id == RoleAssignment.role_id)
        .where(
            RoleAssignment.membership_id == record.membership_id,
            RoleAssignment.status == AssignmentStatus.APPROVED.value,
            RoleCheckType.check_type_id == check_type.id,
        )
        .order_by(VolunteerRole.position)
    ).all()
    member, account = _member_and_account(record.membership_id)
    with force_locale(account.locale or tenant.locale):
        reason = gettext(
            "%(check)s expired on %(date)s",
            check=check_type.name,
            date=format_date(record.expires_at, "long"),
        )
    roles = []
    for assignment, role_name in assignments:
        assignment.status = AssignmentStatus.SUSPENDED.value
        assignment.decided_by = None  # the sweep, not a coordinator
        assignment.decided_at = now
        assignment.reason = reason
        roles.append(role_name)
        # The one mail below names every paused role.
        notify(member.id, "role_suspended", inbox_only=True, role=role_name, reason=reason)
    notify(member.id, "check_expired", check=check_type.name, roles=", ".join(roles))
    with force_locale(account.locale or tenant.locale):
        subject = gettext("Your %(check)s has expired", check=check_type.name)
        body = gettext(
            "Hello %(name)s,\n\nyour %(check)s with %(tenant)s expired on %(date)s.\n",
            name=account.name,
            check=check_type.name,
            tenant=tenant.name,
            date=format_date(record.expires_at, "long"),
        )
        if roles:
            body += gettext(
                "Until it is renewed you cannot take tasks as: %(roles)s.\n", roles=", ".join(roles)
            )
        body += gettext("Send new evidence under “My roles and checks” in the app.\n")
    send_mail(account.email, "check_expired", subject, body)
    return len(roles)


def _tell_expiring(tenant: Tenant, record: CheckRecord, check_type: CheckType) -> None:
    assert record.expires_at is not None
    member, account = _member_and_account(record.membership_id)
    with force_locale(account.locale or tenant.locale):
        date = format_date(record.expires_at, "long")
        subject = gettext("Your %(check)s expires on %(date)s", check=check_type.name, date=date)
        body = gettext(
            "Hello %(name)s,\n\nyour %(check)s with %(tenant)s expires on %(date)s. "
            "Renew it before then under “My roles and checks” in the app, so you can "
            "keep taking tasks.\n",
            name=account.name,
            check=check_type.name,
            tenant=tenant.name,
            date=date,
        )
    notify(
        member.id,
        "check_expiring",
        check=check_type.name,
        date=record.expires_at.date().isoformat(),
    )
    send_mail(account.email, "check_expiring", subject, body)


def _member_and_account(membership_id: uuid.UUID) -> tuple[Membership, Account]:
    member = db.session.scalars(select(Membership).where(Membership.id == membership_id)).one()
    return member, member.account
