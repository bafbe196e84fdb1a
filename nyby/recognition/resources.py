from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.configuration.access import get_configuration
from nyby.core.api import Blueprint, Rows
from nyby.integrations.storage import attachment
from nyby.members.access import get_member_or_404
from nyby.recognition import documents, services
from nyby.recognition.access import get_record_or_404
from nyby.recognition.schemas import (
    ActivityRecordSchema,
    FiguresSchema,
    LeaderboardEntrySchema,
    MyRecognitionSchema,
    OptOutSchema,
    RecognitionSettingsDumpSchema,
    RecognitionSettingsSchema,
)
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "recognition",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="Badges for milestones, the optional leaderboard, the volunteer's activity record.",
)


@blp.route("/recognition")
class RecognitionSettings(MethodView):
    @blp.etag
    @blp.response(200, RecognitionSettingsDumpSchema)
    def get(self) -> dict[str, Any]:
        """Milestones with their bronze, silver and gold thresholds, and whether the
        tenant shows a leaderboard (defaults filled in)."""
        return services.settings(get_configuration(current_actor()))

    @allowed_to(Action.CHANGE_CONFIGURATION)
    @blp.etag
    @blp.arguments(RecognitionSettingsSchema)
    @blp.response(200, RecognitionSettingsDumpSchema)
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Replace the settings (admins; If-Match), until the tenant file is next applied.
        A milestone set to null gives no badges."""
        actor = current_actor()
        tenant = get_configuration(actor, Action.CHANGE_CONFIGURATION)
        blp.check_etag(services.settings(tenant), RecognitionSettingsDumpSchema)
        return services.change_settings(actor, tenant, body)


@blp.route("/me/recognition")
class MyRecognition(MethodView):
    @blp.response(200, MyRecognitionSchema)
    def get(self) -> dict[str, Any]:
        """My badges and how far I am from each next tier."""
        actor = current_actor()
        services.require_helper(actor)
        return services.recognition_of(actor, actor.membership)

    @allowed_to(Action.TAKE_TASKS)
    @blp.arguments(OptOutSchema)
    @blp.response(200, MyRecognitionSchema)
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Opt out (no badges, no notices about them, never on a leaderboard) or back in.
        Badges already earned are kept and show again on opting back in."""
        return services.set_opt_out(current_actor(), body["opted_out"])


@blp.route("/members/<uuid:member_id>/badges")
class MemberBadges(MethodView):
    @blp.response(200, MyRecognitionSchema)
    def get(self, member_id: uuid.UUID) -> dict[str, Any]:
        """A member's badges and progress (the member, coordinators and admins)."""
        actor = current_actor()
        member = get_member_or_404(actor, member_id, Action.VIEW_MEMBERS)
        return services.recognition_of(actor, member)


@blp.route("/leaderboard")
class Leaderboard(MethodView):
    @blp.response(200, LeaderboardEntrySchema(many=True))
    @blp.paginate()
    def get(self) -> Any:
        """The most tasks completed, by display name, without anyone who opted out. Only
        where the tenant turned it on (`recognition.leaderboard`); otherwise 404."""
        return services.leaderboard(current_actor())


@blp.route("/me/activity-record")
class MyFigures(MethodView):
    @blp.response(200, FiguresSchema)
    def get(self) -> dict[str, Any]:
        """My figures as a record would show them now (nothing is issued)."""
        actor = current_actor()
        services.require_helper(actor)
        return services.figures(actor, actor.membership)


@blp.route("/me/activity-records")
class MyActivityRecords(MethodView):
    @blp.response(200, ActivityRecordSchema(many=True))
    @blp.paginate()
    def get(self) -> Any:
        """Records I issued, newest first."""
        actor = current_actor()
        return Rows(
            services.my_records(actor),
            lambda page: [present(row[0]) for row in page],
        )

    @allowed_to(Action.TAKE_TASKS)
    @blp.response(201, ActivityRecordSchema)
    def post(self) -> dict[str, Any]:
        """Issue my activity record: the figures frozen now under a new verification
        code; download it as CSV or PDF, and anyone can check it at `verify_url`."""
        return present(services.issue_record(current_actor()))


@blp.route("/activity-records/<uuid:record_id>")
class ActivityRecordDetail(MethodView):
    @blp.response(200, ActivityRecordSchema)
    def get(self, record_id: uuid.UUID) -> dict[str, Any]:
        """An issued record (its volunteer, coordinators and admins)."""
        return present(get_record_or_404(current_actor(), record_id))


@blp.route("/activity-records/<uuid:record_id>/csv")
class ActivityRecordCsv(MethodView):
    @blp.response(200, content_type="text/csv", description="The record as CSV")
    def get(self, record_id: uuid.UUID) -> Response:
        actor = current_actor()
        record = get_record_or_404(actor, record_id)
        return attachment(
            documents.as_csv(record, actor.tenant.slug), "activity-record.csv", "text/csv"
        )


@blp.route("/activity-records/<uuid:record_id>/pdf")
class ActivityRecordPdf(MethodView):
    @blp.response(200, content_type="application/pdf", description="The record, one page")
    def get(self, record_id: uuid.UUID) -> Response:
        actor = current_actor()
        record = get_record_or_404(actor, record_id)
        return attachment(
            documents.as_pdf(record, actor.tenant.slug), "activity-record.pdf", "application/pdf"
        )


def present(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "member_id": record.member_id,
        "code": record.code,
        "verify_url": documents.verify_url(record, current_actor().tenant.slug),
        "issued_at": record.issued_at,
        "figures": record.figures,
    }
