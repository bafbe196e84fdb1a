"""The web app's exports page: ask for a CSV file, watch its progress, download it.
Admins only; the same services as the API."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from nyby.auth.permissions import Action
from nyby.core.api import read_page
from nyby.core.db import utcnow
from nyby.core.errors import DomainError
from nyby.exports import services
from nyby.exports.access import get_export_or_404
from nyby.exports.kinds import KINDS
from nyby.exports.models import ExportStatus
from nyby.exports.schemas import ExportCreateSchema
from nyby.integrations.storage import STORAGE_DOWN
from nyby.tenancy.resolution import current_actor
from nyby.web.forms import Form, read_form
from nyby.web.views import web

STATUS_NAMES = {
    ExportStatus.QUEUED: lazy_gettext("Waiting to start"),
    ExportStatus.RUNNING: lazy_gettext("Being written"),
    ExportStatus.DONE: lazy_gettext("Ready"),
    ExportStatus.FAILED: lazy_gettext("Failed"),
}
# Why an export failed, in the reader's language (the API says it in English).
FAILURES = {
    services.STOPPED: lazy_gettext(
        "The export stopped three times before it finished; ask for it again."
    ),
    services.UNKNOWN_KIND: lazy_gettext("This kind of export is no longer offered."),
    services.UNEXPECTED: lazy_gettext(
        "The export stopped on an unexpected error, which has been logged; ask for it again."
    ),
    STORAGE_DOWN: lazy_gettext("File storage is not available just now; try again in a minute."),
}


@web.route("/t/<tenant>/exports", methods=["GET", "POST"])
def exports() -> Any:
    """The tenant's exports, newest first, with their progress; and the form to ask for
    one (the job writes it in the background)."""
    actor = current_actor()
    actor.require(Action.EXPORT_DATA)
    form, status = Form(), 200
    if request.method == "POST":
        data, form = read_form(ExportCreateSchema(), request.form, actor.tenant.timezone)
        if data is not None:
            try:
                services.request_export(actor, data)
            except DomainError as error:
                form.refuse(error)
            else:
                flash(
                    _("Your export is on its way. It shows below while it is written."), "success"
                )
                return redirect(url_for("web.exports"), 303)
        status = 422
    rows, _total = read_page(services.list_exports(actor), 0, 50)
    today = utcnow().date()
    return render_template(
        "web/exports/list.html",
        form=form,
        exports=rows,
        kinds=KINDS,
        statuses=STATUS_NAMES,
        failures=FAILURES,
        under_way=any(e["status"] in (ExportStatus.QUEUED, ExportStatus.RUNNING) for e in rows),
        default_from=today.replace(day=1).isoformat(),
        default_to=today.isoformat(),
    ), status


@web.get("/t/<tenant>/exports/<uuid:export_id>/download")
def download_export(export_id: uuid.UUID) -> Response:
    """The finished file, through a link that works for a few minutes."""
    actor = current_actor()
    return redirect(services.download_url(actor, get_export_or_404(actor, export_id)), 303)
