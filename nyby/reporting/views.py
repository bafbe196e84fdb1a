"""The web app's dashboard (coordinators and admins): completion and time to accept by
month, the volunteer funnel, Table 2 and the success criteria, each chart drawn on the
server with its numbers as a table. The same services as the API."""

from __future__ import annotations

from flask import Response, render_template, request
from flask_babel import lazy_gettext

from nyby.integrations.storage import attachment
from nyby.provision import services as provision
from nyby.provision.views import need_map
from nyby.reporting import services
from nyby.reporting.labels import (
    METRIC_NAMES,
    PERIOD_NAMES,
    format_value,
    status_name,
    trend_name,
)
from nyby.reporting.schemas import ReportQuerySchema
from nyby.tenancy.resolution import current_actor
from nyby.web.forms import read_form
from nyby.web.views import web

FUNNEL_STAGES = (
    ("signed_up", lazy_gettext("Signed up")),
    ("approved", lazy_gettext("Approved")),
    ("went_on_duty", lazy_gettext("Went on duty")),
    ("active", lazy_gettext("Active (a task done in 30 days)")),
)


@web.get("/t/<tenant>/dashboard")
def dashboard() -> tuple[str, int]:
    actor = current_actor()
    query, form = read_form(ReportQuerySchema(), request.args, actor.tenant.timezone)
    data = services.dashboard(actor, query or {"period": "month"})
    # The last month's need against who is on duty now, for the role chosen (the map's
    # own page has the table, other periods and sizes of area).
    need = provision.need_provision(actor, role=(query or {}).get("role"))
    longest = max([m["tasks_created"] for m in data["months"]] + [1])
    slowest = max([m["time_to_accept_p90"] or 0 for m in data["months"]] + [1])
    return render_template(
        "web/reporting/dashboard.html",
        data=data,
        form=form,
        longest=longest,
        slowest=slowest,
        stages=FUNNEL_STAGES,
        metric_names=METRIC_NAMES,
        period_names=PERIOD_NAMES,
        format_value=format_value,
        status_name=status_name,
        trend_name=trend_name,
        need=need,
        need_map=need_map(need),
    ), 200 if query is not None else 422


@web.get("/t/<tenant>/dashboard/criteria.csv")
def criteria_csv() -> Response:
    return attachment(services.export_csv(current_actor()), "success-criteria.csv", "text/csv")


@web.get("/t/<tenant>/dashboard/criteria.pdf")
def criteria_pdf() -> Response:
    return attachment(
        services.export_pdf(current_actor()), "success-criteria.pdf", "application/pdf"
    )
