"""The web app's client pages, for the care team: the list, a client's page with their
tasks, and adding a client. The same services as the API."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from nyby.auth.permissions import Action
from nyby.clients import services
from nyby.clients.access import get_client_or_404
from nyby.clients.schemas import ClientCreateSchema
from nyby.core.api import read_page
from nyby.core.errors import DomainError
from nyby.tasks.services import list_tasks
from nyby.tasks.views import STATUS_NAMES
from nyby.tenancy.resolution import current_actor
from nyby.web.forms import Form, read_form
from nyby.web.views import web

# What a volunteer should know before they arrive, as the form's checkboxes.
NEEDS = (
    "hearing_impairment",
    "dementia",
    "mobility_needs",
    "pets",
    "key_safe",
    "lone_working_risk",
)


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
        needs=NEEDS,
        status_names=STATUS_NAMES,
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
    return render_template("web/clients/new.html", form=form, needs=NEEDS), status
