"""Files attached to a task: adding, listing, linking to and removing them.

The business rules of task attachments; like every service, they flush and never
commit. The bytes go to file storage (``nyby.integrations.storage``), which lives
outside the transaction: a file stored for a request that then fails is removed again,
and a removed attachment's file is deleted only once the removal has committed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Select, select
from werkzeug.datastructures import FileStorage

from nyby.core.db import db, new_id, utcnow
from nyby.core.errors import Conflict, Forbidden
from nyby.integrations.storage import check_upload, tenant_files
from nyby.tasks.access import may_manage_attachments
from nyby.tasks.models import Task, TaskAttachment, TaskStatus
from nyby.tenancy.resolution import Actor

# Nothing more happens on these tasks, so nothing more is attached to them.
FINISHED = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.EXPIRED, TaskStatus.UNMET}
)


def list_attachments(actor: Actor, task: Task) -> Select[Any]:
    """Oldest first. ``task`` comes from ``access.get_task_files_or_404``."""
    return (
        select(TaskAttachment)
        .where(TaskAttachment.task_id == task.id)
        .order_by(TaskAttachment.created_at, TaskAttachment.id)
    )


def attach(actor: Actor, task: Task, upload: FileStorage) -> TaskAttachment:
    """Check the file (type from its bytes, size), then record and store it."""
    _require_manager(actor)
    if task.status in FINISHED:
        raise Conflict(f"This task is {task.status}: no more files can be attached.")
    checked = check_upload(upload.stream, upload.filename)
    files = tenant_files()
    attachment = TaskAttachment(
        id=new_id(),
        task_id=task.id,
        uploaded_by=actor.membership.id,
        file_name=checked.file_name,
        content_type=checked.content_type,
        size_bytes=checked.size,
    )
    key = attachment.storage_key = files.key("tasks", task.id, "attachments", attachment.id)
    db.session.add(attachment)
    db.session.flush()
    # Registered before the upload starts: whatever fails from here on, no file is left
    # behind without its row.
    db.on_rollback(lambda: files.delete(key))
    files.put(key, checked.stream, checked.content_type)
    return attachment


def present(attachment: TaskAttachment, *, with_link: bool = False) -> dict[str, Any]:
    """The attachment's metadata; ``with_link`` adds a short-lived download link.

    Only for a caller the access helper has already let see it: the link itself
    checks nothing but its signature and age.
    """
    view = {column.key: getattr(attachment, column.key) for column in TaskAttachment.__table__.c}
    if with_link:
        files = tenant_files()
        view["download_url"] = files.download_url(
            attachment.storage_key,
            file_name=attachment.file_name,
            content_type=attachment.content_type,
        )
        view["download_expires_at"] = utcnow() + timedelta(seconds=files.url_seconds)
    return view


def remove(actor: Actor, attachment: TaskAttachment) -> None:
    """Delete the record now and the file once that has committed."""
    _require_manager(actor)
    files = tenant_files()
    key = attachment.storage_key
    db.session.delete(attachment)
    db.session.flush()
    db.on_commit(lambda: files.delete(key))


def _require_manager(actor: Actor) -> None:
    if not may_manage_attachments(actor):
        raise Forbidden("Your role does not allow this.")
