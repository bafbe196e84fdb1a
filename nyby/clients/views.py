"""The web app's client pages, for the care team: the list, a client's page with their
tasks, and adding a client. The same services as the API."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from nyby.auth.permissions import Action
from nyby.clients import services
from nyby.clients.access import get_client_or_404
from nyby.clients.models import NEED_FLAGS, Client, ClientStatus
from nyby.clients.schemas import ClientChangesSchema, ClientCreateSchema
from nyby.core.api import read_page
from nyby.core.errors import DomainError
from nyby.tasks.services import list_tasks
from nyby.tasks.views import STATUS_NAMES
from nyby.tenancy.resolution import current_actor
from nyby.web.forms import Form, read_form
from nyby.web.views import web


@web.get("/t/<tenant>/clients")
def clients() -> str:
    actor = current_actor()
    name = request.args.get("name", "").strip()[:200] or None
    rows, total = read_page(services.list_clients(actor, name=name), 0, 200)
    return render_template("web/clients/list.html", clients=rows, total=total, name=name or "")


@web.get("/t/<tenant>/clients/<uuid:client_id>")
def client_page(client_id: uuid.UUID) -> str:
    actor = current_actor()
    client = get_client_or_404(actor, client_id, Action.VIEW_CLIENTS)
    tasks, _total = read_page(list_tasks(actor, client_id=client.id), 0, 100)
    return render_template(
        "web/clients/client.html",
        client=client,
        tasks=tasks,
        needs=NEED_FLAGS,
        status_names=STATUS_NAMES,
        statuses=STATUSES,
    )


@web.route("/t/<tenant>/clients/new", methods=["GET", "POST"])
def new_client() -> Any:
    actor = current_actor()
    actor.require(Action.CHANGE_CLIENTS)
    form, status = Form(), 200
    if request.method == "POST":
        schema = ClientCreateSchema(exclude=("professionals",))
        data, form = read_form(schema, request.form, actor.tenant.timezone)
        if data is not None:
            try:
                client = services.create_client(actor, data)
            except DomainError as error:
                form.refuse(error)
            else:
                flash(_("%(name)s has been added.", name=client.name), "success")
                return redirect(url_for("web.client_page", client_id=client.id), 303)
        status = 422
    return render_template("web/clients/new.html", form=form, needs=NEED_FLAGS), status


STATUSES = {
    ClientStatus.ACTIVE: lazy_gettext("Supported"),
    ClientStatus.PAUSED: lazy_gettext("Paused (no new tasks for now)"),
    ClientStatus.ENDED: lazy_gettext("No longer needs support"),
}
# What the form shows of a client, as text in its fields.
SHOWN = (
    "name",
    "address",
    "postcode",
    "latitude",
    "longitude",
    "phone",
    "interpreter_language",
    "risk_assessment",
    "status",
    "status_reason",
)


@web.route("/t/<tenant>/clients/<uuid:client_id>/edit", methods=["GET", "POST"])
def edit_client(client_id: uuid.UUID) -> Any:
    """Change a client's details. Two people editing at once: the second to save is
    shown the first one's changes, with what they typed kept, and saves again."""
    actor = current_actor()
    client = get_client_or_404(actor, client_id, Action.CHANGE_CLIENTS)
    form, status = _as_form(client), 200
    if request.method == "POST":
        schema = ClientChangesSchema(exclude=("professionals",))
        data, form = read_form(schema, request.form, actor.tenant.timezone)
        if request.form.get("version") != str(client.version_id):
            form.errors["form"] = [
                _(
                    "Someone else saved changes to these details while you were editing. "
                    "Yours are below, not saved yet: check them against the client's page "
                    "and save again."
                )
            ]
            form.values["version"] = str(client.version_id)
            status = 409
        elif data is not None:
            try:
                services.update_client(actor, client, data)
            except DomainError as error:
                form.refuse(error)
            else:
                flash(_("The changes are saved."), "success")
                return redirect(url_for("web.client_page", client_id=client.id), 303)
        status = status if status != 200 else 422
    return render_template(
        "web/clients/edit.html", client=client, form=form, needs=NEED_FLAGS, statuses=STATUSES
    ), status


def _as_form(client: Client) -> Form:
    shown = {name: getattr(client, name) for name in SHOWN}
    ticked = {need: "on" for need in NEED_FLAGS if getattr(client, need)}
    consent = {"consent_given": "on"} if client.consent_given_at is not None else {}
    return Form(
        values={
            **{name: "" if value is None else str(value) for name, value in shown.items()},
            **ticked,
            **consent,
            "version": str(client.version_id),
        }
    )
