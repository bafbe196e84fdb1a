"""The web app's recognition pages: my badges (with the opt-out), the leaderboard when
the tenant shows one, my activity record and its downloads, and the public page that
verifies a record by its code. The same services as the API."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, current_app, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from nyby.auth.ratelimit import FailureCounter
from nyby.core.api import read_page
from nyby.core.errors import NotFound, TooManyRequests
from nyby.integrations.storage import attachment
from nyby.recognition import documents, services
from nyby.recognition.access import get_record_or_404
from nyby.recognition.names import MILESTONE_NAMES, TIER_NAMES
from nyby.tenancy.resolution import current_actor, public, public_tenant
from nyby.web.views import act, web

# Wrong verification codes from one address in a minute before it must wait.
WRONG_CODES_PER_MINUTE = 20


@web.get("/t/<tenant>/me/badges")
def my_badges() -> str:
    actor = current_actor()
    services.require_helper(actor)
    return render_template(
        "web/recognition/badges.html",
        mine=services.recognition_of(actor, actor.membership),
        leaderboard=services.settings(actor.tenant)["leaderboard"],
        milestones=MILESTONE_NAMES,
        tiers=TIER_NAMES,
    )


@web.post("/t/<tenant>/me/badges/opt-out")
def opt_out() -> BaseResponse:
    actor = current_actor()
    out = request.form.get("opted_out") == "yes"
    return act(
        lambda: services.set_opt_out(actor, out),
        _("Done: you get no badges and are on no leaderboard.")
        if out
        else _("Done: you get badges again."),
        url_for("web.my_badges"),
    )


@web.get("/t/<tenant>/leaderboard")
def leaderboard() -> str:
    actor = current_actor()
    return render_template("web/recognition/leaderboard.html", rows=services.leaderboard(actor))


@web.get("/t/<tenant>/me/record")
def my_record() -> str:
    actor = current_actor()
    services.require_helper(actor)
    issued, _total = read_page(services.my_records(actor), 0, 20)
    return render_template(
        "web/recognition/record.html",
        figures=services.figures(actor, actor.membership),
        issued=issued,
        badge_text=documents.badge_text,
        day=documents.day,
    )


@web.post("/t/<tenant>/me/records")
def issue_record() -> BaseResponse:
    actor = current_actor()
    return act(
        lambda: services.issue_record(actor),
        _("Your record is issued: download it below."),
        url_for("web.my_record"),
    )


@web.get("/t/<tenant>/records/<uuid:record_id>/csv")
def record_csv(record_id: uuid.UUID) -> Response:
    actor = current_actor()
    record = get_record_or_404(actor, record_id)
    return attachment(
        documents.as_csv(record, actor.tenant.slug), "activity-record.csv", "text/csv"
    )


@web.get("/t/<tenant>/records/<uuid:record_id>/pdf")
def record_pdf(record_id: uuid.UUID) -> Response:
    actor = current_actor()
    record = get_record_or_404(actor, record_id)
    return attachment(
        documents.as_pdf(record, actor.tenant.slug), "activity-record.pdf", "application/pdf"
    )


@web.get("/t/<tenant>/verify/<token>")
@public
def verify_record(token: str) -> Any:
    """Anyone with the link (an employer) sees that the record is genuine: the name,
    the organisation, the figures as issued and the date. A wrong code is a plain 404
    that says nothing more; too many from one address must wait a minute."""
    tenant = public_tenant()
    failures: FailureCounter = current_app.extensions["nyby.login_failures"]
    key = f"verify:ip:{request.remote_addr or '-'}"
    if failures.count(key) >= WRONG_CODES_PER_MINUTE:
        raise TooManyRequests("Too many wrong codes. Wait a minute and try again.")
    record = services.find_by_code(token)
    if record is None:
        failures.add(key)
        raise NotFound("No record has this code.")
    response = Response(
        render_template(
            "web/recognition/verify.html",
            record=record,
            figures=record.figures,
            tenant=tenant,
            badge_text=documents.badge_text,
            day=documents.day,
        )
    )
    # The address holds the code: do not pass it on to other sites or keep it.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
