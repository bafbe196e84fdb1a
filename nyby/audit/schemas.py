from __future__ import annotations

from typing import Any

import marshmallow as ma

from nyby.audit.trail import Action, audited_kinds

ACTIONS = [action.value for action in Action]


def _known_kind(value: str) -> None:
    # Read when a request is checked, so models added later are known without a list here.
    if value not in audited_kinds():
        raise ma.ValidationError("Not a kind of object the audit trail records.")


class ChangeSchema(ma.Schema):
    field = ma.fields.String(required=True)
    before = ma.fields.Raw(allow_none=True, metadata={"description": "Null: none, or unknown"})
    after = ma.fields.Raw(allow_none=True)


class AuditEntrySchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    at = ma.fields.AwareDateTime(required=True)
    action = ma.fields.String(
        required=True, metadata={"description": "create, update, delete, read (or a named action)"}
    )
    object_type = ma.fields.String(required=True, metadata={"description": "client, task ..."})
    object_id = ma.fields.String(
        required=True, metadata={"description": "Its id; a link row's ids joined by '/'"}
    )
    actor_membership_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "Null: the system (a job) or no membership"}
    )
    actor_account_id = ma.fields.UUID(allow_none=True)
    actor_name = ma.fields.String(allow_none=True)
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema), required=True)
    request_id = ma.fields.String(allow_none=True)
    job = ma.fields.String(allow_none=True, metadata={"description": "The job that made it"})


class AuditQuerySchema(ma.Schema):
    object_type = ma.fields.String(validate=_known_kind)
    object_id = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    actor_id = ma.fields.UUID(data_key="actor", metadata={"description": "The acting member's id"})
    action = ma.fields.String(validate=ma.validate.Length(min=1, max=32))
    since = ma.fields.AwareDateTime(metadata={"description": "At or after"})
    until = ma.fields.AwareDateTime(metadata={"description": "Before"})

    @ma.validates_schema
    def _in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "since" in data and "until" in data and data["until"] <= data["since"]:
            raise ma.ValidationError("Must be after since.", "until")
