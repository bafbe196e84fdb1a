from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload

PARTS = ["holder", "poster", "coordinator", "former_holder"]


class MessageAttachmentSchema(ma.Schema):
    file_name = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size_bytes = ma.fields.Integer(required=True)
    download_url = ma.fields.String(
        metadata={"description": "GET /messages/{id} only: downloads the file for a few minutes"}
    )
    download_expires_at = ma.fields.AwareDateTime()


class MessageSchema(ma.Schema):
    """A message in a task's chat. Its author shows by display name only."""

    id = ma.fields.UUID(required=True)
    task_id = ma.fields.UUID(required=True)
    author_id = ma.fields.UUID(required=True)
    author_name = ma.fields.String(required=True)
    author_is = ma.fields.String(
        required=True,
        metadata={"enum": PARTS, "description": "Who the author is to the task"},
    )
    mine = ma.fields.Boolean(required=True)
    body = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    attachment = ma.fields.Nested(MessageAttachmentSchema, allow_none=True)


class MessageCreateSchema(ma.Schema):
    """JSON with ``body``, or multipart/form-data with ``body`` and/or ``file``."""

    body = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=4000),
        metadata={"description": "No phone numbers or email addresses: they are refused"},
    )
    file = Upload(
        metadata={
            "description": "A photo or PDF (JPEG, PNG, HEIC, WebP or PDF), at most the "
            "tenant's task_support.chat_attachment_max_mb; the type is read from the content"
        }
    )


class ChatSchema(ma.Schema):
    """Where a task's chat stands for me."""

    task_id = ma.fields.UUID(required=True)
    open = ma.fields.Boolean(required=True, metadata={"description": "New messages allowed"})
    closes_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "null while the task has not ended"}
    )
    unread = ma.fields.Integer(required=True, metadata={"description": "Messages I have not read"})


class UnreadChatSchema(ma.Schema):
    task_id = ma.fields.UUID(required=True)
    title = ma.fields.String(required=True)
    unread = ma.fields.Integer(required=True)
    latest_at = ma.fields.AwareDateTime(required=True)


class UnreadTotalSchema(ma.Schema):
    messages = ma.fields.Integer(required=True, metadata={"description": "Unread, in all"})
    chats = ma.fields.Integer(required=True, metadata={"description": "Chats with any unread"})
