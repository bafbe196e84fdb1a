"""The web app's chat pages: the chat on a task's page (list and form, no JavaScript
needed) and the list of chats with unread messages. Same services as the API."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from nyby.chat import services
from nyby.chat.access import get_chat_task_or_404, may_chat
from nyby.core.api import read_page
from nyby.core.db import db
from nyby.core.errors import DomainError, NotFound
from nyby.core.pipeline import accepts_files
from nyby.tasks.models import Task
from nyby.tenancy.resolution import Actor, current_actor
from nyby.web.forms import Form
from nyby.web.views import web

SHOWN = 50


def chat_for(actor: Actor, task: Task, form: Form | None = None) -> dict[str, Any] | None:
    """The chat on the task's page, for those who take part in it (None for anyone
    else). Showing it is reading it: what was unread is marked read."""
    if not may_chat(actor, task):
        return None
    shown, total = services.recent(actor, task, SHOWN)
    state = services.state(actor, task)
    services.mark_read(actor, task)
    return {"messages": shown, "total": total, "state": state, "form": form or Form()}


@web.post("/t/<tenant>/tasks/<uuid:task_id>/messages")
@accepts_files  # type: ignore[arg-type]
def post_message(task_id: uuid.UUID) -> Any:
    actor = current_actor()
    task = get_chat_task_or_404(actor, task_id)
    body = request.form.get("body", "")
    upload = request.files.get("file")
    if upload is not None and not upload.filename:
        upload = None  # the file input left empty
    try:
        services.post_message(actor, task, body, upload)
    except NotFound:
        raise
    except DomainError as error:
        db.session.rollback()
        form = Form(values={"body": body})
        form.refuse(error, fallback="body")
        from nyby.tasks.views import task_page

        return task_page(task_id, chat_form=form)
    flash(_("Message sent."), "success")
    return redirect(url_for("web.task_page", task_id=task_id, _anchor="chat"), 303)


@web.get("/t/<tenant>/messages")
def unread_chats() -> str:
    """The chats with messages I have not read, the most recent first."""
    actor = current_actor()
    rows, total = read_page(services.my_unread_chats(actor), 0, SHOWN)
    return render_template("web/chat/unread.html", chats=rows, total=total)


def unread_count(actor: Actor) -> int:
    """For the menu."""
    return services.unread_total(actor)["messages"]
