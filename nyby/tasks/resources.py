from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint, Rows
from nyby.core.pipeline import accepts_files
from nyby.tasks import attachments, browse, series, services
from nyby.tasks.access import get_attachment_or_404, get_task_files_or_404, get_task_or_404
from nyby.tasks.browse import Search
from nyby.tasks.schemas import (
    AttachmentUploadSchema,
    CompletionSchema,
    NearQuerySchema,
    NoteSchema,
    ReasonSchema,
    SeriesCreateSchema,
    SeriesSchema,
    StreetGroupSchema,
    TakeGroupSchema,
    TaskAttachmentLinkSchema,
    TaskAttachmentSchema,
    TaskCreateSchema,
    TaskEventSchema,
    TaskQuerySchema,
    TaskSchema,
)
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "tasks",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="Care tasks: posting, taking and doing them.",
)


@blp.route("/tasks")
class TaskList(MethodView):
    @blp.arguments(TaskQuerySchema, location="query")
    @blp.response(200, TaskSchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any]) -> Any:
        """The care team sees every task; volunteers and staff see the ones they hold."""
        return services.list_tasks(current_actor(), **query)

    @allowed_to(Action.POST_TASKS)
    @blp.arguments(TaskCreateSchema)
    @blp.response(201, TaskSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Post a task for a client (or a place) in one of the tenant's roles."""
        actor = current_actor()
        return services.present(actor, services.post_task(actor, data))


@blp.route("/tasks/open")
class OpenTasksNear(MethodView):
    @blp.arguments(NearQuerySchema, location="query")
    @blp.response(200, TaskSchema(many=True))
    @blp.paginate()
    def get(self, search: Search) -> Any:
        """Open tasks I may take near a point or my home area, nearest (or soonest due)
        first, filtered by role, category and when I am free.

        Only the area is shown until a task is taken.
        """
        return browse.open_tasks_near(current_actor(), search)


@blp.route("/tasks/open/street-groups")
class StreetGroups(MethodView):
    @blp.arguments(NearQuerySchema, location="query")
    @blp.response(200, StreetGroupSchema(many=True))
    @blp.paginate()
    def get(self, search: Search) -> Any:
        """Open tasks near me that share a street (an H3 cell about 200 m across),
        two or more to a group, nearest group first: a street champion takes them together."""
        return browse.street_groups(current_actor(), search)


@blp.route("/tasks/street-groups/accept")
class TakeStreetGroup(MethodView):
    @blp.arguments(TakeGroupSchema)
    @blp.response(200, TaskSchema(many=True))
    @blp.alt_response(403, description="Not qualified for one of the tasks' roles")
    @blp.alt_response(409, description="One of them was taken meanwhile: none was taken")
    def post(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """Take every listed task of one street group at once: all of them, or none."""
        actor = current_actor()
        tasks = browse.take_street_group(actor, body["task_ids"])
        return services.present_all(actor, tasks)


@blp.route("/tasks/<uuid:task_id>")
class TaskDetail(MethodView):
    @blp.response(200, TaskSchema)
    def get(self, task_id: uuid.UUID) -> dict[str, Any]:
        actor = current_actor()
        return services.present(actor, get_task_or_404(actor, task_id))


@blp.route("/tasks/<uuid:task_id>/events")
class Events(MethodView):
    @blp.response(200, TaskEventSchema(many=True))
    @blp.paginate()
    def get(self, task_id: uuid.UUID) -> Any:
        """The task's history: every change of status, who made it and when, oldest first."""
        actor = current_actor()
        return services.history(actor, get_task_or_404(actor, task_id))


@blp.route("/tasks/<uuid:task_id>/accept")
class Accept(MethodView):
    @blp.response(200, TaskSchema)
    @blp.alt_response(403, description="Not qualified: the missing checks are named")
    @blp.alt_response(409, description="Someone else took it first, or it is not open")
    def post(self, task_id: uuid.UUID) -> dict[str, Any]:
        """Take the task. When many accept at once, exactly one wins."""
        actor = current_actor()
        task = get_task_or_404(actor, task_id, to_take=True)
        return services.present(actor, services.accept(actor, task))


@blp.route("/tasks/<uuid:task_id>/start")
class Start(MethodView):
    @blp.response(200, TaskSchema)
    def post(self, task_id: uuid.UUID) -> dict[str, Any]:
        actor = current_actor()
        return services.present(actor, services.start(actor, get_task_or_404(actor, task_id)))


@blp.route("/tasks/<uuid:task_id>/complete")
class Complete(MethodView):
    @blp.arguments(CompletionSchema)
    @blp.response(200, TaskSchema)
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> dict[str, Any]:
        """Done: with the minutes it took and a short note for the poster."""
        actor = current_actor()
        task = get_task_or_404(actor, task_id)
        return services.present(
            actor, services.complete(actor, task, body["minutes_spent"], body["outcome_note"])
        )


@blp.route("/tasks/<uuid:task_id>/release")
class Release(MethodView):
    @blp.arguments(NoteSchema, required=False)
    @blp.response(200, TaskSchema)
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> dict[str, Any]:
        """Give the task back (it opens again for others)."""
        actor = current_actor()
        task = get_task_or_404(actor, task_id)
        return services.present(actor, services.release(actor, task, body.get("note", "")))


@blp.route("/tasks/<uuid:task_id>/decline")
class Decline(MethodView):
    @blp.response(204)
    def post(self, task_id: uuid.UUID) -> None:
        """Not for me: never show me this task again."""
        actor = current_actor()
        services.decline(actor, get_task_or_404(actor, task_id))


@blp.route("/tasks/<uuid:task_id>/cancel")
class Cancel(MethodView):
    @allowed_to(Action.POST_TASKS)
    @blp.arguments(ReasonSchema)
    @blp.response(200, TaskSchema)
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> dict[str, Any]:
        actor = current_actor()
        task = get_task_or_404(actor, task_id)
        return services.present(actor, services.cancel(actor, task, body["reason"]))


@blp.route("/tasks/<uuid:task_id>/unmet")
class Unmet(MethodView):
    @allowed_to(Action.POST_TASKS)
    @blp.arguments(ReasonSchema)
    @blp.response(200, TaskSchema)
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> dict[str, Any]:
        """Close an open or expired task that nobody could do, with the reason."""
        actor = current_actor()
        task = get_task_or_404(actor, task_id)
        return services.present(actor, services.close_unmet(actor, task, body["reason"]))


@blp.route("/series")
class SeriesList(MethodView):
    @blp.response(200, SeriesSchema(many=True))
    @blp.paginate()
    def get(self) -> Any:
        """The care team sees every repeat series; volunteers the ones they hold."""
        actor = current_actor()
        return Rows(
            series.list_series(actor),
            lambda page: [series.present_series(actor, row[0]) for row in page],
        )

    @allowed_to(Action.POST_TASKS)
    @blp.arguments(SeriesCreateSchema)
    @blp.response(201, SeriesSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Post a repeating task (weekly shopping, calls three times a week for six
        weeks...). Its visits for the next two weeks exist at once; a job keeps adding."""
        actor = current_actor()
        return series.present_series(actor, series.create_series(actor, data))


@blp.route("/series/<uuid:series_id>")
class SeriesDetail(MethodView):
    @blp.response(200, SeriesSchema)
    def get(self, series_id: uuid.UUID) -> dict[str, Any]:
        actor = current_actor()
        return series.present_series(actor, series.get_series_or_404(actor, series_id))


@blp.route("/series/<uuid:series_id>/accept")
class TakeSeries(MethodView):
    @blp.response(200, SeriesSchema)
    @blp.alt_response(403, description="Not qualified: the missing checks are named")
    @blp.alt_response(409, description="Someone else took it first, or it has ended")
    def post(self, series_id: uuid.UUID) -> dict[str, Any]:
        """Take every visit of the series: the open ones now, each new one as it comes."""
        actor = current_actor()
        taken = series.take_series(actor, series.get_series_or_404(actor, series_id))
        return series.present_series(actor, taken)


@blp.route("/series/<uuid:series_id>/release")
class ReleaseSeries(MethodView):
    @blp.arguments(NoteSchema, required=False)
    @blp.response(200, SeriesSchema)
    def post(self, body: dict[str, Any], series_id: uuid.UUID) -> dict[str, Any]:
        """Give the series back: my visits not yet started open again for others."""
        actor = current_actor()
        found = series.get_series_or_404(actor, series_id)
        return series.present_series(
            actor, series.release_series(actor, found, body.get("note", ""))
        )


@blp.route("/series/<uuid:series_id>/end")
class EndSeries(MethodView):
    @allowed_to(Action.POST_TASKS)
    @blp.arguments(ReasonSchema)
    @blp.response(200, SeriesSchema)
    def post(self, body: dict[str, Any], series_id: uuid.UUID) -> dict[str, Any]:
        """Stop the series: no more visits; those not yet done are cancelled."""
        actor = current_actor()
        found = series.get_series_or_404(actor, series_id)
        return series.present_series(actor, series.end_series(actor, found, body["reason"]))


@blp.route("/tasks/<uuid:task_id>/attachments")
@accepts_files
class TaskAttachments(MethodView):
    @blp.response(200, TaskAttachmentSchema(many=True))
    @blp.paginate()
    def get(self, task_id: uuid.UUID) -> Any:
        """The task's files: for the care team, and for whoever holds the task."""
        actor = current_actor()
        return attachments.list_attachments(actor, get_task_files_or_404(actor, task_id))

    @allowed_to(Action.POST_TASKS, Action.VIEW_ALL_TASKS)
    @blp.arguments(AttachmentUploadSchema, location="files")
    @blp.response(201, TaskAttachmentSchema)
    @blp.alt_response(409, description="The task is finished: nothing more can be attached")
    @blp.alt_response(413, description="The file is larger than the limit")
    def post(self, upload: dict[str, Any], task_id: uuid.UUID) -> Any:
        """Attach a file (multipart/form-data, field ``file``) to a task not yet finished."""
        actor = current_actor()
        task = get_task_files_or_404(actor, task_id)
        return attachments.attach(actor, task, upload["file"])


@blp.route("/attachments/<uuid:attachment_id>")
class TaskAttachmentDetail(MethodView):
    @blp.response(200, TaskAttachmentLinkSchema)
    def get(self, attachment_id: uuid.UUID) -> dict[str, Any]:
        """An attachment, with a link that downloads it for the next few minutes."""
        actor = current_actor()
        return attachments.present(get_attachment_or_404(actor, attachment_id), with_link=True)

    @allowed_to(Action.POST_TASKS, Action.VIEW_ALL_TASKS)
    @blp.response(204)
    def delete(self, attachment_id: uuid.UUID) -> None:
        """Remove the attachment; its file is deleted once the removal has committed."""
        actor = current_actor()
        attachments.remove(actor, get_attachment_or_404(actor, attachment_id))
