"""The web app's expenses pages: claiming from a task, the coordinators' queue with
approve and reject, a volunteer's own claims, and the CSV export. Same services as the API."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from nyby.auth.permissions import Action
from nyby.core.api import read_page
from nyby.core.db import utcnow
from nyby.core.errors import DomainError, Unprocessable
from nyby.core.pipeline import accepts_files
from nyby.expenses import services
from nyby.expenses.access import get_claim_or_404
from nyby.expenses.models import ClaimStatus, ExpenseCategory
from nyby.expenses.schemas import ClaimCreateSchema, ExportQuerySchema
from nyby.integrations.storage import attachment
from nyby.tasks.access import get_task_or_404
from nyby.tenancy.resolution import current_actor
from nyby.web.forms import Form, read_form
from nyby.web.views import act, web

CATEGORY_NAMES = {
    ExpenseCategory.MILEAGE: lazy_gettext("Mileage"),
    ExpenseCategory.SHOPPING: lazy_gettext("Shopping paid for the client"),
    ExpenseCategory.PARKING: lazy_gettext("Parking"),
    ExpenseCategory.PUBLIC_TRANSPORT: lazy_gettext("Public transport"),
    ExpenseCategory.OTHER: lazy_gettext("Other"),
}
STATUS_NAMES = {
    ClaimStatus.CLAIMED: lazy_gettext("Waiting for a decision"),
    ClaimStatus.APPROVED: lazy_gettext("Approved"),
    ClaimStatus.REJECTED: lazy_gettext("Not approved"),
}
# The picker's hint; the server reads the type from the file itself.
RECEIPT_FILES = "image/jpeg,image/png,application/pdf"


@web.route("/t/<tenant>/tasks/<uuid:task_id>/expenses/new", methods=["GET", "POST"])
@accepts_files  # type: ignore[arg-type]
def claim_expense(task_id: uuid.UUID) -> Any:
    actor = current_actor()
    task = get_task_or_404(actor, task_id)  # a missing task is 404 whoever asks
    actor.require(Action.CLAIM_EXPENSES)
    rules = services.policy(actor.tenant)
    form, status = Form(), 200
    if request.method == "POST":
        data, form = read_form(
            ClaimCreateSchema(exclude=("receipt",)), request.form, actor.tenant.timezone
        )
        receipt = request.files.get("receipt")
        if receipt is not None and not receipt.filename:
            receipt = None  # the picker was left empty
        if data is not None:
            try:
                services.claim_expense(actor, task, data, receipt)
            except DomainError as error:
                form.refuse(error)
            else:
                flash(_("Your claim is sent. A coordinator will decide on it."), "success")
                return redirect(url_for("web.expenses"), 303)
        status = 422
    return render_template(
        "web/expenses/claim.html",
        task=task,
        form=form,
        rules=rules,
        categories=CATEGORY_NAMES,
        accept=RECEIPT_FILES,
    ), status


@web.get("/t/<tenant>/expenses")
def expenses() -> str:
    """Coordinators: the claims waiting, oldest first, with approve and reject, and the
    export. Volunteers: their own claims."""
    actor = current_actor()
    deciding = actor.can(Action.DECIDE_EXPENSES)
    waiting: list[Any] = []
    links: dict[Any, str] = {}
    if deciding:
        waiting, _total = read_page(services.list_claims(actor, ClaimStatus.CLAIMED), 0, 200)
        for claim in waiting:
            if claim["has_receipt"]:
                found = get_claim_or_404(actor, claim["id"])
                links[claim["id"]] = services.receipt_link(actor, found)["download_url"]
        recent, _count = read_page(services.list_claims(actor), 0, 50)
        recent = [c for c in recent if c["status"] != ClaimStatus.CLAIMED]
    else:
        recent, _count = read_page(services.list_claims(actor), 0, 200)
    today = utcnow().date()
    return render_template(
        "web/expenses/list.html",
        deciding=deciding,
        waiting=waiting,
        recent=recent,
        links=links,
        categories=CATEGORY_NAMES,
        statuses=STATUS_NAMES,
        default_from=today.replace(day=1).isoformat(),
        default_to=today.isoformat(),
    )


@web.post("/t/<tenant>/expenses/<uuid:claim_id>/approve")
def approve_expense(claim_id: uuid.UUID) -> Response:
    actor = current_actor()
    return act(
        lambda: services.decide(actor, get_claim_or_404(actor, claim_id), approve=True),
        _("Approved. The volunteer has been told."),
        url_for("web.expenses"),
    )


@web.post("/t/<tenant>/expenses/<uuid:claim_id>/reject")
def reject_expense(claim_id: uuid.UUID) -> Response:
    actor = current_actor()
    reason = request.form.get("reason", "").strip()[:2000]

    def reject() -> None:
        claim = get_claim_or_404(actor, claim_id)
        services.decide(actor, claim, False, reason)

    return act(reject, _("Not approved. The volunteer has been told why."), url_for("web.expenses"))


@web.get("/t/<tenant>/expenses/export")
def export_expenses() -> Any:
    """Approved claims in a period, as a CSV file for finance."""
    actor = current_actor()
    actor.require(Action.DECIDE_EXPENSES)
    try:
        period = ExportQuerySchema().load(request.args.to_dict())
    except ma.ValidationError as error:
        raise Unprocessable(_("Choose the period as two dates, the end not before the start."),
                            errors=error.normalized_messages())  # fmt: skip
    start, end = period.get("start"), period.get("end")
    body = services.export_csv(actor, start, end)
    name = "-".join(["expenses", actor.tenant.slug, *(str(d) for d in (start, end) if d)])
    return attachment(body, f"{name}.csv", "text/csv")
