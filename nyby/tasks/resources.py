from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint
from nyby.tasks import services
from nyby.tasks.access import get_task_or_404
from nyby.tasks.schemas import (
    CompletionSchema,
    NearQuerySchema,
    NoteSchema,
    ReasonSchema,
    TaskCreateSchema,
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
    def get(self, query: dict[str, Any]) -> Any:
        """Open tasks I may take near a point, nearest (or soonest due) first.

        Only the area is shown until a task is taken.
        """
        return services.open_tasks_near(current_actor(), **query)


@blp.route("/tasks/<uuid:task_id>")
class TaskDetail(MethodView):
    @blp.response(200, TaskSchema)
    def get(self, task_id: uuid.UUID) -> dict[str, Any]:
        actor = current_actor()
        return services.present(actor, get_task_or_404(actor, task_id))


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
