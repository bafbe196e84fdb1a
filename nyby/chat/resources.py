from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from nyby.chat import services
from nyby.chat.access import get_chat_task_or_404, get_message_or_404
from nyby.chat.schemas import (
    ChatSchema,
    MessageCreateSchema,
    MessageSchema,
    UnreadChatSchema,
    UnreadTotalSchema,
)
from nyby.core.api import Blueprint
from nyby.core.pipeline import accepts_files
from nyby.tenancy.resolution import current_actor

blp = Blueprint(
    "chat",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="A chat per task: its holder, its poster and the coordinators.",
)


@blp.route("/tasks/<uuid:task_id>/chat")
class Chat(MethodView):
    @blp.response(200, ChatSchema)
    def get(self, task_id: uuid.UUID) -> Any:
        """Whether the chat takes new messages, until when, and how many I have not read."""
        actor = current_actor()
        return services.state(actor, get_chat_task_or_404(actor, task_id))


@blp.route("/tasks/<uuid:task_id>/chat/read")
class ChatRead(MethodView):
    @blp.response(200, ChatSchema)
    def post(self, task_id: uuid.UUID) -> Any:
        """Every message so far is read by me."""
        actor = current_actor()
        task = get_chat_task_or_404(actor, task_id)
        services.mark_read(actor, task)
        return services.state(actor, task)


@blp.route("/tasks/<uuid:task_id>/messages")
@accepts_files
class Messages(MethodView):
    @blp.response(200, MessageSchema(many=True))
    @blp.paginate()
    def get(self, task_id: uuid.UUID) -> Any:
        """The task's chat, newest first, for its holder, its poster and coordinators."""
        actor = current_actor()
        return services.messages(actor, get_chat_task_or_404(actor, task_id))

    @blp.arguments(MessageCreateSchema, location="upload")
    @blp.response(201, MessageSchema)
    @blp.alt_response(409, description="The chat closed some days after the task ended")
    @blp.alt_response(413, description="The file is larger than the tenant's limit")
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> Any:
        """Write in the task's chat (JSON, or multipart/form-data with a ``file``); the
        others are told. Phone numbers and email addresses are refused (422)."""
        actor = current_actor()
        task = get_chat_task_or_404(actor, task_id)
        message = services.post_message(actor, task, body["body"], body.get("file"))
        return services.present(actor, task, message, with_link=False)


@blp.route("/messages/<uuid:message_id>")
class MessageDetail(MethodView):
    @blp.response(200, MessageSchema)
    def get(self, message_id: uuid.UUID) -> Any:
        """A message, with a link that downloads its file (if any) for a few minutes."""
        actor = current_actor()
        message, task = get_message_or_404(actor, message_id)
        return services.present(actor, task, message, with_link=True)


@blp.route("/me/chats")
class MyChats(MethodView):
    @blp.response(200, UnreadChatSchema(many=True))
    @blp.paginate()
    def get(self) -> Any:
        """Chats with messages I have not read, most recent first."""
        return services.my_unread_chats(current_actor())


@blp.route("/me/chats/unread")
class MyUnread(MethodView):
    @blp.response(200, UnreadTotalSchema)
    def get(self) -> Any:
        """How many messages I have not read, in how many chats."""
        return services.unread_total(current_actor())
