"""The web app's task pages: browsing near me, a task's page and its buttons, my tasks,
posting a task. Each page reads and acts through the same services as the API."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import h3
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from nyby.auth.permissions import Action
from nyby.clients.access import get_client_or_404
from nyby.configuration.posting import roles_to_post
from nyby.core.api import read_page
from nyby.core.db import utcnow
from nyby.core.errors import DomainError, NotFound
from nyby.tasks import browse, series, services
from nyby.tasks.access import get_task_or_404
from nyby.tasks.models import Task, TaskSeries, TaskStatus
from nyby.tasks.schemas import (
    CompletionSchema,
    NearQuerySchema,
    SeriesCreateSchema,
    TaskCreateSchema,
)
from nyby.tenancy.resolution import Actor, current_actor
from nyby.web.forms import Form, local_input, read_form
from nyby.web.views import act, web

PAGE_SIZE = 20
RADII_KM = (1, 2, 5, 10, 20)

STATUS_NAMES = {
    TaskStatus.OPEN: lazy_gettext("Open"),
    TaskStatus.ASSIGNED: lazy_gettext("Taken"),
    TaskStatus.IN_PROGRESS: lazy_gettext("In progress"),
    TaskStatus.COMPLETED: lazy_gettext("Completed"),
    TaskStatus.CANCELLED: lazy_gettext("Cancelled"),
    TaskStatus.EXPIRED: lazy_gettext("Expired"),
    TaskStatus.UNMET: lazy_gettext("Closed as unmet"),
}
# How a task repeats, in words, as the RRULE the series service reads.
REPEATS = {
    "": lazy_gettext("Once"),
    "FREQ=WEEKLY": lazy_gettext("Every week"),
    "FREQ=WEEKLY;INTERVAL=2": lazy_gettext("Every two weeks"),
    "FREQ=DAILY": lazy_gettext("Every day"),
}


def _page_of(result: Any) -> dict[str, Any]:
    """The page of a listing asked for (``?page=N``), with what the pager shows."""
    asked = request.args.get("page", "1")
    number = max(1, int(asked)) if asked.isdigit() and len(asked) < 7 else 1
    rows, total = read_page(result, (number - 1) * PAGE_SIZE, PAGE_SIZE)
    return {"tasks": rows, "total": total, "page": number, "pages": max(1, -(-total // PAGE_SIZE))}


@web.get("/t/<tenant>/tasks/near")
def tasks_near() -> Any:
    """Open tasks I may take, nearest first: from my position (the browser's, if I let
    it), else from my home area; as a list and on a map of their rough areas."""
    actor = current_actor()
    actor.require(Action.TAKE_TASKS)
    search, form = read_form(NearQuerySchema(), request.args, actor.tenant.timezone)
    found: dict[str, Any] = {"tasks": [], "total": 0, "page": 1, "pages": 1}
    if search is not None:
        try:
            found = _page_of(browse.open_tasks_near(actor, search))
        except DomainError as error:  # no point given and no home area set
            form.refuse(error, fallback="latitude")
    areas = [
        {
            "url": url_for("web.task_page", task_id=t["id"]),
            "title": t["title"],
            "at": h3.cell_to_latlng(t["area_cell"]),
        }
        for t in found["tasks"]
        if t.get("area_cell")
    ]
    return render_template(
        "web/tasks/near.html",
        **found,
        form=form,
        radii=RADII_KM,
        roles=browse.roles_to_take(actor, utcnow()),
        areas=areas,
        status_names=STATUS_NAMES,
    )


@web.get("/t/<tenant>/tasks/streets")
def street_groups() -> Any:
    """Open tasks near me that share a street: a street champion takes them together."""
    actor = current_actor()
    actor.require(Action.TAKE_TASKS)
    search, form = read_form(NearQuerySchema(), request.args, actor.tenant.timezone)
    groups: list[dict[str, Any]] = []
    if search is not None:
        try:
            groups = browse.street_groups(actor, search)
        except DomainError as error:
            form.refuse(error, fallback="latitude")
    return render_template(
        "web/tasks/streets.html", groups=groups, form=form, status_names=STATUS_NAMES
    )


@web.post("/t/<tenant>/tasks/streets/accept")
def take_street_group() -> Response:
    actor = current_actor()
    ids = []
    for value in request.form.getlist("task_id"):
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    return act(
        lambda: browse.take_street_group(actor, ids),
        _("The whole street group is yours. Thank you!"),
        url_for("web.my_tasks"),
    )


@web.get("/t/<tenant>/tasks/mine")
def my_tasks() -> str:
    """What I hold now, the repeat series I hold, what I have done, and my hours."""
    actor = current_actor()
    actor.require(Action.TAKE_TASKS)
    rows, _total = read_page(services.list_tasks(actor), 0, 100)
    current = [t for t in rows if t["status"] in {TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS}]
    done = [t for t in rows if t not in current]
    held, _count = read_page(series.list_series(actor), 0, 50)
    return render_template(
        "web/tasks/mine.html",
        current=current,
        done=done,
        held=held,
        activity=services.activity(actor),
        repeats=REPEATS,
        status_names=STATUS_NAMES,
    )


@web.post("/t/<tenant>/series/<uuid:series_id>/release")
def release_series(series_id: uuid.UUID) -> Response:
    actor = current_actor()
    note = request.form.get("note", "")[:2000]
    return act(
        lambda: series.release_series(actor, series.get_series_or_404(actor, series_id), note),
        _("You gave the series back; the poster has been told."),
        url_for("web.my_tasks"),
    )


@web.get("/t/<tenant>/tasks")
def all_tasks() -> str:
    """The care team's view of every task, by status."""
    actor = current_actor()
    actor.require(Action.VIEW_ALL_TASKS)
    status = request.args.get("status") or None
    if status not in {None, *TaskStatus}:
        status = None
    return render_template(
        "web/tasks/list.html",
        **_page_of(services.list_tasks(actor, status)),
        status=status,
        status_names=STATUS_NAMES,
    )


@web.get("/t/<tenant>/tasks/<uuid:task_id>")
def task_page(
    task_id: uuid.UUID, completion: Form | None = None, chat_form: Form | None = None
) -> Any:
    from nyby.chat.views import chat_for
    from nyby.escalations.views import contact_for

    actor = current_actor()
    task = get_task_or_404(actor, task_id)
    view = services.present(actor, task)
    history: list[Any] = []
    if actor.can(Action.VIEW_ALL_TASKS) or task.assignee_id == actor.membership.id:
        history, _total = read_page(services.history(actor, task), 0, 100)
    return render_template(
        "web/tasks/task.html",
        task=view,
        area=h3.cell_to_latlng(task.area_cell) if task.area_cell else None,
        holds=task.assignee_id == actor.membership.id,
        may_take=actor.can(Action.TAKE_TASKS) and task.status == TaskStatus.OPEN,
        care_team=actor.can(Action.VIEW_ALL_TASKS),
        history=history,
        completion=completion or Form(),
        status_names=STATUS_NAMES,
        series=_series_of(actor, task),
        repeats=REPEATS,
        chat=chat_for(actor, task, chat_form),
        contact=contact_for(actor, task),
    ), (422 if (completion and completion.errors) or (chat_form and chat_form.errors) else 200)


def _series_of(actor: Actor, task: Task) -> TaskSeries | None:
    """The task's repeat series, if it has one the caller may see."""
    if task.series_id is None:
        return None
    try:
        return series.get_series_or_404(actor, task.series_id)
    except NotFound:
        return None


@web.post("/t/<tenant>/series/<uuid:series_id>/accept")
def take_series(series_id: uuid.UUID) -> Response:
    """Take every visit of a repeat series, and each new one as it comes."""
    actor = current_actor()
    back = request.form.get("task_id", "")
    return act(
        lambda: series.take_series(actor, series.get_series_or_404(actor, series_id)),
        _("Every visit of this series is yours. Thank you!"),
        url_for("web.my_tasks") if not back else url_for("web.task_page", task_id=back),
    )


def _back(task_id: uuid.UUID) -> str:
    return url_for("web.task_page", task_id=task_id)


@web.post("/t/<tenant>/tasks/<uuid:task_id>/accept")
def accept_task(task_id: uuid.UUID) -> Response:
    actor = current_actor()
    return act(
        lambda: services.accept(actor, get_task_or_404(actor, task_id, to_take=True)),
        _("The task is yours. Thank you!"),
        _back(task_id),
    )


@web.post("/t/<tenant>/tasks/<uuid:task_id>/decline")
def decline_task(task_id: uuid.UUID) -> Response:
    actor = current_actor()
    return act(
        lambda: services.decline(actor, get_task_or_404(actor, task_id)),
        _("You will not see this task again."),
        url_for("web.tasks_near"),
    )


@web.post("/t/<tenant>/tasks/<uuid:task_id>/start")
def start_task(task_id: uuid.UUID) -> Response:
    actor = current_actor()
    return act(
        lambda: services.start(actor, get_task_or_404(actor, task_id)),
        _("Started. Complete it here when you are done."),
        _back(task_id),
    )


@web.post("/t/<tenant>/tasks/<uuid:task_id>/release")
def release_task(task_id: uuid.UUID) -> Response:
    actor = current_actor()
    note = request.form.get("note", "")[:2000]
    return act(
        lambda: services.release(actor, get_task_or_404(actor, task_id), note),
        _("You gave the task back; the poster has been told."),
        url_for("web.my_tasks"),
    )


@web.post("/t/<tenant>/tasks/<uuid:task_id>/complete")
def complete_task(task_id: uuid.UUID) -> Any:
    actor = current_actor()
    body, form = read_form(CompletionSchema(), request.form, actor.tenant.timezone)
    if body is None:
        return task_page(task_id, completion=form)
    return act(
        lambda: services.complete(
            actor,
            get_task_or_404(actor, task_id),
            body["minutes_spent"],
            body["outcome_note"],
        ),
        _("Completed. Thank you for your help!"),
        _back(task_id),
    )


@web.route("/t/<tenant>/tasks/new", methods=["GET", "POST"])
def post_task() -> Any:
    """A task in a few fields: for whom, which role, what, and when; once or repeating."""
    actor = current_actor()
    actor.require(Action.POST_TASKS)
    form, status = Form(values=_copy_of(actor, request.args.get("from", ""))), 200
    client_id = request.values.get("client_id") or form.value("client_id")
    client = None
    if client_id:
        try:
            client = get_client_or_404(actor, uuid.UUID(client_id), Action.VIEW_CLIENTS)
        except ValueError:
            client = None
    if request.method == "POST":
        repeat = request.form.get("repeat", "")
        schema = SeriesCreateSchema() if repeat in REPEATS and repeat else TaskCreateSchema()
        fields = request.form.copy()
        if repeat:
            fields["rrule"] = repeat
        data, form = read_form(schema, fields, actor.tenant.timezone)
        if data is not None:
            try:
                if repeat:
                    made = series.create_series(actor, data)
                    upcoming = series.present_series(actor, made)["upcoming"]
                    target = _back(upcoming[0]["id"]) if upcoming else url_for("web.all_tasks")
                else:
                    target = _back(services.post_task(actor, data).id)
            except DomainError as error:
                form.refuse(error)
            else:
                flash(
                    _("Your task is posted. You will see here when someone takes it."),
                    "success draft:new-task",
                )
                return redirect(target, 303)
        status = 422
    return render_template(
        "web/tasks/new.html",
        form=form,
        client=client,
        roles=roles_to_post(actor),
        repeats=REPEATS,
        defaults=_default_times(actor.tenant.timezone),
    ), status


# What "post it again" copies from an earlier task; the times are chosen afresh.
COPIED = (
    "role_key",
    "title",
    "description",
    "estimated_minutes",
    "what_to_bring",
    "payment_note",
    "client_id",
    "address",
    "latitude",
    "longitude",
)


def _copy_of(actor: Actor, task_id: str) -> dict[str, str]:
    """The fields of an earlier task, to post it again (``?from=<task id>``)."""
    try:
        earlier = services.present(actor, get_task_or_404(actor, uuid.UUID(task_id)))
    except ValueError:
        return {}
    values = {name: "" if earlier[name] is None else str(earlier[name]) for name in COPIED}
    values["role"] = values.pop("role_key")
    if values["client_id"]:  # a client's task goes to where the client is now
        for name in ("address", "latitude", "longitude"):
            values.pop(name)
    return values


def _default_times(timezone: str) -> dict[str, str]:
    start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    return {
        "earliest_start": local_input(start, timezone),
        "due_by": local_input(start + timedelta(days=1), timezone),
    }
