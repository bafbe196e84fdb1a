from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint, Rows
from nyby.feedback import services
from nyby.feedback.access import get_task_history_or_404
from nyby.feedback.schemas import (
    FeedbackCreateSchema,
    FeedbackSchema,
    ThanksCreateSchema,
    ThanksSchema,
    TimelineEntrySchema,
)
from nyby.members.access import get_member_or_404
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "feedback",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="Feedback on completed tasks, thanks to volunteers, a task's timeline.",
)


@blp.route("/tasks/<uuid:task_id>/feedback")
class TaskFeedbackList(MethodView):
    @blp.response(200, FeedbackSchema(many=True))
    @blp.paginate()
    def get(self, task_id: uuid.UUID) -> Any:
        """Both sides' feedback: for the volunteer, the poster and the care team."""
        actor = current_actor()
        return services.list_feedback(actor, get_task_history_or_404(actor, task_id))

    @blp.arguments(FeedbackCreateSchema)
    @blp.response(201, FeedbackSchema)
    @blp.alt_response(200, schema=FeedbackSchema, description="The same feedback, sent again")
    @blp.alt_response(409, description="Not completed, or feedback was left already")
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> Any:
        """Rate a completed task (1-5) with a comment: the volunteer who did it, and the
        professional who posted it on the client's behalf, once each. Sending the same
        again answers 200 with the feedback already kept."""
        actor = current_actor()
        task = get_task_history_or_404(actor, task_id)
        feedback, new = services.leave_feedback(actor, task, body["rating"], body["comment"])
        view = services.present_feedback(feedback, {actor.membership.id: actor.account.name})
        return view if new else (view, 200)


@blp.route("/tasks/<uuid:task_id>/timeline")
class TaskTimeline(MethodView):
    @blp.response(200, TimelineEntrySchema(many=True))
    @blp.paginate()
    def get(self, task_id: uuid.UUID) -> Any:
        """What happened to the task, oldest first: posted, offered, accepted, started,
        completed, feedback and thanks. For the volunteer, the poster and the care team."""
        actor = current_actor()
        return services.timeline(actor, get_task_history_or_404(actor, task_id))


@blp.route("/members/<uuid:member_id>/thanks")
class MemberThanks(MethodView):
    @blp.response(200, ThanksSchema(many=True))
    @blp.paginate()
    def get(self, member_id: uuid.UUID) -> Any:
        """Thanks a member received, newest first (the member, coordinators and admins)."""
        actor = current_actor()
        member = get_member_or_404(actor, member_id, Action.VIEW_MEMBERS)
        return Rows(
            services.list_thanks(actor, member),
            lambda page: services.present_thanks([row[0] for row in page]),
        )

    @allowed_to(Action.SEND_THANKS)
    @blp.arguments(ThanksCreateSchema)
    @blp.response(201, ThanksSchema)
    def post(self, body: dict[str, Any], member_id: uuid.UUID) -> dict[str, Any]:
        """Send a volunteer a thumbs-up, with an optional note, for a task or in general
        (coordinators and admins); they are told at once."""
        actor = current_actor()
        member = get_member_or_404(actor, member_id, Action.SEND_THANKS)
        thanks = services.send_thanks(actor, member, body["note"], body.get("task_id"))
        return services.present_thanks([thanks])[0]
