"""Expenses: a volunteer's claim against a task they hold or held, the coordinators'
decision, and the export of approved claims for finance.

Money is exact: amounts are ``Decimal`` in and out and integers of the currency's minor
unit (pence, øre) in the database; mileage is distance x the tenant's rate, rounded half
up to the minor unit once.
"""

from __future__ import annotations

import csv
import io
import logging
import uuid
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma
from sqlalchemy import Select, select, update
from werkzeug.datastructures import FileStorage

from nyby.auth.permissions import Action
from nyby.configuration.schemas import ExpensePolicySchema
from nyby.core.api import Rows
from nyby.core.days import local_midnight
from nyby.core.db import db, new_id, utcnow
from nyby.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from nyby.core.spreadsheet import safe_cell
from nyby.expenses.models import ClaimStatus, ExpenseCategory, ExpenseClaim
from nyby.integrations.storage import JPEG, PDF, PNG, check_upload, tenant_files
from nyby.members.services import display_names
from nyby.notifications.services import notify
from nyby.tasks.models import Task
from nyby.tasks.services import titles as task_titles
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
RECEIPT_TYPES = frozenset({JPEG, PNG, PDF})
RECEIPT_TYPES_IN_WORDS = "a JPEG or PNG photo, or a PDF"


def policy(tenant: Tenant) -> dict[str, Any]:
    """The tenant's currency, limit per claim and mileage rate, defaults filled in."""
    return ExpensePolicySchema().load(  # type: ignore[no-any-return]
        tenant.expense_policy or {}, unknown=ma.EXCLUDE
    )


def to_minor(amount: Decimal) -> int:
    return int((amount / CENT).to_integral_value(rounding=ROUND_HALF_UP))


def from_minor(minor: int) -> Decimal:
    return (Decimal(minor) * CENT).quantize(CENT)


def claim_expense(
    actor: Actor, task: Task, data: dict[str, Any], receipt: FileStorage | None
) -> ExpenseClaim:
    """Check everything, then record the claim and store its receipt.

    Refused (4xx, nothing stored): a task the caller does not hold and never completed,
    an amount over the tenant's limit, another currency, a receipt that is not a JPEG,
    PNG or PDF by its content, shopping without a receipt, mileage with one.
    """
    actor.require(Action.CLAIM_EXPENSES)
    if task.assignee_id != actor.membership.id:
        raise Forbidden("You can claim expenses only for a task you hold or have done.")
    rules = policy(actor.tenant)
    currency = rules["currency"]
    if data.get("currency", currency) != currency:
        raise Unprocessable(
            f"Claims here are in {currency}.", errors={"currency": [f"Use {currency}."]}
        )
    category = data["category"]
    distance_m = rate = None
    if category == ExpenseCategory.MILEAGE:
        if receipt is not None:
            raise Unprocessable(
                "Mileage is paid by distance: it takes no receipt.",
                errors={"receipt": ["Not for mileage."]},
            )
        distance = data["distance_km"]
        rate = rules["mileage_rate_per_km"]
        amount = (distance * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)
        distance_m = int((distance * 1000).to_integral_value(rounding=ROUND_HALF_UP))
        limited = "distance_km"
    else:
        amount = data["amount"]
        limited = "amount"
        if category == ExpenseCategory.SHOPPING and receipt is None:
            raise Unprocessable(
                "Shopping paid for the client needs its receipt.",
                errors={"receipt": ["Add a photo or PDF of the receipt."]},
            )
    limit = Decimal(rules["max_per_claim"])
    if amount > limit:
        raise Unprocessable(
            f"One claim may be for at most {limit} {currency}; this one is {amount} {currency}.",
            errors={limited: [f"Over the limit of {limit} {currency} per claim."]},
        )
    if amount <= 0:
        raise Unprocessable("The claim comes to nothing.", errors={limited: ["Must be more."]})
    checked = None
    if receipt is not None:
        checked = check_upload(
            receipt.stream,
            receipt.filename,
            allowed=RECEIPT_TYPES,
            allowed_in_words=RECEIPT_TYPES_IN_WORDS,
        )
    claim = ExpenseClaim(
        id=new_id(),
        task_id=task.id,
        claimant_id=actor.membership.id,
        category=category,
        description=data.get("description", ""),
        amount_minor=to_minor(amount),
        currency=currency,
        distance_m=distance_m,
        rate_per_km=rate,
    )
    files = tenant_files()
    if checked is not None:
        claim.receipt_key = files.key("tasks", task.id, "expenses", claim.id)
        claim.receipt_file_name = checked.file_name
        claim.receipt_content_type = checked.content_type
        claim.receipt_size_bytes = checked.size
    db.session.add(claim)
    db.session.flush()
    if checked is not None and claim.receipt_key is not None:
        key = claim.receipt_key
        # Whatever fails from here on, no receipt is left behind without its claim.
        db.on_rollback(lambda: files.delete(key))
        files.put(key, checked.stream, checked.content_type)
    log.info("expense claim %s on task %s by member %s", claim.id, task.id, actor.membership.id)
    return claim


def list_claims(actor: Actor, status: str | None = None, task_id: uuid.UUID | None = None) -> Rows:
    """Coordinators and admins: every claim; volunteers: their own. Waiting claims
    oldest first (a queue), the rest newest first."""
    statement: Select[Any] = select(ExpenseClaim)
    if not actor.can(Action.DECIDE_EXPENSES):
        actor.require(Action.CLAIM_EXPENSES)
        statement = statement.where(ExpenseClaim.claimant_id == actor.membership.id)
    if status is not None:
        statement = statement.where(ExpenseClaim.status == status)
    if task_id is not None:
        statement = statement.where(ExpenseClaim.task_id == task_id)
    if status == ClaimStatus.CLAIMED:
        statement = statement.order_by(ExpenseClaim.created_at, ExpenseClaim.id)
    else:
        statement = statement.order_by(ExpenseClaim.created_at.desc(), ExpenseClaim.id)
    return Rows(statement, lambda page: present_all([row[0] for row in page]))


def present(claim: ExpenseClaim) -> dict[str, Any]:
    return present_all([claim])[0]


def present_all(claims: list[ExpenseClaim]) -> list[dict[str, Any]]:
    """Claims with amounts as decimals, and the names a queue shows (one query each)."""
    people = {c.claimant_id for c in claims} | {c.decided_by for c in claims if c.decided_by}
    names = display_names(people)
    titles = task_titles(c.task_id for c in claims)
    return [
        {
            "id": claim.id,
            "task_id": claim.task_id,
            "task_title": titles.get(claim.task_id, ""),
            "claimant_id": claim.claimant_id,
            "claimant_name": names.get(claim.claimant_id, ""),
            "category": claim.category,
            "description": claim.description,
            "amount": from_minor(claim.amount_minor),
            "currency": claim.currency,
            "distance_km": None
            if claim.distance_m is None
            else (Decimal(claim.distance_m) / 1000).normalize(),
            "rate_per_km": claim.rate_per_km,
            "has_receipt": claim.receipt_key is not None,
            "receipt_file_name": claim.receipt_file_name,
            "status": claim.status,
            "decided_by": claim.decided_by,
            "decided_by_name": names.get(claim.decided_by) if claim.decided_by else None,
            "decided_at": claim.decided_at,
            "decision_reason": claim.decision_reason,
            "created_at": claim.created_at,
        }
        for claim in claims
    ]


def receipt_link(actor: Actor, claim: ExpenseClaim) -> dict[str, Any]:
    """A short-lived link to the receipt, for the claimant and the deciders (the access
    helper has let the caller see the claim)."""
    if claim.receipt_key is None or claim.receipt_file_name is None:
        raise NotFound("This claim has no receipt.")
    files = tenant_files()
    return {
        "file_name": claim.receipt_file_name,
        "content_type": claim.receipt_content_type,
        "size_bytes": claim.receipt_size_bytes,
        "download_url": files.download_url(
            claim.receipt_key,
            file_name=claim.receipt_file_name,
            content_type=claim.receipt_content_type or "application/octet-stream",
        ),
        "download_expires_at": utcnow() + timedelta(seconds=files.url_seconds),
    }


def decide(actor: Actor, claim: ExpenseClaim, approve: bool, reason: str = "") -> ExpenseClaim:
    """Approve or reject a waiting claim. One conditional UPDATE: of two coordinators
    deciding at once, exactly one decision stands and the other hears 409."""
    actor.require(Action.DECIDE_EXPENSES)
    if claim.claimant_id == actor.membership.id:
        raise Forbidden("Someone else must decide on your own claim.")
    if not approve and not reason.strip():
        raise Unprocessable(
            "Say why the claim is not approved: the volunteer sees it.",
            errors={"reason": ["Required to reject a claim."]},
        )
    status = ClaimStatus.APPROVED if approve else ClaimStatus.REJECTED
    now = utcnow()
    result = db.session.execute(
        update(ExpenseClaim)
        .where(ExpenseClaim.id == claim.id, ExpenseClaim.status == ClaimStatus.CLAIMED.value)
        .values(
            status=status.value,
            decided_by=actor.membership.id,
            decided_at=now,
            decision_reason=reason,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(claim)
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict(f"This claim was {claim.status} already.")
    title = db.session.scalar(select(Task.title).where(Task.id == claim.task_id)) or ""
    notify(
        claim.claimant_id,
        f"expense_{status.value}",
        claim.task_id,
        title=title,
        amount=f"{from_minor(claim.amount_minor)} {claim.currency}",
        reason=reason,
    )
    log.info("expense claim %s %s by member %s", claim.id, status.value, actor.membership.id)
    return claim


EXPORT_COLUMNS = (
    "claim_id",
    "approved_at",
    "volunteer_member_id",
    "volunteer_name",
    "task_id",
    "category",
    "description",
    "distance_km",
    "rate_per_km",
    "amount",
    "currency",
    "approved_by",
    "receipt",
)


def export_csv(actor: Actor, start: date | None, end: date | None) -> str:
    """Approved claims for finance, approved between ``start`` and ``end`` (local dates
    in the tenant's zone, both included), oldest first, as CSV."""
    actor.require(Action.DECIDE_EXPENSES)
    zone = ZoneInfo(actor.tenant.timezone)
    statement = select(ExpenseClaim).where(ExpenseClaim.status == ClaimStatus.APPROVED.value)
    if start is not None:
        statement = statement.where(ExpenseClaim.decided_at >= local_midnight(start, zone))
    if end is not None:
        statement = statement.where(
            ExpenseClaim.decided_at < local_midnight(end + timedelta(days=1), zone)
        )
    claims = db.session.scalars(statement.order_by(ExpenseClaim.decided_at, ExpenseClaim.id)).all()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for view in present_all(list(claims)):
        decided = view["decided_at"]
        writer.writerow(
            [
                view["id"],
                decided.astimezone(zone).isoformat(timespec="seconds") if decided else "",
                view["claimant_id"],
                safe_cell(view["claimant_name"]),
                view["task_id"],
                view["category"],
                safe_cell(view["description"]),
                "" if view["distance_km"] is None else f"{view['distance_km']:f}",
                view["rate_per_km"] or "",
                f"{view['amount']:.2f}",
                view["currency"],
                safe_cell(view["decided_by_name"] or ""),
                "yes" if view["has_receipt"] else "no",
            ]
        )
    log.info("expenses exported by member %s: %d claims", actor.membership.id, len(claims))
    return out.getvalue()
