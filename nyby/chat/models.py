from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, new_id, utcnow
from nyby.tenancy.models import TenantScoped, tenant_fk


class TaskMessage(TenantScoped, Base):
    """One message in a task's chat: text, a file (a photo of a receipt, a letter), or both.

    The file's bytes live in file storage under ``storage_key`` (inside the tenant's own
    prefix); the columns say what they are. Authors are shown by display name only.
    """

    __tablename__ = "task_messages"
    __audited__ = True
    __table_args__ = (
        tenant_fk(["task_id"], "tasks", ondelete="CASCADE"),
        tenant_fk(["author_id"], "memberships"),
        Index("ix_task_messages_task", "tenant_id", "task_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    task_id: Mapped[uuid.UUID]
    author_id: Mapped[uuid.UUID]
    body: Mapped[str] = mapped_column(Text, default="")
    file_name: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None]
    storage_key: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskChatRead(TenantScoped, Base):
    """How far one person has read a task's chat: what came after is unread for them.

    A coordinator has a row once they open or write in a chat; from then on they count
    among its people (unread counts, notices of new messages).
    """

    __tablename__ = "task_chat_reads"
    __table_args__ = (
        tenant_fk(["task_id"], "tasks", ondelete="CASCADE"),
        tenant_fk(["membership_id"], "memberships", ondelete="CASCADE"),
        Index("ix_task_chat_reads_member", "tenant_id", "membership_id"),
    )

    task_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    membership_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    last_read_at: Mapped[datetime] = mapped_column(default=utcnow)
