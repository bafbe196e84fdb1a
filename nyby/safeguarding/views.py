"""The web app's safeguarding pages: raising a concern from a task or a client page, the
leads' list and a concern's page (status, outcome, notes). The same services as the API."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from nyby.auth.permissions import Action
from nyby.clients.access import get_client_or_404
from nyby.core.api import read_page
from nyby.core.errors import Conflict, DomainError, Unprocessable
from nyby.safeguarding import services
from nyby.safeguarding.access import get_concern_or_404, is_lead
from nyby.safeguarding.models import ConcernCategory, ConcernStatus
from nyby.safeguarding.schemas import ConcernCreateSchema, ConcernUpdateSchema
from nyby.tasks.access import get_task_or_404
from nyby.tenancy.resolution import current_actor
from nyby.web.forms import Form, read_form
from nyby.web.views import act, web

CATEGORY_NAMES = {
    ConcernCategory.PHYSICAL: lazy_gettext("Physical abuse"),
    ConcernCategory.EMOTIONAL: lazy_gettext("Emotional or psychological abuse"),
    ConcernCategory.SEXUAL: lazy_gettext("Sexual abuse"),
    ConcernCategory.FINANCIAL: lazy_gettext("Financial or material abuse"),
    ConcernCategory.NEGLECT: lazy_gettext("Neglect by others"),
    ConcernCategory.SELF_NEGLECT: lazy_gettext("Self-neglect"),
    ConcernCategory.DOMESTIC: lazy_gettext("Domestic abuse"),
    ConcernCategory.DISCRIMINATORY: lazy_gettext("Discriminatory abuse"),
    ConcernCategory.ORGANISATIONAL: lazy_gettext("Organisational abuse"),
    ConcernCategory.MODERN_SLAVERY: lazy_gettext("Modern slavery"),
    ConcernCategory.OTHER: lazy_gettext("Something else"),
}
STATUS_NAMES = {
    ConcernStatus.OPEN: lazy_gettext("Open"),
    ConcernStatus.UNDER_REVIEW: lazy_gettext("Under review"),
    ConcernStatus.REFERRED: lazy_gettext("Referred on"),
    ConcernStatus.CLOSED: lazy_gettext("Closed"),
}


@web.route("/t/<tenant>/tasks/<uuid:task_id>/concern", methods=["GET", "POST"])
def raise_concern_about_task(task_id: uuid.UUID) -> Any:
    actor = current_actor()
    task = get_task_or_404(actor, task_id)
    back = url_for("web.task_page", task_id=task.id)
    return _raise_page({"task_id": str(task.id)}, task.title, back)


@web.route("/t/<tenant>/clients/<uuid:client_id>/concern", methods=["GET", "POST"])
def raise_concern_about_client(client_id: uuid.UUID) -> Any:
    actor = current_actor()
    client = get_client_or_404(actor, client_id, Action.VIEW_CLIENTS)
    back = url_for("web.client_page", client_id=client.id)
    return _raise_page({"client_id": str(client.id)}, client.name, back)


def _raise_page(subject: dict[str, str], about: str, back: str) -> Any:
    actor = current_actor()
    actor.require(Action.RAISE_CONCERNS)
    form, status = Form(), 200
    if request.method == "POST":
        fields = request.form.copy()
        for name, value in subject.items():
            fields[name] = value  # from the address, never from the form
        data, form = read_form(ConcernCreateSchema(), fields, actor.tenant.timezone)
        if data is not None:
            try:
                concern = services.raise_concern(actor, data)
            except DomainError as error:
                form.refuse(error)
            else:
                flash(
                    _(
                        "Thank you. The safeguarding leads have been told and will look "
                        "at it. If someone is in danger now, call 999."
                    ),
                    "success",
                )
                return redirect(url_for("web.concern_page", concern_id=concern.id), 303)
        status = 422
    return render_template(
        "web/safeguarding/raise.html",
        form=form,
        about=about,
        back=back,
        categories=CATEGORY_NAMES,
    ), status


@web.get("/t/<tenant>/concerns")
def concerns() -> str:
    """The leads: every concern (by status); anyone else: the ones they raised."""
    actor = current_actor()
    status = request.args.get("status") or None
    if status not in {None, *ConcernStatus}:
        status = None
    rows, total = read_page(services.list_concerns(actor, status), 0, 200)
    return render_template(
        "web/safeguarding/list.html",
        concerns=rows,
        total=total,
        status=status,
        lead=is_lead(actor),
        categories=CATEGORY_NAMES,
        statuses=STATUS_NAMES,
    )


@web.get("/t/<tenant>/concerns/<uuid:concern_id>")
def concern_page(concern_id: uuid.UUID) -> str:
    actor = current_actor()
    concern = get_concern_or_404(actor, concern_id)
    lead = is_lead(actor)
    notes: list[Any] = []
    if lead:
        notes, _total = read_page(services.list_notes(actor, concern), 0, 500)
    return render_template(
        "web/safeguarding/concern.html",
        concern=services.present(actor, concern),
        notes=notes,
        lead=lead,
        categories=CATEGORY_NAMES,
        statuses=STATUS_NAMES,
    )


@web.post("/t/<tenant>/concerns/<uuid:concern_id>/status")
def update_concern(concern_id: uuid.UUID) -> Response:
    actor = current_actor()
    back = url_for("web.concern_page", concern_id=concern_id)
    changes, form = read_form(ConcernUpdateSchema(), request.form, actor.tenant.timezone)

    def save() -> None:
        concern = get_concern_or_404(actor, concern_id)
        if changes is None:
            messages = " ".join(m for ms in form.errors.values() for m in ms)
            raise Unprocessable(messages, errors=form.errors)
        if request.form.get("version") != str(concern.version_id):
            raise Conflict(_("Another lead changed this concern meanwhile: read it again."))
        services.update_concern(actor, concern, {"outcome": "", **changes})

    return act(save, _("Saved."), back)


@web.post("/t/<tenant>/concerns/<uuid:concern_id>/notes")
def add_concern_note(concern_id: uuid.UUID) -> Response:
    actor = current_actor()
    body = request.form.get("body", "").strip()[:10000]

    def add() -> None:
        concern = get_concern_or_404(actor, concern_id)
        if not body:
            raise Unprocessable(_("Write the note first."))
        services.add_note(actor, concern, body)

    return act(add, _("The note is added."), url_for("web.concern_page", concern_id=concern_id))
