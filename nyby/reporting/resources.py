from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint, Rows
from nyby.integrations.storage import attachment
from nyby.reporting import services
from nyby.reporting.access import get_criterion_or_404
from nyby.reporting.schemas import (
    CriterionCreateSchema,
    CriterionSchema,
    CriterionUpdateSchema,
    DashboardSchema,
    EvaluationSchema,
    MetricsReportSchema,
    MonthSchema,
    ReportQuerySchema,
    Table2Schema,
    TableQuerySchema,
)
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "reporting",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>/reporting",
    description="Metrics computed from the data, the NHS evaluation's Table 2, the "
    "dashboard's numbers and the success criteria with their history (coordinators, "
    "admins). The tenant file's `success_criteria` overwrite API changes on the next "
    "`tenants apply`, as for roles.",
)


@blp.route("/metrics")
class Metrics(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, MetricsReportSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Every metric for a week, month or quarter (the tenant's local time) or for
        everything to now, optionally for one role and one area (README: definitions)."""
        return services.metrics_report(current_actor(), query)


@blp.route("/table-2")
class TableTwo(MethodView):
    @blp.arguments(TableQuerySchema, location="query")
    @blp.response(200, Table2Schema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The NHS evaluation's Table 2: per role and in total, approved volunteers,
        volunteers ever on duty, tasks created and completed, % completed and the average
        completed per month. Everything to now unless a period is asked for."""
        return services.table_2(current_actor(), query)


@blp.route("/months")
class Months(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, MonthSchema(many=True))
    def get(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """The last six months: tasks created and completed, % completed, and the
        median and 90th percentile time to accept (the dashboard's trend charts)."""
        return services.months(current_actor(), query)


@blp.route("/dashboard")
class Dashboard(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, DashboardSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Every number the dashboard page shows."""
        return services.dashboard(current_actor(), query)


@blp.route("/criteria")
class CriterionList(MethodView):
    @blp.response(200, CriterionSchema(many=True))
    @blp.paginate()
    def get(self) -> Any:
        """The success criteria in the tenant file's order, each with its latest
        evaluation: met, at risk or missed, and the trend."""
        return Rows(
            services.list_criteria(current_actor()),
            lambda page: services.present_criteria([row[0] for row in page]),
        )

    @allowed_to(Action.CHANGE_CONFIGURATION)
    @blp.arguments(CriterionCreateSchema)
    @blp.response(201, CriterionSchema)
    @blp.alt_response(409, description="A criterion with this key exists")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Add a success criterion (admins). The next `tenants apply` of a file without
        it removes it: export the file to keep it."""
        return services.present_criterion(services.create_criterion(current_actor(), data))


@blp.route("/criteria/<uuid:criterion_id>")
class CriterionDetail(MethodView):
    @blp.etag
    @blp.response(200, CriterionSchema)
    def get(self, criterion_id: uuid.UUID) -> dict[str, Any]:
        actor = current_actor()
        criterion = get_criterion_or_404(actor, criterion_id)
        blp.set_etag(services.etag_of(criterion))
        return services.present_criteria([criterion])[0]

    @allowed_to(Action.CHANGE_CONFIGURATION)
    @blp.etag
    @blp.arguments(CriterionUpdateSchema, required=False)
    @blp.response(200, CriterionSchema)
    def patch(self, data: dict[str, Any], criterion_id: uuid.UUID) -> dict[str, Any]:
        """Change a criterion (admins); only the fields given change. Send If-Match."""
        actor = current_actor()
        criterion = get_criterion_or_404(actor, criterion_id, Action.CHANGE_CONFIGURATION)
        blp.check_etag(services.etag_of(criterion))
        services.update_criterion(actor, criterion, data)
        blp.set_etag(services.etag_of(criterion))
        return services.present_criteria([criterion])[0]

    @allowed_to(Action.CHANGE_CONFIGURATION)
    @blp.etag
    @blp.response(204)
    def delete(self, criterion_id: uuid.UUID) -> None:
        """Remove a criterion and its history (admins). Send If-Match."""
        actor = current_actor()
        criterion = get_criterion_or_404(actor, criterion_id, Action.CHANGE_CONFIGURATION)
        blp.check_etag(services.etag_of(criterion))
        services.delete_criterion(actor, criterion)


@blp.route("/criteria/<uuid:criterion_id>/history")
class CriterionHistory(MethodView):
    @blp.response(200, EvaluationSchema(many=True))
    @blp.paginate()
    def get(self, criterion_id: uuid.UUID) -> Any:
        """The criterion's evaluations, the latest period first."""
        actor = current_actor()
        return Rows(
            services.history(actor, get_criterion_or_404(actor, criterion_id)),
            lambda page: [services.present_evaluation(row[0]) for row in page],
        )


@blp.route("/criteria/export.csv")
class CriteriaCsv(MethodView):
    @blp.response(200, content_type="text/csv", description="The evaluation as CSV")
    def get(self) -> Response:
        """Each criterion with its latest evaluation, as CSV (coordinators, admins)."""
        return attachment(services.export_csv(current_actor()), "success-criteria.csv", "text/csv")


@blp.route("/criteria/export.pdf")
class CriteriaPdf(MethodView):
    @blp.response(200, content_type="application/pdf", description="One page for the board")
    def get(self) -> Response:
        """The evaluation on one page for the board: each criterion's status and trend,
        and Table 2's totals (coordinators, admins)."""
        return attachment(
            services.export_pdf(current_actor()), "success-criteria.pdf", "application/pdf"
        )
