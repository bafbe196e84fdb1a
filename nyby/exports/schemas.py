from __future__ import annotations

from typing import Any

import marshmallow as ma

from nyby.exports.kinds import KINDS
from nyby.exports.models import ExportStatus

STATUSES = [status.value for status in ExportStatus]


def _known_kind(value: str) -> None:
    # Read when a request is checked, so a kind registered after this module counts.
    if value not in KINDS:
        raise ma.ValidationError(f"Must be one of: {', '.join(sorted(KINDS))}.")


class ExportCreateSchema(ma.Schema):
    kind = ma.fields.String(
        required=True,
        validate=_known_kind,
        metadata={"description": "What to export", "example": "tasks"},
    )
    start = ma.fields.Date(
        data_key="from",
        metadata={"description": "From this day (the tenant's local time), included"},
    )
    end = ma.fields.Date(
        data_key="to", metadata={"description": "To this day (the tenant's local time), included"}
    )

    @ma.validates_schema
    def _in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None and end < start:
            raise ma.ValidationError("Must not be before the start.", "to")


class ExportParametersSchema(ma.Schema):
    start = ma.fields.Date(data_key="from", allow_none=True)
    end = ma.fields.Date(data_key="to", allow_none=True)


class ExportSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True)
    parameters = ma.fields.Nested(ExportParametersSchema, required=True)
    status = ma.fields.String(required=True, metadata={"enum": STATUSES})
    rows_done = ma.fields.Integer(required=True)
    rows_total = ma.fields.Integer(allow_none=True, metadata={"description": "Once counted"})
    percent = ma.fields.Integer(required=True, metadata={"description": "0 to 100"})
    error = ma.fields.String(required=True, metadata={"description": "Why it failed, if it did"})
    requested_by = ma.fields.UUID(required=True, metadata={"description": "Membership id"})
    requested_by_name = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    started_at = ma.fields.AwareDateTime(allow_none=True)
    finished_at = ma.fields.AwareDateTime(allow_none=True)
    file_name = ma.fields.String(allow_none=True)
    size_bytes = ma.fields.Integer(allow_none=True)
    download_url = ma.fields.String(
        allow_none=True,
        metadata={"description": "When done: downloads the CSV until download_expires_at only"},
    )
    download_expires_at = ma.fields.AwareDateTime(allow_none=True)
